module edgeproxy

go 1.24

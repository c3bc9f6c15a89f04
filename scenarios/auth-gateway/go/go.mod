module authgw

go 1.24

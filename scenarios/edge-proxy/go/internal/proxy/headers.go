package proxy

import (
	"net"
	"net/http"
	"strings"
)

// hopByHop are the headers that describe one connection, not the message
// (RFC 9110 section 7.6.1), so a proxy never forwards them, in either
// direction.
var hopByHop = []string{
	"Connection",
	"Keep-Alive",
	"Proxy-Authenticate",
	"Proxy-Authorization",
	"Proxy-Connection",
	"Te",
	"Trailer",
	"Transfer-Encoding",
	"Upgrade",
}

// RemoveHopByHop deletes the hop-by-hop headers and every header that the
// Connection header names.
func RemoveHopByHop(h http.Header) {
	for _, value := range h.Values("Connection") {
		for _, name := range strings.Split(value, ",") {
			if name = strings.TrimSpace(name); name != "" {
				h.Del(name)
			}
		}
	}
	for _, name := range hopByHop {
		h.Del(name)
	}
}

// AppendForwardedFor adds the client's IP to X-Forwarded-For, after any
// addresses earlier proxies put there. remoteAddr is "host:port".
func AppendForwardedFor(h http.Header, remoteAddr string) {
	ip, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		ip = remoteAddr
	}
	if prior := h.Values("X-Forwarded-For"); len(prior) > 0 {
		ip = strings.Join(prior, ", ") + ", " + ip
	}
	h.Set("X-Forwarded-For", ip)
}

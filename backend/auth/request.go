package auth

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// The two transports (REST and WebSocket) read credentials and check
// browser origins the same way: through these.

// BearerToken reads an Authorization header value: the token of
// "Bearer <token>", the scheme in any case. present is false when there is
// no header; a header that carries no bearer token gives "" and true, which
// the caller refuses like a bad token.
func BearerToken(header string) (token string, present bool) {
	if header == "" {
		return "", false
	}
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", true
	}
	return strings.TrimSpace(token), true
}

var errOrigin = errors.New("not an origin like https://chat.example.com")

// ParseOrigin reads a web origin (an Origin header, an entry of
// CORS_ORIGINS) into the form origins are compared in: scheme and host in
// lower case, without the scheme's default port and without a trailing
// slash. Only http and https origins are accepted; a path, a query, user
// information or the opaque origin "null" are not origins.
func ParseOrigin(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%q: %w", s, errOrigin)
	}
	scheme := strings.ToLower(u.Scheme)
	if (scheme != "http" && scheme != "https") || u.Hostname() == "" || u.Opaque != "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("%q: %w", s, errOrigin)
	}
	return scheme + "://" + hostPort(scheme, u.Hostname(), u.Port()), nil
}

// hostPort is host[:port] in lower case without the scheme's default port.
func hostPort(scheme, host, port string) string {
	host = strings.ToLower(host)
	if port == "" || port == defaultPort(scheme) {
		if strings.Contains(host, ":") {
			return "[" + host + "]"
		}
		return host
	}
	return net.JoinHostPort(host, port)
}

func defaultPort(scheme string) string {
	if scheme == "https" {
		return "443"
	}
	return "80"
}

// Origins are the browser origins allowed to act with a user's
// credentials besides the server's own: the configured CORS origins.
type Origins struct {
	listed map[string]bool
}

// NewOrigins returns the set of the given origins. Entries that are not
// origins are left out (main refuses them when it reads CORS_ORIGINS).
func NewOrigins(origins []string) Origins {
	o := Origins{listed: make(map[string]bool, len(origins))}
	for _, s := range origins {
		if n, err := ParseOrigin(s); err == nil {
			o.listed[n] = true
		}
	}
	return o
}

// Listed reports whether origin is one of the configured origins.
func (o Origins) Listed(origin string) bool {
	n, err := ParseOrigin(origin)
	return err == nil && o.listed[n]
}

// Allowed reports whether a request to host (its Host header) coming from
// origin (its Origin header) may act with the user's credentials: one
// without an Origin (not a browser), one from the server's own origin, or
// one from a configured origin. Anything else would let a foreign page act
// in the user's name.
func (o Origins) Allowed(origin, host string) bool {
	if origin == "" {
		return true
	}
	n, err := ParseOrigin(origin)
	if err != nil {
		return false
	}
	if o.listed[n] {
		return true
	}
	scheme, own, _ := strings.Cut(n, "://")
	h, port, err := net.SplitHostPort(host)
	if err != nil {
		h, port = strings.Trim(host, "[]"), ""
	}
	return own == hostPort(scheme, h, port)
}

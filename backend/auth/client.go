package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
)

// ClientKey is the rate-limit key of a client address: an IPv4 address as
// is (IPv4-mapped IPv6 too), an IPv6 address by its /64, because one
// subscriber usually gets a whole /64 and could otherwise take a fresh
// address, and a fresh bucket, for every request. Anything unparsable
// shares one key. The result is at most 24 bytes.
func ClientKey(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return "?"
	}
	ip = ip.Unmap()
	if ip.Is4() {
		return ip.String()
	}
	p, _ := ip.WithZone("").Prefix(64) // never fails for a 128-bit address
	return p.String()
}

// maxLimitKeyLen bounds the bytes a limiter keeps per key: longer keys are kept
// as their SHA-256 (64 hex digits), so that memory is bounded by the number
// of keys whatever callers pass in.
const maxLimitKeyLen = 64

func boundKey(key string) string {
	if len(key) <= maxLimitKeyLen {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

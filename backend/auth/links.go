package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"time"
)

// Links signs download paths (app.AttachmentLinks): "?exp=…&sig=…" where
// sig is an HMAC-SHA256 of the path and exp under a key derived from the
// server's signing secret (the JWT secret), so every instance agrees and a
// rotated secret (JWT_SECRET_PREVIOUS) still verifies links it signed.
// The derived key is not the JWT key: a signature of one kind can never
// pass for the other.
type Links struct {
	keys [][]byte // the first signs; all verify
	// TTL is the least a link lives; links end on a whole TTL boundary
	// after it, so that one attachment's link is the same for a while and
	// browsers can cache what it points to.
	TTL time.Duration
}

// LinkTTL is how long a link lives at least (API.md: an hour).
const LinkTTL = time.Hour

// NewLinks derives the link keys from the current secret and, when set,
// the previous one.
func NewLinks(secret, previous []byte) *Links {
	l := &Links{keys: [][]byte{linkKey(secret)}, TTL: LinkTTL}
	if len(previous) > 0 {
		l.keys = append(l.keys, linkKey(previous))
	}
	return l
}

func linkKey(secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("chat attachment links v1"))
	return m.Sum(nil)
}

// Sign returns path with an expiry between TTL and 2×TTL from now and its
// signature.
func (l *Links) Sign(path string, now time.Time) string {
	ttl := int64(l.TTL / time.Second)
	exp := (now.Unix()/ttl + 2) * ttl
	e := strconv.FormatInt(exp, 10)
	return path + "?exp=" + e + "&sig=" + sign(l.keys[0], path, e)
}

// Valid reports whether sig signs path and exp with one of the keys and
// exp is not past.
func (l *Links) Valid(path, exp, sig string, now time.Time) bool {
	n, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || n < now.Unix() {
		return false
	}
	for _, k := range l.keys {
		if hmac.Equal([]byte(sign(k, path, exp)), []byte(sig)) {
			return true
		}
	}
	return false
}

func sign(key []byte, path, exp string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(path))
	m.Write([]byte{0})
	m.Write([]byte(exp))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

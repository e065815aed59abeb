package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/chatapp/chat/chat"
)

// DefaultAccessTTL is the lifetime of an access token unless configured.
const DefaultAccessTTL = 15 * time.Minute

// MinSecretLen is the shortest HS256 secret accepted: 256 bits, the size of
// the HMAC-SHA256 output (RFC 7518 §3.2).
const MinSecretLen = 32

// TokenConfig configures access tokens.
type TokenConfig struct {
	Secret []byte // at least MinSecretLen bytes; signs and verifies
	// Previous, when set, is the secret being rotated out
	// (JWT_SECRET_PREVIOUS): tokens it signed still verify, matched by
	// their "kid", until they expire. Nothing new is signed with it.
	Previous []byte
	Issuer   string        // "iss", required and checked
	Audience string        // "aud", required and checked
	TTL      time.Duration // 0: DefaultAccessTTL
	Rand     io.Reader     // source of "jti"; nil: crypto/rand
}

// Tokens issues and verifies HS256 access tokens.
type Tokens struct {
	secret   []byte
	kid      string            // KeyID(secret), in the header of every token issued
	keys     map[string][]byte // kid → secret: the current one and the previous
	issuer   string
	audience string
	ttl      time.Duration
	rand     io.Reader

	// verified remembers the claims of tokens whose signature and claims
	// have been checked, so that a client's next requests with the same
	// token skip the parse (the JSON decoding of the claims was 9 % of the
	// history endpoint's CPU). Only genuine tokens get in, the times are
	// checked again on every use, and the map is bounded.
	mu       sync.Mutex
	verified map[string]verifiedToken // guarded by mu
}

// maxVerified bounds Tokens.verified; when full, an arbitrary entry goes.
const maxVerified = 8192

type verifiedToken struct {
	Claims
	nbf time.Time // zero: none
}

// check applies the time checks of Verify to a remembered token.
func (v verifiedToken) check(now time.Time) (Claims, error) {
	if now.Before(v.IssuedAt) || (!v.nbf.IsZero() && now.Before(v.nbf)) {
		return Claims{}, errUnauthorized()
	}
	if !now.Before(v.Expires) {
		return Claims{}, errExpired()
	}
	return v.Claims, nil
}

// Claims are what a verified access token says.
type Claims struct {
	UserID int64
	// Session is the token's "sid": the refresh-token family (one login)
	// it was issued for. Ending that session refuses the token.
	Session  string
	IssuedAt time.Time
	Expires  time.Time
}

// accessClaims are the JSON claims of an access token.
type accessClaims struct {
	jwt.RegisteredClaims
	SID string `json:"sid,omitempty"`
}

// NewTokens returns Tokens, refusing a secret shorter than MinSecretLen.
func NewTokens(c TokenConfig) (*Tokens, error) {
	if len(c.Secret) < MinSecretLen {
		return nil, fmt.Errorf("auth: JWT secret must be at least %d bytes, got %d", MinSecretLen, len(c.Secret))
	}
	if c.Issuer == "" || c.Audience == "" {
		return nil, errors.New("auth: JWT issuer and audience are required")
	}
	if c.Previous != nil && len(c.Previous) < MinSecretLen {
		return nil, fmt.Errorf("auth: previous JWT secret must be at least %d bytes, got %d", MinSecretLen, len(c.Previous))
	}
	if c.TTL < 0 {
		return nil, fmt.Errorf("auth: negative access token lifetime %s", c.TTL)
	}
	if c.TTL == 0 {
		c.TTL = DefaultAccessTTL
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	// Copy the secrets so a caller that reuses its buffer cannot change them.
	secret := append([]byte(nil), c.Secret...)
	kid := KeyID(secret)
	keys := map[string][]byte{kid: secret}
	if c.Previous != nil {
		keys[KeyID(c.Previous)] = append([]byte(nil), c.Previous...)
	}
	return &Tokens{
		secret: secret, kid: kid, keys: keys, issuer: c.Issuer, audience: c.Audience, ttl: c.TTL, rand: c.Rand,
		verified: make(map[string]verifiedToken),
	}, nil
}

// KeyID names a signing secret in the "kid" header: the first 9 bytes of
// SHA-256 over a fixed label and the secret, base64url (12 characters).
// The secret has at least 128 bits of entropy, so the hash gives nothing
// away; the label keeps it from being any other use's hash of the secret.
func KeyID(secret []byte) string {
	h := sha256.New()
	h.Write([]byte("chat-jwt-kid\x00"))
	h.Write(secret)
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:9])
}

// key picks the secret that verifies a token by its "kid". A token without
// one was issued before tokens carried it: only the current secret may
// verify it (such tokens are at most one access lifetime old). An unknown
// kid fails: no secret is tried that the token did not name.
func (t *Tokens) key(tok *jwt.Token) (any, error) {
	raw, present := tok.Header["kid"]
	if !present {
		return t.secret, nil
	}
	kid, ok := raw.(string)
	if !ok {
		return nil, errors.New("kid is not a string")
	}
	if k, ok := t.keys[kid]; ok {
		return k, nil
	}
	return nil, errors.New("unknown kid")
}

// Issue returns a signed access token for userID in session (the refresh
// token family, "sid") valid from now for the configured lifetime.
func (t *Tokens) Issue(userID int64, session string, now time.Time) (string, time.Duration, error) {
	if session == "" {
		return "", 0, errors.New("auth: an access token needs a session")
	}
	jti := make([]byte, 16)
	if _, err := io.ReadFull(t.rand, jti); err != nil {
		return "", 0, fmt.Errorf("auth: read jti: %w", err)
	}
	claims := accessClaims{RegisteredClaims: jwt.RegisteredClaims{
		Subject:   strconv.FormatInt(userID, 10),
		Issuer:    t.issuer,
		Audience:  jwt.ClaimStrings{t.audience},
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
		ID:        base64.RawURLEncoding.EncodeToString(jti),
	}, SID: session}
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	tok.Header["kid"] = t.kid
	signed, err := tok.SignedString(t.secret)
	if err != nil {
		return "", 0, fmt.Errorf("auth: sign token: %w", err)
	}
	return signed, t.ttl, nil
}

// Verify returns the claims of a valid token. An expired one fails with
// code "token_expired" (the client refreshes); every other failure with
// "unauthorized", without saying which check failed. Whether its session
// has ended is not the token's to say (app checks it).
func (t *Tokens) Verify(token string, now time.Time) (Claims, error) {
	t.mu.Lock()
	v, ok := t.verified[token]
	t.mu.Unlock()
	if ok {
		return v.check(now)
	}
	var claims accessClaims
	_, err := jwt.ParseWithClaims(token, &claims, t.key,
		// Pinning the method is what stops "alg: none" and key-confusion
		// tokens; the library checks it before calling the key function.
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithIssuer(t.issuer),
		jwt.WithAudience(t.audience),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	if err != nil {
		// v5 checks the signature before the claims, so only a genuine
		// token can be reported as expired.
		if errors.Is(err, jwt.ErrTokenExpired) {
			return Claims{}, errExpired()
		}
		return Claims{}, errUnauthorized()
	}
	// WithIssuedAt checks iat only when it is there: a token without one,
	// or without a session, is not one this server issues.
	if claims.IssuedAt == nil || claims.SID == "" {
		return Claims{}, errUnauthorized()
	}
	id, err := strconv.ParseInt(claims.Subject, 10, 64)
	if err != nil || id <= 0 {
		return Claims{}, errUnauthorized()
	}
	// exp and iat are present (checked above); nbf is optional.
	v = verifiedToken{Claims: Claims{UserID: id, Session: claims.SID, IssuedAt: claims.IssuedAt.Time, Expires: claims.ExpiresAt.Time}}
	if claims.NotBefore != nil {
		v.nbf = claims.NotBefore.Time
	}
	t.mu.Lock()
	if len(t.verified) >= maxVerified {
		for k := range t.verified {
			delete(t.verified, k)
			break
		}
	}
	t.verified[token] = v
	t.mu.Unlock()
	return v.Claims, nil
}

func errExpired() *chat.Error {
	return &chat.Error{Kind: chat.ErrUnauthorized, Code: "token_expired", Message: "The access token has expired."}
}

func errUnauthorized() *chat.Error {
	return chat.Fail(chat.ErrUnauthorized, "The access token is not valid.")
}

package auth

import (
	"crypto/rand"
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
	Secret   []byte        // at least MinSecretLen bytes
	Issuer   string        // "iss", required and checked
	Audience string        // "aud", required and checked
	TTL      time.Duration // 0: DefaultAccessTTL
	Rand     io.Reader     // source of "jti"; nil: crypto/rand
}

// Tokens issues and verifies HS256 access tokens.
type Tokens struct {
	secret   []byte
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
	uid           int64
	iat, nbf, exp time.Time // zero nbf: none
}

// check applies the time checks of Verify to a remembered token.
func (v verifiedToken) check(now time.Time) (int64, error) {
	if now.Before(v.iat) || (!v.nbf.IsZero() && now.Before(v.nbf)) {
		return 0, errUnauthorized()
	}
	if !now.Before(v.exp) {
		return 0, errExpired()
	}
	return v.uid, nil
}

// NewTokens returns Tokens, refusing a secret shorter than MinSecretLen.
func NewTokens(c TokenConfig) (*Tokens, error) {
	if len(c.Secret) < MinSecretLen {
		return nil, fmt.Errorf("auth: JWT secret must be at least %d bytes, got %d", MinSecretLen, len(c.Secret))
	}
	if c.Issuer == "" || c.Audience == "" {
		return nil, errors.New("auth: JWT issuer and audience are required")
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
	// Copy the secret so a caller that reuses its buffer cannot change it.
	return &Tokens{
		secret: append([]byte(nil), c.Secret...), issuer: c.Issuer, audience: c.Audience, ttl: c.TTL, rand: c.Rand,
		verified: make(map[string]verifiedToken),
	}, nil
}

// Issue returns a signed access token for userID valid from now for the
// configured lifetime.
func (t *Tokens) Issue(userID int64, now time.Time) (string, time.Duration, error) {
	jti := make([]byte, 16)
	if _, err := io.ReadFull(t.rand, jti); err != nil {
		return "", 0, fmt.Errorf("auth: read jti: %w", err)
	}
	claims := jwt.RegisteredClaims{
		Subject:   strconv.FormatInt(userID, 10),
		Issuer:    t.issuer,
		Audience:  jwt.ClaimStrings{t.audience},
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
		ID:        base64.RawURLEncoding.EncodeToString(jti),
	}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.secret)
	if err != nil {
		return "", 0, fmt.Errorf("auth: sign token: %w", err)
	}
	return signed, t.ttl, nil
}

// Verify returns the user id of a valid token and when it was issued (its
// "iat", whole seconds). An expired one fails with code
// "token_expired" (the client refreshes); every other failure with
// "unauthorized", without saying which check failed.
func (t *Tokens) Verify(token string, now time.Time) (int64, time.Time, error) {
	t.mu.Lock()
	v, ok := t.verified[token]
	t.mu.Unlock()
	if ok {
		uid, err := v.check(now)
		return uid, v.iat, err
	}
	var claims jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(token, &claims,
		func(*jwt.Token) (any, error) { return t.secret, nil },
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
			return 0, time.Time{}, errExpired()
		}
		return 0, time.Time{}, errUnauthorized()
	}
	id, err := strconv.ParseInt(claims.Subject, 10, 64)
	if err != nil || id <= 0 {
		return 0, time.Time{}, errUnauthorized()
	}
	// The options above make exp and iat present; nbf is optional.
	v = verifiedToken{uid: id, iat: claims.IssuedAt.Time, exp: claims.ExpiresAt.Time}
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
	return id, v.iat, nil
}

func errExpired() *chat.Error {
	return &chat.Error{Kind: chat.ErrUnauthorized, Code: "token_expired", Message: "The access token has expired."}
}

func errUnauthorized() *chat.Error {
	return &chat.Error{Kind: chat.ErrUnauthorized, Code: "unauthorized", Message: "The access token is not valid."}
}

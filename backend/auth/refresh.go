package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
)

// refreshTokenBytes is the entropy of a refresh token: 256 bits, beyond any
// guessing even without rate limits.
const refreshTokenBytes = 32

// NewRefreshToken returns a fresh opaque refresh token (32 random bytes,
// unpadded base64url) and the hash to store in its place. random nil means
// crypto/rand.
func NewRefreshToken(random io.Reader) (token, hash string, err error) {
	b, err := randomBytes(random, refreshTokenBytes)
	if err != nil {
		return "", "", fmt.Errorf("auth: new refresh token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashRefreshToken(token), nil
}

// HashRefreshToken returns the SHA-256 of token in hex. A plain hash (no salt,
// no slow KDF) is enough because the token carries 256 random bits, and it
// lets the store find a token by its hash with one indexed lookup.
func HashRefreshToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NewFamilyID returns a random id for a new refresh token family (one login).
func NewFamilyID(random io.Reader) (string, error) {
	b, err := randomBytes(random, 16)
	if err != nil {
		return "", fmt.Errorf("auth: new token family: %w", err)
	}
	return hex.EncodeToString(b), nil
}

func randomBytes(random io.Reader, n int) ([]byte, error) {
	if random == nil {
		random = rand.Reader
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(random, b); err != nil {
		return nil, err
	}
	return b, nil
}

package auth

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode"
)

// MinSecretBits is the least estimated entropy of a configured signing
// secret: 128 bits, what HMAC-SHA256's security is usually rated at against
// guessing.
const MinSecretBits = 128

// exampleSecrets are published values that anyone may try first: this
// repository's own placeholders and the usual tutorial ones. Compared
// ignoring case and surrounding space.
var exampleSecrets = []string{
	"change-me-to-at-least-32-random-bytes-0000000000", // .env.example before it was emptied
	"secret",
	"changeme",
	"change-me",
	"your-256-bit-secret",                    // jwt.io's HS256 example
	"a-string-secret-at-least-256-bits-long", // jwt.io's later HS256 example
	"your-secret-key",
	"your_jwt_secret",
	"supersecret",
	"mysecret",
	"jwt-secret",
	"jwtsecret",
	"secretkey",
}

// ErrWeakSecret is what CheckSecret's errors wrap.
var ErrWeakSecret = errors.New("weak secret")

// CheckSecret refuses a configured signing secret that an attacker could
// guess: one containing "change-me" (a placeholder left in), a published
// example, or one with fewer than MinSecretBits of estimated entropy
// (EstimateBits). Generated secrets are random and not checked here.
func CheckSecret(secret []byte) error {
	s := strings.ToLower(strings.TrimSpace(string(secret)))
	if strings.Contains(s, "change-me") || strings.Contains(s, "changeme") {
		return fmt.Errorf("%w: it is a placeholder (contains %q); generate one, e.g. openssl rand -base64 48", ErrWeakSecret, "change-me")
	}
	for _, ex := range exampleSecrets {
		if s == ex {
			return fmt.Errorf("%w: it is a published example; generate one, e.g. openssl rand -base64 48", ErrWeakSecret)
		}
	}
	if bits := EstimateBits(string(secret)); bits < MinSecretBits {
		return fmt.Errorf("%w: about %.0f bits of entropy, at least %d needed; generate one, e.g. openssl rand -base64 48", ErrWeakSecret, bits, MinSecretBits)
	}
	return nil
}

// EstimateBits estimates the entropy of s, in bits, as the smaller of two
// upper bounds, each of which alone is fooled by some weak secret:
//
//   - character classes: length × log2(size of the alphabet the classes in
//     use span: 26 lower-case letters, 26 upper-case, 10 digits, 33 ASCII
//     symbols and space, and 128 for anything else). This is the most a
//     secret of that length over that alphabet can hold, so a short one
//     fails however random it looks ("Tr0ub4dor&3" ≈ 72 bits).
//   - Shannon: length × the empirical entropy per character of s itself,
//     −Σ p·log2(p) over the frequencies of its characters. Repetition and
//     small vocabularies score low ("aaaa…" is 0 bits, "abab…" 1 bit per
//     character), which the class bound cannot see.
//
// Neither detects dictionary words or keyboard walks, so the bound is
// generous to human-made secrets; it reliably refuses short, repetitive and
// low-variety ones. 64 hex digits score ≈ 250 bits, 48 random bytes in
// base64 ≈ 350, 32 hex digits (exactly 128 random bits) usually just below
// 128 because an empirical estimate of a short sample runs low.
func EstimateBits(s string) float64 {
	var lower, upper, digit, symbol, other bool
	counts := map[rune]int{}
	n := 0
	for _, r := range s {
		n++
		counts[r]++
		switch {
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= '0' && r <= '9':
			digit = true
		case r < unicode.MaxASCII && unicode.IsPrint(r):
			symbol = true
		default:
			other = true
		}
	}
	if n == 0 {
		return 0
	}
	pool := 0
	for _, c := range []struct {
		in   bool
		size int
	}{{lower, 26}, {upper, 26}, {digit, 10}, {symbol, 33}, {other, 128}} {
		if c.in {
			pool += c.size
		}
	}
	classBits := float64(n) * math.Log2(float64(pool))

	shannon := 0.0
	for _, c := range counts {
		p := float64(c) / float64(n)
		shannon -= p * math.Log2(p)
	}
	return math.Min(classBits, shannon*float64(n))
}

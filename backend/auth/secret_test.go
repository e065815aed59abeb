package auth_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/chatapp/chat/auth"
	"github.com/chatapp/chat/chat"
)

func TestCheckSecret(t *testing.T) {
	tests := []struct {
		name   string
		secret string
		ok     bool
	}{
		{"env example placeholder", "change-me-to-at-least-32-random-bytes-0000000000", false},
		{"any change-me", "Xq9#change-me#Lw2$Pz7!Rt5%Vb8&Nm3*Kd6@Hs4^", false},
		{"jwt.io example", "your-256-bit-secret", false},
		{"jwt.io example, other case", "  Your-256-Bit-Secret ", false},
		{"secret", "secret", false},
		{"changeme", "changeme", false},
		{"long but repetitive", strings.Repeat("ab", 40), false},
		{"32 bytes of one letter", strings.Repeat("s", 32), false},
		{"short mixed", "Tr0ub4dor&3", false},
		{"openssl rand -hex 32", "8f1c2a9e4b7d3065f2e1a8c94d7b6e30a5f9c2d18e7b4a6053c9e2f1d8a7b4c6", true},
		{"openssl rand -base64 48", "q3Vb8+Jr2kXo0Yt7Wm/5Lc9Nf1Hs6Pd4Ga8Ze2Ui0Rb3Tx7Ql5Mv9Ky1Oj6Sw4En8", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := auth.CheckSecret([]byte(tt.secret))
			if tt.ok && err != nil {
				t.Fatalf("refused: %v (estimate %.0f bits)", err, auth.EstimateBits(tt.secret))
			}
			if !tt.ok && !errors.Is(err, auth.ErrWeakSecret) {
				t.Fatalf("accepted (estimate %.0f bits), want ErrWeakSecret", auth.EstimateBits(tt.secret))
			}
		})
	}
}

func TestEstimateBits(t *testing.T) {
	tests := []struct {
		s        string
		min, max float64
	}{
		{"", 0, 0},
		{strings.Repeat("a", 100), 0, 0},       // one symbol: nothing to guess
		{strings.Repeat("ab", 50), 100, 100},   // one bit a character
		{"abcdefghijklmnopqrstuvwxyz", 0, 123}, // class bound: 26 × log2(26) ≈ 122.2
	}
	for _, tt := range tests {
		if got := auth.EstimateBits(tt.s); got < tt.min-0.01 || got > tt.max+0.01 {
			t.Errorf("EstimateBits(%q) = %.2f, want %.0f..%.0f", tt.s, got, tt.min, tt.max)
		}
	}
}

// Secrets for the rotation tests: two distinct random-looking keys.
var (
	oldSecret = []byte("Qm7vX2pL9sT4wZ8cF1nB6hJ3kD5gR0yE")
	newSecret = []byte("uV8aN3xK6mP1qW9zL4tH7cS2jF5bG0rD")
)

func tokensWith(t *testing.T, current, previous []byte) *auth.Tokens {
	t.Helper()
	tk, err := auth.NewTokens(auth.TokenConfig{Secret: current, Previous: previous, Issuer: "chat", Audience: "chat-api"})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// TestTokensKeyRotation: tokens name their key; after a rotation the
// previous secret still verifies the tokens it signed, matched by kid, and
// nothing else.
func TestTokensKeyRotation(t *testing.T) {
	before := tokensWith(t, oldSecret, nil)
	issued, _, err := before.Issue(7, "s1", t0)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := jwt.NewParser().ParseUnverified(issued, &jwt.RegisteredClaims{})
	if err != nil {
		t.Fatal(err)
	}
	if kid, _ := tok.Header["kid"].(string); kid == "" || kid != auth.KeyID(oldSecret) {
		t.Fatalf("kid %v, want %q", tok.Header["kid"], auth.KeyID(oldSecret))
	}
	if auth.KeyID(oldSecret) == auth.KeyID(newSecret) {
		t.Fatal("two secrets share a kid")
	}

	rotated := tokensWith(t, newSecret, oldSecret)
	if id, err := uidOf(rotated.Verify(issued, t0)); err != nil || id != 7 {
		t.Fatalf("token of the previous secret: %d, %v", id, err)
	}
	fresh, _, err := rotated.Issue(8, "s1", t0)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := uidOf(rotated.Verify(fresh, t0)); err != nil || id != 8 {
		t.Fatalf("token of the current secret: %d, %v", id, err)
	}
	// New tokens are signed with the current secret only.
	if _, err := (before.Verify(fresh, t0)); err == nil {
		t.Fatal("a new token verified with the previous secret alone")
	}
	// Once the previous secret is dropped its tokens fail.
	if _, err := tokensWith(t, newSecret, nil).Verify(issued, t0); !errors.Is(err, chat.ErrUnauthorized) {
		t.Fatalf("token of a dropped secret: %v", err)
	}
}

// TestTokensKid: an unknown kid fails even when the signature is the
// current key's; a token without kid (issued before tokens carried one) is
// verified with the current secret only.
func TestTokensKid(t *testing.T) {
	tk := tokensWith(t, newSecret, oldSecret)
	claims := jwt.MapClaims{"sub": "7", "iss": "chat", "aud": "chat-api", "iat": t0.Unix(), "exp": t0.Add(time.Minute).Unix(), "sid": "s1"}
	signKid := func(key []byte, kid any) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
		if kid != nil {
			tok.Header["kid"] = kid
		}
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tests := []struct {
		name  string
		token string
		ok    bool
	}{
		{"current kid", signKid(newSecret, auth.KeyID(newSecret)), true},
		{"previous kid", signKid(oldSecret, auth.KeyID(oldSecret)), true},
		{"unknown kid, current key", signKid(newSecret, "unknown"), false},
		{"kid of the other key", signKid(newSecret, auth.KeyID(oldSecret)), false},
		{"kid not a string", signKid(newSecret, 42), false},
		{"no kid, current key", signKid(newSecret, nil), true},
		{"no kid, previous key", signKid(oldSecret, nil), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := uidOf(tk.Verify(tt.token, t0))
			if tt.ok && (err != nil || id != 7) {
				t.Fatalf("refused: %d, %v", id, err)
			}
			var ce *chat.Error
			if !tt.ok && (!errors.As(err, &ce) || ce.Code != "unauthorized") {
				t.Fatalf("got %d, %v; want unauthorized", id, err)
			}
		})
	}
}

// TestTokensWithoutIat: a genuine token without iat is refused (it used
// to be accepted and make callers dereference a missing time).
func TestTokensWithoutIat(t *testing.T) {
	tk := tokensWith(t, newSecret, nil)
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "7", "iss": "chat", "aud": "chat-api", "exp": t0.Add(time.Minute).Unix()})
	tok.Header["kid"] = auth.KeyID(newSecret)
	s, err := tok.SignedString(newSecret)
	if err != nil {
		t.Fatal(err)
	}
	var ce *chat.Error
	if _, err := (tk.Verify(s, t0)); !errors.As(err, &ce) || ce.Code != "unauthorized" {
		t.Fatalf("token without iat: %v, want unauthorized", err)
	}
}

func TestNewTokensRefusesShortPrevious(t *testing.T) {
	if _, err := auth.NewTokens(auth.TokenConfig{Secret: newSecret, Previous: []byte("short"), Issuer: "i", Audience: "a"}); err == nil {
		t.Fatal("short previous secret accepted")
	}
}

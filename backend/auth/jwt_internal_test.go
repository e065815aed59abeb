package auth

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestVerifiedTokensRemembered: what auth_test.go cannot see from outside.
// A genuine token is remembered after its first verification (and then
// answered without parsing: a remembered entry with a different user id
// is what the next Verify returns), a forged one never is, and the memory
// stays within maxVerified.
func TestVerifiedTokensRemembered(t *testing.T) {
	secret := []byte(strings.Repeat("s", MinSecretLen))
	tk, err := NewTokens(TokenConfig{Secret: secret, Issuer: "chat", Audience: "chat-api"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	tok, _, err := tk.Issue(7, "s1", now)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := uidOf(tk.Verify(tok, now)); err != nil || id != 7 {
		t.Fatalf("Verify = %d, %v", id, err)
	}
	v, ok := tk.verified[tok]
	if !ok || v.UserID != 7 || v.Session != "s1" || !v.Expires.Equal(now.Add(DefaultAccessTTL)) {
		t.Fatalf("remembered %+v %v", v, ok)
	}
	v.UserID = 8
	tk.verified[tok] = v
	if id, _ := uidOf(tk.Verify(tok, now)); id != 8 {
		t.Fatalf("second Verify = %d: the token was parsed again", id)
	}

	forged, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "7", "iss": "chat", "aud": "chat-api", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "sid": "s1",
	}).SignedString([]byte(strings.Repeat("z", MinSecretLen)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (tk.Verify(forged, now)); err == nil {
		t.Fatal("forged token accepted")
	}
	if _, ok := tk.verified[forged]; ok {
		t.Fatal("forged token remembered")
	}

	for i := range maxVerified + 100 {
		tok, _, err := tk.Issue(int64(i+1), "s1", now)
		if err != nil {
			t.Fatal(err)
		}
		if id, err := uidOf(tk.Verify(tok, now)); err != nil || id != int64(i+1) {
			t.Fatalf("token %s: %d %v", strconv.Itoa(i), id, err)
		}
	}
	if n := len(tk.verified); n > maxVerified {
		t.Fatalf("%d tokens remembered, bound %d", n, maxVerified)
	}
}

// uidOf is the user id of Verify's answer.
func uidOf(c Claims, err error) (int64, error) { return c.UserID, err }

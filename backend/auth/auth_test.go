package auth_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/auth"
	"github.com/chatapp/chat/chat"
)

var (
	_ app.PasswordHasher = (*auth.Hasher)(nil)
	_ app.Tokens         = (*auth.Tokens)(nil)
)

// cheap keeps the suite fast; the format and code path are the same.
var cheap = auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func newHasher(t *testing.T, p auth.Argon2Params) *auth.Hasher {
	t.Helper()
	h, err := auth.NewHasher(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHasherRoundTrip(t *testing.T) {
	h := newHasher(t, cheap)
	enc, err := h.Hash("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("not PHC argon2id: %s", enc)
	}
	again, _ := h.Hash("correct horse")
	if again == enc {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
	tests := []struct {
		pw   string
		want bool
	}{{"correct horse", true}, {"correct hors", false}, {"", false}, {"Correct horse", false}}
	for _, tt := range tests {
		ok, err := h.Verify(tt.pw, enc)
		if err != nil || ok != tt.want {
			t.Errorf("Verify(%q) = %v, %v; want %v", tt.pw, ok, err, tt.want)
		}
	}
}

func TestHasherDefaultsAndParamsFromHash(t *testing.T) {
	def := auth.DefaultArgon2Params()
	if def.Memory != 19456 || def.Time != 2 || def.Threads != 1 || def.SaltLen != 16 || def.KeyLen != 32 {
		t.Fatalf("defaults are not OWASP's: %+v", def)
	}
	strong := newHasher(t, def)
	enc, err := strong.Hash("pw-12345")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("encoded %s", enc)
	}
	// A hasher configured differently still verifies: parameters come from the hash.
	ok, err := newHasher(t, cheap).Verify("pw-12345", enc)
	if err != nil || !ok {
		t.Fatalf("verify with other params: %v %v", ok, err)
	}
}

func TestHasherRejectsMalformed(t *testing.T) {
	h := newHasher(t, cheap)
	good, _ := h.Hash("x")
	parts := strings.Split(good, "$")
	tests := map[string]string{
		"empty":        "",
		"bcrypt":       "$2a$10$abcdefghijklmnopqrstuu",
		"argon2i":      strings.Replace(good, "argon2id", "argon2i", 1),
		"version":      strings.Replace(good, "v=19", "v=16", 1),
		"params":       strings.Join([]string{"", parts[1], parts[2], "m=x", parts[4], parts[5]}, "$"),
		"huge memory":  strings.Join([]string{"", parts[1], parts[2], "m=99999999,t=1,p=1", parts[4], parts[5]}, "$"),
		"zero threads": strings.Join([]string{"", parts[1], parts[2], "m=64,t=1,p=0", parts[4], parts[5]}, "$"),
		"bad salt":     strings.Join([]string{"", parts[1], parts[2], parts[3], "!!", parts[5]}, "$"),
		"short key":    strings.Join([]string{"", parts[1], parts[2], parts[3], parts[4], "AAAA"}, "$"),
		"extra part":   good + "$x",
	}
	for name, enc := range tests {
		t.Run(name, func(t *testing.T) {
			ok, err := h.Verify("x", enc)
			if ok || !errors.Is(err, auth.ErrInvalidHash) {
				t.Fatalf("got %v, %v; want ErrInvalidHash", ok, err)
			}
		})
	}
	if _, err := auth.NewHasher(auth.Argon2Params{}, nil); err == nil {
		t.Fatal("zero params accepted")
	}
}

var (
	secret = []byte("0123456789abcdef0123456789abcdef")
	t0     = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
)

func newTokens(t *testing.T) *auth.Tokens {
	t.Helper()
	tk, err := auth.NewTokens(auth.TokenConfig{Secret: secret, Issuer: "chat", Audience: "chat-api"})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestNewTokensRefusesShortSecret(t *testing.T) {
	if _, err := auth.NewTokens(auth.TokenConfig{Secret: secret[:31], Issuer: "i", Audience: "a"}); err == nil {
		t.Fatal("31-byte secret accepted")
	}
	if _, err := auth.NewTokens(auth.TokenConfig{Secret: secret}); err == nil {
		t.Fatal("missing issuer/audience accepted")
	}
}

func TestTokensIssueVerify(t *testing.T) {
	tk := newTokens(t)
	tok, ttl, err := tk.Issue(42, "s1", t0)
	if err != nil {
		t.Fatal(err)
	}
	if ttl != 15*time.Minute {
		t.Fatalf("ttl %s", ttl)
	}
	c, err := tk.Verify(tok, t0.Add(14*time.Minute))
	if err != nil || c.UserID != 42 || c.Session != "s1" || !c.IssuedAt.Equal(t0.Truncate(time.Second)) ||
		!c.Expires.Equal(t0.Add(15*time.Minute).Truncate(time.Second)) {
		t.Fatalf("verify: %+v, %v", c, err)
	}
	var claims jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(tok, &claims); err != nil {
		t.Fatal(err)
	}
	if claims.Subject != "42" || claims.Issuer != "chat" || len(claims.Audience) != 1 || claims.Audience[0] != "chat-api" ||
		claims.ID == "" || !claims.IssuedAt.Equal(t0) || !claims.ExpiresAt.Equal(t0.Add(15*time.Minute)) {
		t.Fatalf("claims %+v", claims)
	}
	tok2, _, _ := tk.Issue(42, "s1", t0)
	var c2 jwt.RegisteredClaims
	_, _, _ = jwt.NewParser().ParseUnverified(tok2, &c2)
	if c2.ID == claims.ID {
		t.Fatal("jti repeats")
	}
}

// uidOf is the user id of Verify's answer.
func uidOf(c auth.Claims, err error) (int64, error) { return c.UserID, err }

// sign makes a token with arbitrary claims and method for the negative cases.
func sign(t *testing.T, m jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTokensRejects(t *testing.T) {
	tk := newTokens(t)
	good := func() jwt.MapClaims {
		return jwt.MapClaims{"sub": "7", "iss": "chat", "aud": "chat-api", "iat": t0.Unix(), "exp": t0.Add(time.Minute).Unix(), "jti": "x", "sid": "s1"}
	}
	with := func(k string, v any) jwt.MapClaims {
		c := good()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	valid := sign(t, jwt.SigningMethodHS256, secret, good())
	parts := strings.Split(valid, ".")

	tests := []struct {
		name  string
		token string
		now   time.Time
		code  string
	}{
		{"expired", valid, t0.Add(2 * time.Minute), "token_expired"},
		{"missing exp", sign(t, jwt.SigningMethodHS256, secret, with("exp", nil)), t0, "unauthorized"},
		{"wrong iss", sign(t, jwt.SigningMethodHS256, secret, with("iss", "evil")), t0, "unauthorized"},
		{"wrong aud", sign(t, jwt.SigningMethodHS256, secret, with("aud", "other")), t0, "unauthorized"},
		{"bad sub", sign(t, jwt.SigningMethodHS256, secret, with("sub", "abc")), t0, "unauthorized"},
		{"zero sub", sign(t, jwt.SigningMethodHS256, secret, with("sub", "0")), t0, "unauthorized"},
		{"no session", sign(t, jwt.SigningMethodHS256, secret, with("sid", nil)), t0, "unauthorized"},
		{"issued in future", sign(t, jwt.SigningMethodHS256, secret, with("iat", t0.Add(time.Hour).Unix())), t0, "unauthorized"},
		{"other secret", sign(t, jwt.SigningMethodHS256, []byte(strings.Repeat("z", 32)), good()), t0, "unauthorized"},
		{"HS512 same secret", sign(t, jwt.SigningMethodHS512, secret, good()), t0, "unauthorized"},
		{"EdDSA", sign(t, jwt.SigningMethodEdDSA, edKey, good()), t0, "unauthorized"},
		{"alg none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, good()), t0, "unauthorized"},
		{"tampered payload", parts[0] + "." + jwtPart(t, `{"sub":"1","iss":"chat","aud":"chat-api","exp":9999999999}`) + "." + parts[2], t0, "unauthorized"},
		{"expired and forged", sign(t, jwt.SigningMethodHS256, []byte(strings.Repeat("z", 32)), good()), t0.Add(time.Hour), "unauthorized"},
		{"garbage", "not.a.jwt", t0, "unauthorized"},
		{"empty", "", t0, "unauthorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := uidOf(tk.Verify(tt.token, tt.now))
			var ce *chat.Error
			if !errors.As(err, &ce) || ce.Code != tt.code || !errors.Is(err, chat.ErrUnauthorized) {
				t.Fatalf("got id %d, err %v; want code %s", id, err, tt.code)
			}
		})
	}
	// The same valid token is reusable until it expires: access tokens are
	// stateless; reuse detection belongs to refresh tokens.
	for range 2 {
		if id, err := uidOf(tk.Verify(valid, t0)); err != nil || id != 7 {
			t.Fatalf("valid token: %d %v", id, err)
		}
	}
}

// TestTokensVerifyRemembered: a token verified once is remembered, and a
// remembered token answers exactly as a fresh verification would at every
// time (before iat and nbf, at and after exp), and a forged token with the
// claims of a remembered one stays refused (jwt_internal_test.go checks
// what is remembered).
func TestTokensVerifyRemembered(t *testing.T) {
	claims := jwt.MapClaims{"sub": "7", "iss": "chat", "aud": "chat-api", "iat": t0.Unix(),
		"nbf": t0.Add(time.Second).Unix(), "exp": t0.Add(time.Minute).Unix(), "jti": "x", "sid": "s1"}
	tok := sign(t, jwt.SigningMethodHS256, secret, claims)
	times := []time.Time{
		t0.Add(-time.Second), t0, t0.Add(time.Second), t0.Add(30 * time.Second),
		t0.Add(time.Minute - time.Nanosecond), t0.Add(time.Minute), t0.Add(time.Hour),
	}
	answer := func(c auth.Claims, err error) string {
		var ce *chat.Error
		if errors.As(err, &ce) {
			return ce.Code
		}
		return strconv.FormatInt(c.UserID, 10) + "@" + strconv.FormatInt(c.IssuedAt.Unix(), 10) + "/" + c.Session
	}
	for _, first := range times {
		tk := newTokens(t)
		_, _ = tk.Verify(tok, first) // remembered if valid at first
		for _, now := range times {
			fresh := newTokens(t)
			want := answer(fresh.Verify(tok, now))
			if got := answer(tk.Verify(tok, now)); got != want {
				t.Errorf("verified at %v, then at %v: %s, want %s", first.Sub(t0), now.Sub(t0), got, want)
			}
		}
	}
	// A forged token with the claims of a remembered one stays forged.
	tk := newTokens(t)
	if id, err := uidOf(tk.Verify(tok, t0.Add(time.Second))); err != nil || id != 7 {
		t.Fatalf("valid token: %d %v", id, err)
	}
	forged := sign(t, jwt.SigningMethodHS256, []byte(strings.Repeat("z", 32)), claims)
	for range 2 {
		if _, err := (tk.Verify(forged, t0.Add(time.Second))); err == nil {
			t.Fatal("forged token accepted")
		}
	}
}

func jwtPart(t *testing.T, s string) string {
	t.Helper()
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

func TestRefreshTokens(t *testing.T) {
	tok, hash, err := auth.NewRefreshToken(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) != 43 || strings.ContainsAny(tok, "+/=") {
		t.Fatalf("token %q is not 32 bytes of unpadded base64url", tok)
	}
	if hash != auth.HashRefreshToken(tok) || len(hash) != 64 || hash == tok {
		t.Fatalf("hash %q", hash)
	}
	tok2, _, _ := auth.NewRefreshToken(nil)
	if tok2 == tok {
		t.Fatal("tokens repeat")
	}
	// Known vector: SHA-256("abc").
	if got := auth.HashRefreshToken("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("sha256 hex %s", got)
	}
	f1, _ := auth.NewFamilyID(nil)
	f2, _ := auth.NewFamilyID(nil)
	if f1 == f2 || len(f1) != 32 {
		t.Fatalf("family ids %q %q", f1, f2)
	}
	if _, _, err := auth.NewRefreshToken(strings.NewReader("short")); err == nil {
		t.Fatal("short random source accepted")
	}
}

func TestLimiter(t *testing.T) {
	l := auth.NewLimiter(60, 3) // one per second, bursts of 3
	steps := []struct {
		at       time.Duration
		key      string
		allow    bool
		waitOver time.Duration
	}{
		{0, "a", true, 0},
		{0, "a", true, 0},
		{0, "a", true, 0},
		{0, "a", false, 999 * time.Millisecond},
		{0, "b", true, 0}, // keys are independent
		{500 * time.Millisecond, "a", false, 499 * time.Millisecond},
		{time.Second, "a", true, 0},
		{time.Second, "a", false, 999 * time.Millisecond},
		{10 * time.Second, "a", true, 0}, // refilled to the burst, not beyond
		{10 * time.Second, "a", true, 0},
		{10 * time.Second, "a", true, 0},
		{10 * time.Second, "a", false, 0},
	}
	for i, s := range steps {
		ok, wait := l.Allow(s.key, t0.Add(s.at))
		if ok != s.allow {
			t.Fatalf("step %d: allow %v, want %v", i, ok, s.allow)
		}
		if !ok && (wait <= s.waitOver || wait > time.Second) {
			t.Fatalf("step %d: wait %s", i, wait)
		}
	}
}

func TestLimiterDisabled(t *testing.T) {
	l := auth.NewLimiter(0, 1)
	for range 100 {
		if ok, _ := l.Allow("k", t0); !ok {
			t.Fatal("rate 0 must not limit")
		}
	}
}

func TestLimiterBoundedMemory(t *testing.T) {
	l := auth.NewLimiter(60, 2).WithMaxKeys(100)
	for i := range 1000 {
		l.Allow(fmt.Sprint("k", i), t0)
	}
	if n := l.Len(); n > 100 {
		t.Fatalf("tracks %d keys, bound 100", n)
	}
	// Idle buckets are forgotten once they would be full again.
	l.Allow("late", t0.Add(time.Hour))
	if n := l.Len(); n != 1 {
		t.Fatalf("after idle sweep %d keys", n)
	}
}

func TestLimiterConcurrent(t *testing.T) {
	l := auth.NewLimiter(60, 50)
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 8 {
		wg.Go(func() {
			for range 20 {
				if ok, _ := l.Allow("shared", t0); ok {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if allowed != 50 {
		t.Fatalf("allowed %d of 160 at one instant, want the burst 50", allowed)
	}
}

package httpapi_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/auth"
	"github.com/chatapp/chat/httpapi"
	"github.com/chatapp/chat/store/storetest"
)

func TestAuthFlow(t *testing.T) {
	forEachStore(t, func(t *testing.T, st app.Store) {
		h := newHarness(t, st, nil)

		r := h.do("POST", "/api/v1/auth/register", "", map[string]string{"username": "alice", "password": "correct horse", "display_name": "  Alice  "})
		expect(t, r, http.StatusCreated, "")
		var reg app.AuthResult
		r.decode(t, &reg)
		if reg.User.ID == 0 || reg.User.Username != "alice" || reg.User.DisplayName != "Alice" || reg.TokenType != "Bearer" ||
			reg.AccessToken == "" || reg.RefreshToken == "" || reg.ExpiresIn <= 0 {
			t.Fatalf("register answered %+v", reg)
		}
		if r.header.Get("Cache-Control") != "no-store" {
			t.Errorf("token answer Cache-Control = %q", r.header.Get("Cache-Control"))
		}
		if strings.Contains(string(r.body), "argon2") || strings.Contains(string(r.body), "correct horse") {
			t.Fatalf("register leaks the password: %s", r.body)
		}

		r = h.do("POST", "/api/v1/auth/register", "", map[string]string{"username": "ALICE", "password": "another one"})
		expect(t, r, http.StatusConflict, "username_taken")
		if r.err(t).Error.Details["username"] == "" {
			t.Errorf("username_taken without details: %s", r.body)
		}

		for _, tc := range []struct {
			name  string
			body  map[string]string
			field string
		}{
			{"short username", map[string]string{"username": "ab", "password": "long enough"}, "username"},
			{"bad characters", map[string]string{"username": "a b!", "password": "long enough"}, "username"},
			{"short password", map[string]string{"username": "bobby", "password": "short"}, "password"},
			{"long display name", map[string]string{"username": "bobby", "password": "long enough", "display_name": strings.Repeat("x", 65)}, "display_name"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := h.do("POST", "/api/v1/auth/register", "", tc.body)
				expect(t, r, http.StatusBadRequest, "validation_failed")
				if r.err(t).Error.Details[tc.field] == "" {
					t.Errorf("no detail for %s: %s", tc.field, r.body)
				}
			})
		}

		r = h.do("POST", "/api/v1/auth/login", "", map[string]string{"username": "Alice", "password": "correct horse"})
		expect(t, r, http.StatusOK, "")
		var login app.AuthResult
		r.decode(t, &login)
		if login.User.ID != reg.User.ID || login.AccessToken == "" || login.RefreshToken == "" {
			t.Fatalf("login answered %+v", login)
		}

		// Wrong password and unknown user answer the same.
		for _, body := range []map[string]string{
			{"username": "alice", "password": "wrong password"},
			{"username": "nobody", "password": "correct horse"},
		} {
			r := h.do("POST", "/api/v1/auth/login", "", body)
			expect(t, r, http.StatusUnauthorized, "invalid_credentials")
		}

		r = h.do("GET", "/api/v1/users/me", login.AccessToken, nil)
		expect(t, r, http.StatusOK, "")

		r = h.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": login.RefreshToken})
		expect(t, r, http.StatusOK, "")
		var refreshed app.AuthResult
		r.decode(t, &refreshed)
		if refreshed.RefreshToken == "" || refreshed.RefreshToken == login.RefreshToken || refreshed.AccessToken == "" {
			t.Fatalf("refresh answered %+v", refreshed)
		}

		// A used refresh token is refused and revokes its family.
		r = h.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": login.RefreshToken})
		expect(t, r, http.StatusUnauthorized, "")
		r = h.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": refreshed.RefreshToken})
		expect(t, r, http.StatusUnauthorized, "")

		r = h.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": "not-a-token"})
		expect(t, r, http.StatusUnauthorized, "")
		r = h.do("POST", "/api/v1/auth/refresh", "", map[string]string{})
		expect(t, r, http.StatusBadRequest, "validation_failed")

		// Logout revokes the family of the presented token.
		r = h.do("POST", "/api/v1/auth/logout", "", map[string]string{"refresh_token": reg.RefreshToken})
		expect(t, r, http.StatusNoContent, "")
		r = h.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": reg.RefreshToken})
		expect(t, r, http.StatusUnauthorized, "")
		r = h.do("POST", "/api/v1/auth/logout", "", map[string]string{})
		expect(t, r, http.StatusBadRequest, "validation_failed")
	})
}

func TestAuthentication(t *testing.T) {
	forEachStore(t, func(t *testing.T, st app.Store) {
		h := newHarness(t, st, nil)
		id, token := h.user("carol")
		expired, _, err := h.tokens.Issue(id, "s1", time.Now().Add(-24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		other, err := auth.NewTokens(auth.TokenConfig{Secret: []byte(strings.Repeat("z", 40)), Issuer: "chat-test", Audience: "chat-test"})
		if err != nil {
			t.Fatal(err)
		}
		forged, _, err := other.Issue(id, "s1", time.Now())
		if err != nil {
			t.Fatal(err)
		}

		for _, tc := range []struct {
			name   string
			header string
			status int
			code   string
		}{
			{"valid", "Bearer " + token, http.StatusOK, ""},
			{"scheme in lower case", "bearer " + token, http.StatusOK, ""},
			{"missing", "", http.StatusUnauthorized, "unauthorized"},
			{"no token", "Bearer ", http.StatusUnauthorized, "unauthorized"},
			{"basic", "Basic YWxpY2U6cGFzc3dvcmQ=", http.StatusUnauthorized, "unauthorized"},
			{"garbage", "Bearer not.a.jwt", http.StatusUnauthorized, "unauthorized"},
			{"other key", "Bearer " + forged, http.StatusUnauthorized, "unauthorized"},
			{"expired", "Bearer " + expired, http.StatusUnauthorized, "token_expired"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := h.send(req{method: "GET", path: "/api/v1/users/me", header: map[string]string{"Authorization": tc.header}})
				expect(t, r, tc.status, tc.code)
				if tc.status == http.StatusUnauthorized && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("401 without WWW-Authenticate: %v", r.header)
				}
			})
		}
	})
}

func TestAuthRateLimit(t *testing.T) {
	forEachStore(t, func(t *testing.T, st app.Store) {
		clk := &clock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
		h := newHarness(t, st, func(o *httpapi.Options) {
			o.AuthLimiter = auth.NewLimiter(2, 2)
			o.Clock = clk.Now
		})
		const a, b = "192.0.2.1:1234", "192.0.2.2:1234"
		login := func(remote string, hdr map[string]string) response {
			return h.send(req{method: "POST", path: "/api/v1/auth/login", remote: remote, header: hdr,
				body: map[string]string{"username": "nobody", "password": "whatever1"}})
		}
		register := func(remote, name string) response {
			return h.send(req{method: "POST", path: "/api/v1/auth/register", remote: remote,
				body: map[string]string{"username": name, "password": "password1"}})
		}

		expect(t, register(a, "dave"), http.StatusCreated, "")
		expect(t, login(a, nil), http.StatusUnauthorized, "invalid_credentials")
		r := login(a, nil)
		expect(t, r, http.StatusTooManyRequests, "rate_limited")
		if n, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || n < 1 {
			t.Fatalf("Retry-After = %q", r.header.Get("Retry-After"))
		}
		expect(t, register(a, "erin"), http.StatusTooManyRequests, "rate_limited")
		// A forged X-Forwarded-For does not escape the limit: no proxy is trusted.
		expect(t, login(a, map[string]string{"X-Forwarded-For": "198.51.100.7"}), http.StatusTooManyRequests, "rate_limited")
		// Another address has its own budget.
		expect(t, register(b, "erin"), http.StatusCreated, "")
		// Refresh and logout are not limited per address.
		expect(t, h.send(req{method: "POST", path: "/api/v1/auth/refresh", remote: a, body: map[string]string{"refresh_token": "x"}}),
			http.StatusUnauthorized, "")
		// The budget comes back with time.
		clk.now = clk.now.Add(time.Minute)
		expect(t, login(a, nil), http.StatusUnauthorized, "invalid_credentials")
	})
}

// TestLoginFailuresPerUsernameAndAddress: wrong passwords slow down their
// own address (429 with Retry-After), not the owner's.
func TestLoginFailuresPerUsernameAndAddress(t *testing.T) {
	forEachStore(t, func(t *testing.T, st app.Store) {
		svc, _ := newService(t, st)
		svc.Logins = auth.NewLoginGuard(auth.GuardConfig{FreeFailures: 1})
		h := &harness{t: t, h: httpapi.New(httpapi.Options{Service: svc}), svc: svc, st: st}
		h.user("frank")
		body := map[string]string{"username": "frank", "password": "wrong password"}
		expect(t, h.send(req{method: "POST", path: "/api/v1/auth/login", remote: "192.0.2.1:1", body: body}), http.StatusUnauthorized, "invalid_credentials")
		r := h.send(req{method: "POST", path: "/api/v1/auth/login", remote: "192.0.2.1:2", body: body})
		expect(t, r, http.StatusTooManyRequests, "rate_limited")
		if r.header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
		good := map[string]string{"username": "frank", "password": "password-frank"}
		expect(t, h.send(req{method: "POST", path: "/api/v1/auth/login", remote: "192.0.2.2:1", body: good}), http.StatusOK, "")
	})
}

// TestAuthRateOption checks the limiter that Options.AuthRate builds.
func TestAuthRateOption(t *testing.T) {
	h := newHarness(t, storetest.SQLite(t), func(o *httpapi.Options) { o.AuthRate = 1 })
	body := map[string]string{"username": "x", "password": "y"}
	first := h.send(req{method: "POST", path: "/api/v1/auth/login", remote: "192.0.2.9:1", body: body, header: map[string]string{"Content-Type": "text/plain"}})
	expect(t, first, http.StatusUnsupportedMediaType, "unsupported_media_type")
	expect(t, h.send(req{method: "POST", path: "/api/v1/auth/login", remote: "192.0.2.9:1", body: body}), http.StatusTooManyRequests, "rate_limited")
}

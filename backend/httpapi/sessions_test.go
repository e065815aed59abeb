package httpapi_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/httpapi"
	"github.com/chatapp/chat/store"
	"github.com/chatapp/chat/store/storetest"
)

// refreshCookie is the Set-Cookie of the refresh cookie in an answer.
func refreshCookie(t *testing.T, r response) *http.Cookie {
	t.Helper()
	for _, line := range r.header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("Set-Cookie %q: %v", line, err)
		}
		if c.Name == "chat_refresh" {
			return c
		}
	}
	return nil
}

// TestCookieSession: a browser's register or login with "session":"cookie"
// gets its refresh token in an HttpOnly, SameSite=Strict cookie scoped to
// the auth routes (Secure over TLS) and not in the body; refresh and
// logout use the cookie when the body has no token, only from an allowed
// origin; the JSON form is unchanged.
func TestCookieSession(t *testing.T) {
	forEachStore(t, func(t *testing.T, st app.Store) {
		const self = "http://example.com" // httptest requests are for Host example.com
		h := newHarness(t, st, func(o *httpapi.Options) { o.CORSOrigins = []string{"https://app.example.org"} })
		post := func(path, origin string, cookie *http.Cookie, body any) response {
			t.Helper()
			hdr := map[string]string{"Origin": origin}
			if cookie != nil {
				hdr["Cookie"] = cookie.Name + "=" + cookie.Value
			}
			return h.send(req{method: "POST", path: path, body: body, header: hdr})
		}
		checkCookie := func(r response, secure bool) *http.Cookie {
			t.Helper()
			c := refreshCookie(t, r)
			if c == nil || c.Value == "" || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode ||
				c.Path != "/api/v1/auth" || c.Secure != secure || c.MaxAge < 29*24*3600 {
				t.Fatalf("refresh cookie %+v (secure %v wanted)", c, secure)
			}
			var res map[string]any
			r.decode(t, &res)
			if _, ok := res["refresh_token"]; ok || res["access_token"] == "" {
				t.Fatalf("cookie session answered %s", r.body)
			}
			return c
		}

		r := post("/api/v1/auth/register", self, nil, map[string]string{"username": "dora", "password": "correct horse", "session": "cookie"})
		expect(t, r, http.StatusCreated, "")
		checkCookie(r, false)
		r = post("/api/v1/auth/login", "https://example.com", nil, map[string]string{"username": "dora", "password": "correct horse", "session": "cookie"})
		expect(t, r, http.StatusOK, "")
		secure := checkCookie(r, true) // the page is served over HTTPS
		r = h.send(req{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"username": "dora", "password": "correct horse", "session": "cookie"},
			header: map[string]string{"Origin": self, "X-Forwarded-Proto": "https"}})
		expect(t, r, http.StatusOK, "")
		checkCookie(r, true)
		r = post("/api/v1/auth/login", self, nil, map[string]string{"username": "dora", "password": "correct horse", "session": "cookie"})
		expect(t, r, http.StatusOK, "")
		cookie := checkCookie(r, false)

		// Only an allowed origin may ask for a cookie or use one.
		r = post("/api/v1/auth/login", "https://evil.example.net", nil, map[string]string{"username": "dora", "password": "correct horse", "session": "cookie"})
		expect(t, r, http.StatusForbidden, "forbidden")
		for _, origin := range []string{"", "null", "https://evil.example.net", "http://example.com.evil.net"} {
			r = post("/api/v1/auth/refresh", origin, cookie, map[string]string{})
			expect(t, r, http.StatusForbidden, "forbidden")
		}
		r = post("/api/v1/auth/login", self, nil, map[string]string{"username": "dora", "password": "correct horse", "session": "jar"})
		expect(t, r, http.StatusBadRequest, "validation_failed")

		// Refresh rotates the cookie; the old one is then a reuse.
		r = post("/api/v1/auth/refresh", self, cookie, map[string]string{})
		expect(t, r, http.StatusOK, "")
		next := checkCookie(r, false)
		if next.Value == cookie.Value {
			t.Fatal("refresh kept the cookie's token")
		}
		r = post("/api/v1/auth/refresh", "https://app.example.org", next, map[string]string{})
		expect(t, r, http.StatusOK, "")
		next = checkCookie(r, true)

		// Logout ends the session and clears the cookie.
		r = post("/api/v1/auth/logout", self, next, map[string]string{})
		expect(t, r, http.StatusNoContent, "")
		if c := refreshCookie(t, r); c == nil || c.MaxAge >= 0 || c.Path != "/api/v1/auth" {
			t.Fatalf("logout left the cookie: %+v", c)
		}
		r = post("/api/v1/auth/refresh", self, next, map[string]string{})
		expect(t, r, http.StatusUnauthorized, "")
		if c := refreshCookie(t, r); c == nil || c.MaxAge >= 0 {
			t.Fatalf("a refused cookie is not cleared: %+v", c)
		}

		// The secure session still works, and the JSON form is unchanged.
		r = post("/api/v1/auth/refresh", self, secure, map[string]string{})
		expect(t, r, http.StatusOK, "")
		r = h.do("POST", "/api/v1/auth/login", "", map[string]string{"username": "dora", "password": "correct horse"})
		expect(t, r, http.StatusOK, "")
		var res app.AuthResult
		r.decode(t, &res)
		if res.RefreshToken == "" || refreshCookie(t, r) != nil {
			t.Fatalf("JSON login answered %s with cookie %v", r.body, refreshCookie(t, r))
		}
		// A token in the body wins over a cookie, whatever the origin.
		r = post("/api/v1/auth/refresh", "", secure, map[string]string{"refresh_token": res.RefreshToken})
		expect(t, r, http.StatusOK, "")
		if refreshCookie(t, r) != nil {
			t.Fatal("a JSON refresh set a cookie")
		}
	})
}

// TestLogoutAll: POST /auth/logout-all ends every session of the caller:
// each access token is refused at once, each refresh token too; other
// users' sessions stay.
func TestLogoutAll(t *testing.T) {
	forEachStore(t, func(t *testing.T, st app.Store) {
		h := newHarness(t, st, nil)
		ctx := context.Background()
		first, err := h.svc.Register(ctx, app.Registration{Username: "erin", Password: "correct horse"})
		if err != nil {
			t.Fatal(err)
		}
		second, err := h.svc.Login(ctx, "erin", "correct horse")
		if err != nil {
			t.Fatal(err)
		}
		_, bystander := h.user("frank")

		r := h.do("POST", "/api/v1/auth/logout-all", "", nil)
		expect(t, r, http.StatusUnauthorized, "unauthorized")
		r = h.do("POST", "/api/v1/auth/logout-all", second.AccessToken, nil)
		expect(t, r, http.StatusNoContent, "")
		for _, s := range []app.AuthResult{first, second} {
			expect(t, h.do("GET", "/api/v1/users/me", s.AccessToken, nil), http.StatusUnauthorized, "unauthorized")
			expect(t, h.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": s.RefreshToken}), http.StatusUnauthorized, "")
		}
		expect(t, h.do("GET", "/api/v1/users/me", bystander, nil), http.StatusOK, "")
	})
}

// TestLogoutIsRefusedOnEveryInstance: two servers on one Postgres, each
// with its record of ended sessions (no broker between them): a logout on
// one has its access token refused by the other within 2 s, the database
// being the only way the word travels.
func TestLogoutIsRefusedOnEveryInstance(t *testing.T) {
	url := storetest.PostgresURL(t)
	var hs [2]*harness
	for i := range hs {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		st, err := store.OpenPostgres(ctx, url, slog.New(slog.DiscardHandler))
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		sessions := app.NewSessions(time.Hour)
		svc := app.New(app.Deps{Store: st, Tokens: newTokens(t), Hasher: cheapHasher(t), Sessions: sessions}, app.Config{})
		wctx, stop := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- svc.WatchSessions(wctx) }()
		t.Cleanup(func() {
			stop()
			if err := <-done; err != nil {
				t.Errorf("WatchSessions: %v", err)
			}
		})
		deadline := time.Now().Add(10 * time.Second)
		for !sessions.Loaded() {
			if time.Now().After(deadline) {
				t.Fatal("the ended sessions were never read")
			}
			time.Sleep(10 * time.Millisecond)
		}
		hs[i] = &harness{t: t, h: httpapi.New(httpapi.Options{Service: svc}), svc: svc, st: st}
	}
	a, b := hs[0], hs[1]
	r := a.do("POST", "/api/v1/auth/register", "", map[string]string{"username": "gina", "password": "correct horse"})
	expect(t, r, http.StatusCreated, "")
	var res app.AuthResult
	r.decode(t, &res)
	expect(t, b.do("GET", "/api/v1/users/me", res.AccessToken, nil), http.StatusOK, "")

	start := time.Now()
	expect(t, a.do("POST", "/api/v1/auth/logout", "", map[string]string{"refresh_token": res.RefreshToken}), http.StatusNoContent, "")
	expect(t, a.do("GET", "/api/v1/users/me", res.AccessToken, nil), http.StatusUnauthorized, "unauthorized")
	for {
		r := b.do("GET", "/api/v1/users/me", res.AccessToken, nil)
		if r.code == http.StatusUnauthorized {
			break
		}
		expect(t, r, http.StatusOK, "")
		if time.Since(start) > 2*time.Second {
			t.Fatalf("the other instance still accepts the token %v after the logout", time.Since(start))
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("the other instance refused the logged-out token after %v", time.Since(start).Round(time.Millisecond))
	if msg := strings.ToLower(b.do("GET", "/api/v1/users/me", res.AccessToken, nil).err(t).Error.Message); !strings.Contains(msg, "session") {
		t.Errorf("the refusal does not say the session ended: %q", msg)
	}
}

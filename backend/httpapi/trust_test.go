package httpapi_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/chatapp/chat/auth"
	"github.com/chatapp/chat/httpapi"
	"github.com/chatapp/chat/store/storetest"
)

// TestTokenWithoutIatIs401: a genuine signature over claims without iat is
// an invalid token, answered 401 like any other (it used to be a 500).
func TestTokenWithoutIatIs401(t *testing.T) {
	h := newHarness(t, storetest.SQLite(t), nil)
	id, _ := h.user("noiat")
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": strconv.FormatInt(id, 10), "iss": "chat-test", "aud": "chat-test",
		"exp": time.Now().Add(time.Minute).Unix(),
	}).SignedString([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	expect(t, h.do(http.MethodGet, "/api/v1/users/me", tok, nil), http.StatusUnauthorized, "unauthorized")
}

// TestAuthBodyLimit: auth bodies are capped at 4 KiB (413
// payload_too_large), other bodies keep the 1 MiB limit.
func TestAuthBodyLimit(t *testing.T) {
	h := newHarness(t, storetest.SQLite(t), nil)
	_, token := h.user("bodies")
	big := `{"username":"` + strings.Repeat("u", 5<<10) + `","password":"password-1"}`
	for _, path := range []string{"/api/v1/auth/login", "/api/v1/auth/register"} {
		r := h.do(http.MethodPost, path, "", big)
		expect(t, r, http.StatusRequestEntityTooLarge, "payload_too_large")
		if !strings.Contains(r.err(t).Error.Message, "4096") {
			t.Errorf("%s: message %q does not name the limit", path, r.err(t).Error.Message)
		}
	}
	big = `{"refresh_token":"` + strings.Repeat("r", 5<<10) + `"}`
	for _, path := range []string{"/api/v1/auth/refresh", "/api/v1/auth/logout"} {
		expect(t, h.do(http.MethodPost, path, "", big), http.StatusRequestEntityTooLarge, "payload_too_large")
	}
	// Just under the limit is read (and refused for what it says).
	fits := `{"username":"` + strings.Repeat("u", 4000) + `","password":"password-1"}`
	expect(t, h.do(http.MethodPost, "/api/v1/auth/login", "", fits), http.StatusUnauthorized, "invalid_credentials")
	// Elsewhere 5 KiB is fine.
	expect(t, h.do(http.MethodPatch, "/api/v1/users/me", token, `{"display_name":"x","unknown":"`+strings.Repeat("v", 5<<10)+`"}`),
		http.StatusBadRequest, "validation_failed")
}

// TestAuthRateIPv6Prefix: two addresses of one IPv6 /64 share the
// per-address budget of sign-up and login.
func TestAuthRateIPv6Prefix(t *testing.T) {
	h := newHarness(t, storetest.SQLite(t), func(o *httpapi.Options) { o.AuthLimiter = auth.NewLimiter(1, 1) })
	login := func(remote string) response {
		return h.send(req{method: "POST", path: "/api/v1/auth/login", remote: remote,
			body: map[string]string{"username": "nobody", "password": "whatever1"}})
	}
	expect(t, login("[2001:db8:1:2::1]:1000"), http.StatusUnauthorized, "invalid_credentials")
	expect(t, login("[2001:db8:1:2:aaaa::2]:1000"), http.StatusTooManyRequests, "rate_limited")
	expect(t, login("[2001:db8:1:3::1]:1000"), http.StatusUnauthorized, "invalid_credentials")
}

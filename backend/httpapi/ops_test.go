package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/chat"
	"github.com/chatapp/chat/httpapi"
	"github.com/chatapp/chat/store/storetest"
)

func TestMain(m *testing.M) {
	// Gin's debug mode prints every route of every router the tests build.
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

// failingStore is a real store whose Account fails with err, or panics,
// once set: GET /users/me then answers what the router makes of that
// failure.
type failingStore struct {
	app.Store
	err   error
	panic bool
}

func (f *failingStore) Account(ctx context.Context, id int64) (chat.User, error) {
	if f.panic {
		panic("boom: secret internals")
	}
	if f.err != nil {
		return chat.User{}, f.err
	}
	return f.Store.Account(ctx, id)
}

// failingHarness is a router over a failingStore (not failing yet) and the
// access token of one user.
func failingHarness(t *testing.T) (*harness, *failingStore, string) {
	t.Helper()
	fs := &failingStore{Store: storetest.SQLite(t)}
	h := newHarness(t, fs, nil)
	_, token := h.user("erin")
	return h, fs, token
}

func TestErrorTable(t *testing.T) {
	h, fs, token := failingHarness(t)
	for _, tc := range []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"invalid", fmt.Errorf("wrapped: %w", chat.Invalid(map[string]string{"x": "bad"})), http.StatusBadRequest, "validation_failed"},
		{"plain kind", fmt.Errorf("op: %w", chat.ErrInvalid), http.StatusBadRequest, "validation_failed"},
		{"unauthorized", chat.ErrUnauthorized, http.StatusUnauthorized, "unauthorized"},
		{"forbidden", chat.ErrForbidden, http.StatusForbidden, "forbidden"},
		{"not member", chat.ErrNotMember, http.StatusForbidden, "not_member"},
		{"not found", fmt.Errorf("load: %w", chat.ErrNotFound), http.StatusNotFound, "not_found"},
		{"conflict", chat.ErrConflict, http.StatusConflict, "conflict"},
		{"username taken", chat.ErrUsernameTaken, http.StatusConflict, "username_taken"},
		{"too large", chat.ErrTooLarge, http.StatusRequestEntityTooLarge, "payload_too_large"},
		{"rate limited", &chat.Error{Kind: chat.ErrRateLimited, Code: "rate_limited", Message: "Slow down.", RetryAfter: 7}, http.StatusTooManyRequests, "rate_limited"},
		{"unavailable", fmt.Errorf("query: %w", chat.ErrUnavailable), http.StatusServiceUnavailable, "unavailable"},
		{"deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), http.StatusServiceUnavailable, "unavailable"},
		{"unknown", errors.New(`pq: syntax error at "SELECT password_hash FROM users"`), http.StatusInternalServerError, "internal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs.err = tc.err
			r := h.do("GET", "/api/v1/users/me", token, nil)
			expect(t, r, tc.status, tc.code)
			if strings.Contains(string(r.body), "SELECT") || strings.Contains(string(r.body), "pq:") {
				t.Fatalf("cause leaked: %s", r.body)
			}
			if tc.code == "validation_failed" && tc.name == "invalid" && r.err(t).Error.Details["x"] != "bad" {
				t.Fatalf("details lost: %s", r.body)
			}
			if tc.status == http.StatusTooManyRequests && r.header.Get("Retry-After") != "7" {
				t.Fatalf("Retry-After = %q", r.header.Get("Retry-After"))
			}
		})
	}
}

func TestPanicRecovery(t *testing.T) {
	h, fs, token := failingHarness(t)
	fs.panic = true
	r := h.do("GET", "/api/v1/users/me", token, nil)
	expect(t, r, http.StatusInternalServerError, "internal")
	if strings.Contains(string(r.body), "boom") || strings.Contains(string(r.body), ".go:") {
		t.Fatalf("panic leaked: %s", r.body)
	}
	// The router still serves after a panic.
	expect(t, h.do("GET", "/healthz", "", nil), http.StatusOK, "")
}

func TestUnavailableDatabase(t *testing.T) {
	forEachStore(t, func(t *testing.T, st app.Store) {
		h := newHarness(t, st, nil)
		_, token := h.user("olga")
		closer, ok := st.(interface{ Close() error })
		if !ok {
			t.Fatalf("%T has no Close", st)
		}
		if err := closer.Close(); err != nil {
			t.Fatal(err)
		}
		expect(t, h.do("GET", "/api/v1/users/me", token, nil), http.StatusServiceUnavailable, "unavailable")
		r := h.do("GET", "/readyz", "", nil)
		expect(t, r, http.StatusServiceUnavailable, "unavailable")
		if r.err(t).Error.Details["database"] == "" {
			t.Fatalf("readyz does not name the database: %s", r.body)
		}
		expect(t, h.do("GET", "/healthz", "", nil), http.StatusOK, "")
	})
}

func TestRouting(t *testing.T) {
	h := newHarness(t, storetest.SQLite(t), nil)
	for _, tc := range []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/api/v1/nothing", http.StatusNotFound, "not_found"},
		{"GET", "/nothing", http.StatusNotFound, "not_found"},
		{"GET", "/api/v1/users/me/", http.StatusNotFound, "not_found"},
		{"DELETE", "/api/v1/users/me", http.StatusMethodNotAllowed, "method_not_allowed"},
		{"PUT", "/api/v1/groups/1", http.StatusMethodNotAllowed, "method_not_allowed"},
		{"GET", "/api/v1/auth/login", http.StatusMethodNotAllowed, "method_not_allowed"},
		{"GET", "/api/v1/ws", http.StatusNotFound, "not_found"}, // no WS handler configured
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := h.do(tc.method, tc.path, "token", nil)
			expect(t, r, tc.status, tc.code)
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
	if allow := h.do("DELETE", "/api/v1/users/me", "token", nil).header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "PATCH") {
		t.Errorf("405 Allow = %q", allow)
	}
}

func TestSecurityHeaders(t *testing.T) {
	h := newHarness(t, storetest.SQLite(t), nil)
	r := h.do("GET", "/healthz", "", nil)
	for k, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"X-Frame-Options":        "DENY",
	} {
		if got := r.header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("API CSP = %q", csp)
	}
	// Every powerful feature the app does not use is off.
	pp := r.header.Get("Permissions-Policy")
	for _, feature := range []string{"camera", "microphone", "geolocation", "payment", "usb", "serial", "hid", "display-capture"} {
		if !strings.Contains(pp, feature+"=()") {
			t.Errorf("Permissions-Policy %q does not turn off %s", pp, feature)
		}
	}
	if r.header.Get("X-Request-ID") == "" {
		t.Error("no X-Request-ID")
	}
}

// fakeEndpoint is a WebSocket endpoint that upgrades, or refuses with err.
type fakeEndpoint struct {
	called bool
	err    error
}

func (e *fakeEndpoint) Open(w http.ResponseWriter, _ *http.Request) error {
	e.called = true
	if e.err != nil {
		return e.err
	}
	w.WriteHeader(http.StatusSwitchingProtocols)
	return nil
}

func TestWebSocketMount(t *testing.T) {
	ws := &fakeEndpoint{}
	h := newHarness(t, storetest.SQLite(t), func(o *httpapi.Options) { o.WS = ws })
	r := h.do("GET", "/api/v1/ws", "", nil)
	if !ws.called || r.code != http.StatusSwitchingProtocols {
		t.Fatalf("ws handler called=%v status=%d", ws.called, r.code)
	}
	expect(t, h.do("POST", "/api/v1/ws", "", nil), http.StatusMethodNotAllowed, "method_not_allowed")

	// A refusal before the upgrade is answered like any other error.
	ws.err = chat.Fail(chat.ErrForbidden, "This origin may not open a WebSocket here.")
	expect(t, h.do("GET", "/api/v1/ws", "", nil), http.StatusForbidden, "forbidden")
	limited := chat.Fail(chat.ErrRateLimited, "")
	limited.RetryAfter = 3
	ws.err = limited
	r = h.do("GET", "/api/v1/ws", "", nil)
	expect(t, r, http.StatusTooManyRequests, "rate_limited")
	if r.header.Get("Retry-After") != "3" {
		t.Fatalf("Retry-After = %q", r.header.Get("Retry-After"))
	}
}

func TestHealthReadyMetricsOpenAPI(t *testing.T) {
	reg := prometheus.NewRegistry()
	var brokerDown bool
	h := newHarness(t, storetest.SQLite(t), func(o *httpapi.Options) {
		o.Metrics = reg
		o.Ready = map[string]httpapi.Check{
			"database": func(context.Context) error { return nil },
			"broker": func(context.Context) error {
				if brokerDown {
					return errors.New("dial tcp 10.0.0.1:6379: connection refused")
				}
				return nil
			},
		}
	})
	expect(t, h.do("GET", "/healthz", "", nil), http.StatusOK, "")

	r := h.do("GET", "/readyz", "", nil)
	expect(t, r, http.StatusOK, "")
	var ready struct {
		Status string
		Checks map[string]string
	}
	r.decode(t, &ready)
	if ready.Status != "ok" || ready.Checks["database"] != "ok" || ready.Checks["broker"] != "ok" {
		t.Fatalf("readyz %s", r.body)
	}
	brokerDown = true
	r = h.do("GET", "/readyz", "", nil)
	expect(t, r, http.StatusServiceUnavailable, "unavailable")
	e := r.err(t)
	if e.Error.Details["broker"] == "" || e.Error.Details["database"] != "" || !strings.Contains(e.Error.Message, "broker") {
		t.Fatalf("readyz failure %s", r.body)
	}
	if strings.Contains(string(r.body), "10.0.0.1") {
		t.Fatalf("readyz leaks the cause: %s", r.body)
	}

	_, token := h.user("mia")
	expect(t, h.do("GET", "/api/v1/users/me", token, nil), http.StatusOK, "")
	// /metrics is not on the API's router (chatd serves the registry on
	// CHAT_METRICS_ADDR); what it would serve is the registry's content.
	expect(t, h.do("GET", "/metrics", "", nil), http.StatusNotFound, "not_found")
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`http_requests_total{method="GET",route="/healthz",status="200"} 1`,
		`http_requests_total{method="GET",route="/readyz",status="503"} 1`,
		`http_requests_total{method="GET",route="/api/v1/users/me",status="200"} 1`,
		`http_request_duration_seconds_bucket{route="/readyz",le="+Inf"} 2`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// The registry is the given one, not the global default.
	if n, err := reg.Gather(); err != nil || len(n) == 0 {
		t.Errorf("given registry gathered %d families, err %v", len(n), err)
	}

	r = h.do("GET", "/api/v1/openapi.json", "", nil)
	expect(t, r, http.StatusOK, "")
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Info    map[string]any `json:"info"`
		Paths   map[string]any `json:"paths"`
	}
	r.decode(t, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.1") || doc.Info["title"] == nil || doc.Paths == nil {
		t.Fatalf("openapi document %s", r.body[:min(len(r.body), 200)])
	}
}

func TestCORS(t *testing.T) {
	h := newHarness(t, storetest.SQLite(t), func(o *httpapi.Options) { o.CORSOrigins = []string{"http://localhost:5173"} })
	pre := func(origin string) response {
		return h.send(req{method: "OPTIONS", path: "/api/v1/groups", header: map[string]string{
			"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type",
		}})
	}
	r := pre("http://localhost:5173")
	expect(t, r, http.StatusNoContent, "")
	if r.header.Get("Access-Control-Allow-Origin") != "http://localhost:5173" ||
		!strings.Contains(r.header.Get("Access-Control-Allow-Headers"), "Authorization") ||
		!strings.Contains(r.header.Get("Access-Control-Allow-Methods"), "PATCH") ||
		r.header.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("preflight headers %v", r.header)
	}
	expect(t, pre("https://evil.example"), http.StatusForbidden, "forbidden")

	r = h.send(req{method: "GET", path: "/healthz", header: map[string]string{"Origin": "http://localhost:5173"}})
	if r.header.Get("Access-Control-Allow-Origin") != "http://localhost:5173" || !strings.Contains(r.header.Get("Vary"), "Origin") {
		t.Fatalf("allowed origin headers %v", r.header)
	}
	r = h.send(req{method: "GET", path: "/healthz", header: map[string]string{"Origin": "https://evil.example"}})
	if r.code != http.StatusOK || r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("other origin: %d %v", r.code, r.header)
	}
}

func TestStaticSPA(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("index.html", "<!doctype html><title>chat</title>")
	write("assets/app-1a2b3c.js", "console.log(1)")
	write("favicon.svg", "<svg/>")
	outside := filepath.Join(filepath.Dir(dir), "secret.txt")
	if err := os.WriteFile(outside, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(outside) })

	h := newHarness(t, storetest.SQLite(t), func(o *httpapi.Options) {
		o.StaticDir = dir
		o.CORSOrigins = []string{"https://app.example.com"}
	})
	for _, tc := range []struct {
		method, path string
		status       int
		body         string // prefix
		cache        string
	}{
		{"GET", "/", http.StatusOK, "<!doctype html>", "no-cache"},
		{"GET", "/index.html", http.StatusOK, "<!doctype html>", "no-cache"},
		{"GET", "/g/42", http.StatusOK, "<!doctype html>", "no-cache"},
		{"GET", "/assets", http.StatusOK, "<!doctype html>", "no-cache"},
		{"HEAD", "/login", http.StatusOK, "", "no-cache"},
		{"GET", "/assets/app-1a2b3c.js", http.StatusOK, "console.log", "public, max-age=31536000, immutable"},
		{"GET", "/favicon.svg", http.StatusOK, "<svg", "public, max-age=3600"},
		{"GET", "/assets/missing-000.js", http.StatusNotFound, `{"error"`, ""},
		{"GET", "/../secret.txt", http.StatusOK, "<!doctype html>", "no-cache"},
		{"GET", "/api/v1/unknown", http.StatusNotFound, `{"error"`, ""},
		{"GET", "/metrics", http.StatusNotFound, `{"error"`, ""},
		{"POST", "/g/42", http.StatusNotFound, `{"error"`, ""},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := h.do(tc.method, tc.path, "", nil)
			if r.code != tc.status || !strings.HasPrefix(string(r.body), tc.body) {
				t.Fatalf("%d %q", r.code, r.body)
			}
			if tc.cache != "" && r.header.Get("Cache-Control") != tc.cache {
				t.Errorf("Cache-Control %q, want %q", r.header.Get("Cache-Control"), tc.cache)
			}
			if tc.status == http.StatusOK {
				// Connections go to the own origin (its ws/wss included)
				// and the configured CORS origins only: no ws:/wss: to any
				// host.
				csp := r.header.Get("Content-Security-Policy")
				if !strings.Contains(csp, "connect-src 'self' https://app.example.com;") || !strings.Contains(csp, "script-src 'self'") ||
					strings.Contains(csp, "ws:") || strings.Contains(csp, "wss:") {
					t.Errorf("SPA CSP %q", csp)
				}
				if pp := r.header.Get("Permissions-Policy"); !strings.Contains(pp, "camera=()") {
					t.Errorf("SPA Permissions-Policy %q", pp)
				}
			}
		})
	}
	// Without a static dir, / is a JSON 404.
	h = newHarness(t, storetest.SQLite(t), nil)
	expect(t, h.do("GET", "/", "", nil), http.StatusNotFound, "not_found")
}

// TestErrorBodyShape checks that every error answer is exactly the
// documented object, not more.
func TestErrorBodyShape(t *testing.T) {
	h, fs, token := failingHarness(t)
	fs.err = chat.ErrNotFound
	r := h.do("GET", "/api/v1/users/me", token, nil)
	var raw map[string]map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &raw); err != nil || len(raw) != 1 {
		t.Fatalf("body %s", r.body)
	}
	for k := range raw["error"] {
		if k != "code" && k != "message" && k != "details" {
			t.Errorf("unexpected key %q in %s", k, r.body)
		}
	}
}

package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/auth"
	"github.com/chatapp/chat/httpapi"
)

// testSecret signs the access tokens of the tests.
const testSecret = "0123456789abcdef0123456789abcdef-test-secret"

// harness is one router over one store, with the service behind it.
type harness struct {
	t      *testing.T
	h      http.Handler
	svc    *app.Service
	st     app.Store
	tokens *auth.Tokens
}

func newTokens(t *testing.T) *auth.Tokens {
	t.Helper()
	tokens, err := auth.NewTokens(auth.TokenConfig{Secret: []byte(testSecret), Issuer: "chat-test", Audience: "chat-test"})
	if err != nil {
		t.Fatal(err)
	}
	return tokens
}

// newService builds the use cases over st with argon2 parameters cheap
// enough for tests (the production ones take ~50 ms a hash).
func newService(t *testing.T, st app.Store) (*app.Service, *auth.Tokens) {
	t.Helper()
	tokens := newTokens(t)
	return app.New(app.Deps{Store: st, Tokens: tokens, Hasher: cheapHasher(t)}, app.Config{}), tokens
}

func cheapHasher(t *testing.T) *auth.Hasher {
	t.Helper()
	hasher, err := auth.NewHasher(auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 16}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return hasher
}

func newHarness(t *testing.T, st app.Store, mod func(*httpapi.Options)) *harness {
	t.Helper()
	svc, tokens := newService(t, st)
	o := httpapi.Options{Service: svc, Ready: map[string]httpapi.Check{"database": st.Ping}}
	if mod != nil {
		mod(&o)
	}
	return &harness{t: t, h: httpapi.New(o), svc: svc, st: st, tokens: tokens}
}

// response is a recorded answer.
type response struct {
	code   int
	header http.Header
	body   []byte
}

// errorBody is the error shape of API.md.
type errorBody struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Details map[string]string `json:"details"`
	} `json:"error"`
}

func (r response) err(t *testing.T) errorBody {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("error body %q is not JSON: %v", r.body, err)
	}
	if e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("error body %q lacks code or message", r.body)
	}
	return e
}

// decode reads a 2xx JSON body into v.
func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
}

// req describes one request; body is marshalled unless it is a string or
// []byte (sent as is).
type req struct {
	method, path, token string
	body                any
	header              map[string]string
	remote              string
}

func (h *harness) send(r req) response {
	h.t.Helper()
	var rd io.Reader
	switch b := r.body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	hr := httptest.NewRequestWithContext(context.Background(), r.method, r.path, rd)
	if rd != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, v := range r.header {
		if v == "" {
			hr.Header.Del(k)
		} else {
			hr.Header.Set(k, v)
		}
	}
	if r.remote != "" {
		hr.RemoteAddr = r.remote
	}
	rec := httptest.NewRecorder()
	h.h.ServeHTTP(rec, hr)
	return response{code: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

func (h *harness) do(method, path, token string, body any) response {
	h.t.Helper()
	return h.send(req{method: method, path: path, token: token, body: body})
}

// user registers an account through the service and returns its id and an
// access token.
func (h *harness) user(name string) (int64, string) {
	h.t.Helper()
	res, err := h.svc.Register(context.Background(), app.Registration{Username: name, Password: "password-" + name})
	if err != nil {
		h.t.Fatalf("register %s: %v", name, err)
	}
	return res.User.ID, res.AccessToken
}

// expect fails unless r has the status and, for errors, the code.
func expect(t *testing.T, r response, status int, code string) {
	t.Helper()
	if r.code != status {
		t.Fatalf("status %d, want %d; body %s", r.code, status, r.body)
	}
	if code != "" {
		if got := r.err(t).Error.Code; got != code {
			t.Fatalf("code %q, want %q; body %s", got, code, r.body)
		}
	}
	if status == http.StatusNoContent && len(r.body) != 0 {
		t.Fatalf("204 with body %q", r.body)
	}
	if status >= 400 && r.code == status {
		e := r.err(t)
		if strings.Contains(string(r.body), "goroutine ") || strings.Contains(strings.ToLower(e.Error.Message), "sql") {
			t.Fatalf("error body leaks internals: %s", r.body)
		}
	}
}

// clock is a settable time source for rate limits.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

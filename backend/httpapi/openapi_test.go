package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/auth"
	"github.com/chatapp/chat/blob"
	"github.com/chatapp/chat/chat"
	"github.com/chatapp/chat/store/storetest"
)

// The OpenAPI conformance test drives a real router over a real (SQLite)
// store through every documented operation, success and error cases, and
// checks each exchange against openapi.json:
//
//   - the request must be valid per the document exactly when the server
//     accepts it (a request the server rejects as malformed must be one the
//     document forbids too, so clients reading the document are not misled);
//   - every response status must be documented for its operation and every
//     body must match its schema;
//   - every documented operation and every documented 2xx status must be
//     seen, and routes the document does not know must answer 404/405 with
//     the error shape.
//
// So neither the document nor the server can drift without this failing.

// oasExchange is one request of the scenario and what must come of it.
type oasExchange struct {
	method, path string
	token        string
	body         any               // marshalled unless string or []byte
	header       map[string]string // "" deletes
	want         int
	// docRejects: the document itself forbids this request (set for the
	// malformed requests the server answers 400/401/413/415 to).
	docRejects bool
	// undocumented: the route or method is not in the document on purpose.
	undocumented bool
}

type oasSuite struct {
	t      *testing.T
	doc    *openapi3.T
	router routers.Router
	h      http.Handler
	// seen records "operationId status" of every validated exchange.
	seen map[string]bool
	// lastCookie is the chat_refresh cookie the last answer set, if any.
	lastCookie string
}

func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		t.Fatalf("load openapi.json: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI document: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi.json declares %s, want 3.1", doc.OpenAPI)
	}
	return doc
}

func newOASSuite(t *testing.T, doc *openapi3.T, h http.Handler) *oasSuite {
	t.Helper()
	// Route by path only: the servers of the document are for clients.
	routed := *doc
	routed.Servers = nil
	router, err := legacy.NewRouter(&routed)
	if err != nil {
		t.Fatalf("router: %v", err)
	}
	return &oasSuite{t: t, doc: doc, router: router, h: h, seen: map[string]bool{}}
}

// oasService builds the use cases over a fresh SQLite store, with argon2
// parameters cheap enough for tests.
func oasService(t *testing.T) (*app.Service, app.Store) {
	t.Helper()
	st := storetest.SQLite(t)
	hasher, err := auth.NewHasher(auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 16}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := auth.NewTokens(auth.TokenConfig{Secret: []byte("openapi-test-secret-0123456789abcdef"), Issuer: "chat-test", Audience: "chat-test"})
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := blob.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = blobs.Close() })
	links := auth.NewLinks([]byte("openapi-test-secret-0123456789abcdef"), nil)
	return app.New(app.Deps{Store: st, Tokens: tokens, Hasher: hasher, Blobs: blobs, Links: links}, app.Config{}), st
}

func (x oasExchange) request() *http.Request {
	var rd io.Reader
	switch b := x.body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			panic(err)
		}
		rd = bytes.NewReader(raw)
	}
	r := httptest.NewRequestWithContext(context.Background(), x.method, x.path, rd)
	if rd != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if x.token != "" {
		r.Header.Set("Authorization", "Bearer "+x.token)
	}
	for k, v := range x.header {
		if v == "" {
			r.Header.Del(k)
		} else {
			r.Header.Set(k, v)
		}
	}
	return r
}

// bearerPresent is the document's view of authentication: a request
// carries a bearer token or not. Whether the token is good is the server's
// business (401 with a valid request).
func bearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecuritySchemeName != "bearerAuth" {
		return fmt.Errorf("unknown security scheme %q", in.SecuritySchemeName)
	}
	h := in.RequestValidationInput.Request.Header.Get("Authorization")
	if !strings.HasPrefix(h, "Bearer ") || len(h) == len("Bearer ") {
		return errors.New("no bearer token")
	}
	return nil
}

// do runs one exchange through the document and the server and returns the
// response body.
func (s *oasSuite) do(x oasExchange) []byte {
	s.t.Helper()
	name := x.method + " " + x.path

	// The request as the document sees it (a separate copy: validation
	// consumes the body).
	docReq := x.request()
	route, pathParams, routeErr := s.router.FindRoute(docReq)

	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, x.request())
	res := rec.Result()
	body := rec.Body.Bytes()
	for _, c := range res.Cookies() {
		if c.Name == "chat_refresh" && c.Value != "" {
			s.lastCookie = c.Value
		}
	}
	if res.StatusCode != x.want {
		s.t.Errorf("%s: status %d, want %d; body %s", name, res.StatusCode, x.want, clip(body))
	}

	if routeErr != nil {
		if !x.undocumented {
			s.t.Errorf("%s: not in the document: %v", name, routeErr)
			return body
		}
		s.checkError(name, res, body)
		return body
	}
	if x.undocumented {
		s.t.Errorf("%s: expected an undocumented route, but the document has %s", name, route.Operation.OperationID)
	}

	in := &openapi3filter.RequestValidationInput{
		Request:    docReq,
		PathParams: pathParams,
		Route:      route,
		Options: &openapi3filter.Options{
			AuthenticationFunc:                bearerPresent,
			RejectWhenRequestBodyNotSpecified: true,
			MultiError:                        true,
		},
	}
	reqErr := openapi3filter.ValidateRequest(context.Background(), in)
	switch {
	case x.docRejects && reqErr == nil:
		s.t.Errorf("%s: the document accepts a request the server answers %d to; it should forbid it", name, res.StatusCode)
	case !x.docRejects && reqErr != nil:
		s.t.Errorf("%s: request invalid per the document: %v", name, reqErr)
	}

	in.Options = &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 res.StatusCode,
		Header:                 res.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	out.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		s.t.Errorf("%s: response %d does not match the document: %v\nbody: %s", name, res.StatusCode, err, clip(body))
	}
	if res.StatusCode >= 400 {
		s.checkError(name, res, body)
	}
	s.seen[route.Operation.OperationID+" "+strconv.Itoa(res.StatusCode)] = true
	return body
}

// checkError validates a non-2xx body against the Error schema directly
// (needed where the route is not in the document).
func (s *oasSuite) checkError(name string, res *http.Response, body []byte) {
	s.t.Helper()
	if res.StatusCode < 400 {
		s.t.Errorf("%s: status %d, want an error", name, res.StatusCode)
		return
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		s.t.Errorf("%s: error body is not JSON: %v: %s", name, err, clip(body))
		return
	}
	if err := s.doc.Components.Schemas["Error"].Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
		s.t.Errorf("%s: error body does not match the Error schema: %v: %s", name, err, clip(body))
	}
	if res.StatusCode == http.StatusTooManyRequests && res.Header.Get("Retry-After") == "" {
		s.t.Errorf("%s: 429 without Retry-After", name)
	}
}

// coverage fails for every documented operation, and every documented 2xx
// status of it, that the scenario never produced.
func (s *oasSuite) coverage(skip ...string) {
	s.t.Helper()
	var missing []string
	for path, item := range s.doc.Paths.Map() {
		for method, op := range item.Operations() {
			if slices.Contains(skip, op.OperationID) {
				continue
			}
			any2xx := false
			for code := range op.Responses.Map() {
				n, err := strconv.Atoi(code)
				if err != nil {
					s.t.Errorf("%s %s: response %q is not a status code (no default or ranges: every status is explicit)", method, path, code)
					continue
				}
				if n >= 200 && n < 300 {
					any2xx = true
					if !s.seen[op.OperationID+" "+code] {
						missing = append(missing, fmt.Sprintf("%s %s → %s", method, path, code))
					}
				}
			}
			if !any2xx {
				s.t.Errorf("%s %s documents no success status", method, path)
			}
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		s.t.Errorf("documented but never exercised: %s", m)
	}
}

func clip(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

// authed registers a user through the API and returns its id and tokens.
func (s *oasSuite) register(username string) (id int64, access, refresh string) {
	s.t.Helper()
	body := s.do(oasExchange{method: "POST", path: "/api/v1/auth/register",
		body: map[string]string{"username": username, "password": "correct horse battery", "display_name": strings.ToUpper(username[:1]) + username[1:]},
		want: http.StatusCreated})
	var res struct {
		User struct {
			ID int64 `json:"id"`
		} `json:"user"`
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(body, &res); err != nil || res.AccessToken == "" {
		s.t.Fatalf("register %s: %v: %s", username, err, clip(body))
	}
	return res.User.ID, res.AccessToken, res.RefreshToken
}

// login logs a user in through the API and returns its tokens.
func (s *oasSuite) login(username, password string) (access, refresh string) {
	s.t.Helper()
	body := s.do(oasExchange{method: "POST", path: "/api/v1/auth/login",
		body: map[string]string{"username": username, "password": password}, want: http.StatusOK})
	var res struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(body, &res); err != nil || res.AccessToken == "" {
		s.t.Fatalf("login %s: %v: %s", username, err, clip(body))
	}
	return res.AccessToken, res.RefreshToken
}

func idOf(t *testing.T, body []byte) int64 {
	t.Helper()
	var v struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.ID == 0 {
		t.Fatalf("no id in %s: %v", clip(body), err)
	}
	return v.ID
}

// TestOpenAPIDocumentRejectsDrift makes sure the checks of
// TestOpenAPIDocumentMatchesServer have teeth: a response the document does
// not describe must fail validation.
func TestOpenAPIDocumentRejectsDrift(t *testing.T) {
	doc := loadOpenAPI(t)
	tests := []struct {
		name   string
		status int
		body   string
	}{
		{"undocumented status", http.StatusTeapot, `{"error":{"code":"teapot","message":"I am a teapot."}}`},
		{"extra field", http.StatusOK, `{"id":1,"username":"alice","display_name":"","created_at":"2026-01-01T00:00:00Z","password_hash":"x"}`},
		{"missing field", http.StatusOK, `{"id":1,"username":"alice","created_at":"2026-01-01T00:00:00Z"}`},
		{"wrong type", http.StatusOK, `{"id":"1","username":"alice","display_name":"","created_at":"2026-01-01T00:00:00Z"}`},
		{"bad error shape", http.StatusNotFound, `{"message":"not found"}`},
	}
	routed := *doc
	routed.Servers = nil
	router, err := legacy.NewRouter(&routed)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequestWithContext(context.Background(), "GET", "/api/v1/users/1", nil)
			req.Header.Set("Authorization", "Bearer x")
			route, params, err := router.FindRoute(req)
			if err != nil {
				t.Fatal(err)
			}
			opts := &openapi3filter.Options{IncludeResponseStatus: true, AuthenticationFunc: bearerPresent}
			out := &openapi3filter.ResponseValidationInput{
				RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts},
				Status:                 tt.status,
				Header:                 http.Header{"Content-Type": {"application/json"}},
				Options:                opts,
			}
			out.SetBodyBytes([]byte(tt.body))
			if err := openapi3filter.ValidateResponse(context.Background(), out); err == nil {
				t.Errorf("response %d %s passed validation", tt.status, tt.body)
			}
		})
	}
}

// TestOpenAPITextPatternsFollowTheTextRules checks the patterns of the Text
// and NonBlankText schemas against the server's text rules on every
// character of the Basic Multilingual Plane, alone and inside other text.
func TestOpenAPITextPatternsFollowTheTextRules(t *testing.T) {
	doc := loadOpenAPI(t)
	compile := func(name string) *regexp.Regexp {
		t.Helper()
		re, err := regexp.Compile(doc.Components.Schemas[name].Value.Pattern)
		if err != nil {
			t.Fatalf("pattern of %s: %v", name, err)
		}
		return re
	}
	text, nonBlank := compile("Text"), compile("NonBlankText")
	for r := rune(0); r <= 0xFFFF; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue // surrogates are not characters
		}
		for _, s := range []string{string(r), "a" + string(r) + "b"} {
			_, err := chat.NormalizeDescription(s)
			if got, want := text.MatchString(s), err == nil; got != want {
				t.Errorf("Text pattern on %+q: %v, server accepts: %v", s, got, want)
			}
			_, err = chat.NormalizeBody(s)
			if got, want := nonBlank.MatchString(s), err == nil; got != want {
				t.Errorf("NonBlankText pattern on %+q: %v, server accepts: %v", s, got, want)
			}
		}
	}
}

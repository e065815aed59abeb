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
	"github.com/chatapp/chat/chat"
	"github.com/chatapp/chat/httpapi"
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
	return app.New(app.Deps{Store: st, Tokens: tokens, Hasher: hasher}, app.Config{}), st
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

func TestOpenAPIDocumentMatchesServer(t *testing.T) {
	doc := loadOpenAPI(t)
	svc, st := oasService(t)
	h := httpapi.New(httpapi.Options{Service: svc, Ready: map[string]httpapi.Check{"database": st.Ping}})
	s := newOASSuite(t, doc, h)

	// ---- auth ----
	aliceID, alice, aliceRefresh := s.register("alice")
	bobID, bob, _ := s.register("bob")
	carolID, carol, _ := s.register("carol")
	_, dave, _ := s.register("dave")

	const reg = "/api/v1/auth/register"
	s.do(oasExchange{method: "POST", path: reg, body: map[string]string{"username": "ALICE", "password": "another password"}, want: 409})
	s.do(oasExchange{method: "POST", path: reg, body: `{"username": "erin",`, want: 400, docRejects: true})
	s.do(oasExchange{method: "POST", path: reg, body: map[string]any{"username": "erin", "password": "long enough 1", "admin": true}, want: 400, docRejects: true})
	s.do(oasExchange{method: "POST", path: reg, body: map[string]any{"username": "e!", "password": "long enough 1"}, want: 400, docRejects: true})
	s.do(oasExchange{method: "POST", path: reg, body: map[string]any{"username": "erin", "password": "short"}, want: 400, docRejects: true})
	s.do(oasExchange{method: "POST", path: reg, body: map[string]any{"username": "erin", "password": 12345678}, want: 400, docRejects: true})
	s.do(oasExchange{method: "POST", path: reg, body: "username=erin", header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, want: 415, docRejects: true})

	const login = "/api/v1/auth/login"
	s.do(oasExchange{method: "POST", path: login, body: map[string]string{"username": "alice", "password": "correct horse battery"}, want: 200})
	s.do(oasExchange{method: "POST", path: login, body: map[string]string{"username": "alice", "password": "wrong password"}, want: 401})
	s.do(oasExchange{method: "POST", path: login, body: map[string]string{"username": "nobody", "password": "wrong password"}, want: 401})
	s.do(oasExchange{method: "POST", path: login, body: map[string]string{"username": "alice"}, want: 401, docRejects: true})

	const refresh = "/api/v1/auth/refresh"
	body := s.do(oasExchange{method: "POST", path: refresh, body: map[string]string{"refresh_token": aliceRefresh}, want: 200})
	var pair struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(body, &pair); err != nil {
		t.Fatal(err)
	}
	// Reusing a spent refresh token is refused (and revokes the family:
	// that session, alice's access token included, has ended).
	s.do(oasExchange{method: "POST", path: refresh, body: map[string]string{"refresh_token": aliceRefresh}, want: 401})
	s.do(oasExchange{method: "GET", path: "/api/v1/users/me", token: alice, want: 401})
	alice, _ = s.login("alice", "correct horse battery")
	s.do(oasExchange{method: "POST", path: refresh, body: map[string]string{"refresh_token": "not-a-token"}, want: 401})
	// Without a token and without a cookie: the document cannot tell.
	s.do(oasExchange{method: "POST", path: refresh, body: map[string]string{}, want: 400})

	const logout = "/api/v1/auth/logout"
	_, _, erinRefresh := s.register("erin")
	s.do(oasExchange{method: "POST", path: logout, body: map[string]string{"refresh_token": erinRefresh}, want: 204})
	s.do(oasExchange{method: "POST", path: refresh, body: map[string]string{"refresh_token": erinRefresh}, want: 401})
	s.do(oasExchange{method: "POST", path: logout, body: `{"refresh_token": 5}`, want: 400, docRejects: true})

	// A browser's cookie session: the refresh token travels in the
	// cookie, only from the server's own origin.
	self := map[string]string{"Origin": "http://example.com"}
	body = s.do(oasExchange{method: "POST", path: login, header: self, want: 200,
		body: map[string]string{"username": "erin", "password": "correct horse battery", "session": "cookie"}})
	if strings.Contains(string(body), "refresh_token") {
		t.Fatalf("a cookie login returned the refresh token: %s", clip(body))
	}
	s.do(oasExchange{method: "POST", path: reg, header: self, want: 201,
		body: map[string]string{"username": "frank", "password": "correct horse battery", "session": "cookie"}})
	s.do(oasExchange{method: "POST", path: login, header: map[string]string{"Origin": "https://evil.example.net"}, want: 403,
		body: map[string]string{"username": "erin", "password": "correct horse battery", "session": "cookie"}})
	s.do(oasExchange{method: "POST", path: login, header: self, want: 400, docRejects: true,
		body: map[string]string{"username": "erin", "password": "correct horse battery", "session": "jar"}})
	cookie := s.lastCookie
	withCookie := func(origin string) map[string]string {
		return map[string]string{"Origin": origin, "Cookie": "chat_refresh=" + cookie}
	}
	s.do(oasExchange{method: "POST", path: refresh, header: withCookie("https://evil.example.net"), body: map[string]string{}, want: 403})
	s.do(oasExchange{method: "POST", path: refresh, header: withCookie("http://example.com"), body: map[string]string{}, want: 200})
	cookie = s.lastCookie
	s.do(oasExchange{method: "POST", path: logout, header: withCookie("https://evil.example.net"), body: map[string]string{}, want: 403})
	s.do(oasExchange{method: "POST", path: logout, header: withCookie("http://example.com"), body: map[string]string{}, want: 204})
	s.do(oasExchange{method: "POST", path: refresh, header: withCookie("http://example.com"), body: map[string]string{}, want: 401})

	// Logout everywhere.
	_, gwen, _ := s.register("gwen")
	gwen2, _ := s.login("gwen", "correct horse battery")
	s.do(oasExchange{method: "POST", path: "/api/v1/auth/logout-all", want: 401, docRejects: true})
	s.do(oasExchange{method: "POST", path: "/api/v1/auth/logout-all", token: gwen, want: 204})
	s.do(oasExchange{method: "GET", path: "/api/v1/users/me", token: gwen2, want: 401})

	// ---- users ----
	s.do(oasExchange{method: "GET", path: "/api/v1/users/me", token: alice, want: 200})
	s.do(oasExchange{method: "GET", path: "/api/v1/users/me", want: 401, docRejects: true})
	s.do(oasExchange{method: "GET", path: "/api/v1/users/me", token: "not.a.jwt", want: 401})
	s.do(oasExchange{method: "PATCH", path: "/api/v1/users/me", token: alice, body: map[string]string{"display_name": "Alice A."}, want: 200})
	s.do(oasExchange{method: "PATCH", path: "/api/v1/users/me", token: alice, body: map[string]string{"password": "a new password"}, want: 400, docRejects: true})
	s.do(oasExchange{method: "PATCH", path: "/api/v1/users/me", token: alice, body: map[string]string{"password": "a new password", "current_password": "wrong password"}, want: 400})
	s.do(oasExchange{method: "PATCH", path: "/api/v1/users/me", token: alice, body: map[string]string{"password": "a new password", "current_password": "correct horse battery"}, want: 200})
	// The change ended every session of alice's, this one too.
	s.do(oasExchange{method: "GET", path: "/api/v1/users/me", token: alice, want: 401})
	alice, _ = s.login("alice", "a new password")
	s.do(oasExchange{method: "PATCH", path: "/api/v1/users/me", token: alice, body: map[string]any{"display_name": strings.Repeat("x", 65)}, want: 400, docRejects: true})
	s.do(oasExchange{method: "PATCH", path: "/api/v1/users/me", token: alice, body: map[string]any{"display_name": "\u2066Alice"}, want: 400, docRejects: true})
	s.do(oasExchange{method: "POST", path: reg, body: map[string]any{"username": "erin", "password": "long enough 1", "display_name": "E\x00"}, want: 400, docRejects: true})

	s.do(oasExchange{method: "GET", path: "/api/v1/users?q=a&limit=1", token: alice, want: 200})
	s.do(oasExchange{method: "GET", path: "/api/v1/users", token: alice, want: 200})
	s.do(oasExchange{method: "GET", path: "/api/v1/users?limit=0", token: alice, want: 400, docRejects: true})
	s.do(oasExchange{method: "GET", path: "/api/v1/users?limit=many", token: alice, want: 400, docRejects: true})
	s.do(oasExchange{method: "GET", path: "/api/v1/users?q=%00", token: alice, want: 400, docRejects: true})
	s.do(oasExchange{method: "GET", path: "/api/v1/users?q=" + strings.Repeat("x", 101), token: alice, want: 400, docRejects: true})
	s.do(oasExchange{method: "GET", path: fmt.Sprintf("/api/v1/users/%d", bobID), token: alice, want: 200})
	s.do(oasExchange{method: "GET", path: "/api/v1/users/999999", token: alice, want: 404})
	s.do(oasExchange{method: "GET", path: "/api/v1/users/abc", token: alice, want: 400, docRejects: true})
	s.do(oasExchange{method: "GET", path: "/api/v1/users/0", token: alice, want: 400, docRejects: true})

	// ---- groups ----
	body = s.do(oasExchange{method: "POST", path: "/api/v1/groups", token: alice, body: map[string]string{"name": "general", "description": "Anything goes"}, want: 201})
	pub := idOf(t, body)
	body = s.do(oasExchange{method: "POST", path: "/api/v1/groups", token: alice, body: map[string]string{"name": "secret", "visibility": "private"}, want: 201})
	priv := idOf(t, body)
	s.do(oasExchange{method: "POST", path: "/api/v1/groups", token: alice, body: map[string]string{"name": ""}, want: 400, docRejects: true})
	s.do(oasExchange{method: "POST", path: "/api/v1/groups", token: alice, body: map[string]string{"name": "x", "visibility": "hidden"}, want: 400, docRejects: true})
	s.do(oasExchange{method: "POST", path: "/api/v1/groups", body: map[string]string{"name": "x"}, want: 401, docRejects: true})
	s.do(oasExchange{method: "GET", path: "/api/v1/groups?q=gen", token: dave, want: 200})
	s.do(oasExchange{method: "GET", path: "/api/v1/groups?limit=101", token: dave, want: 400, docRejects: true})
	s.do(oasExchange{method: "GET", path: "/api/v1/groups?q=%E2%80%AE", token: dave, want: 400, docRejects: true})
	s.do(oasExchange{method: "POST", path: "/api/v1/groups", token: alice, body: map[string]string{"name": "\u3164"}, want: 400, docRejects: true})
	s.do(oasExchange{method: "POST", path: "/api/v1/groups", token: alice, body: map[string]string{"name": "x", "description": "\u0085"}, want: 400, docRejects: true})
	// However many fields fail, details names at most 20.
	many := map[string]int{}
	for i := range 30 {
		many[fmt.Sprintf("extra_%d", i)] = i
	}
	s.do(oasExchange{method: "POST", path: "/api/v1/groups", token: alice, body: many, want: 400, docRejects: true})

	gp := func(format string, args ...any) string {
		return fmt.Sprintf("/api/v1/groups/%d"+format, append([]any{pub}, args...)...)
	}
	s.do(oasExchange{method: "GET", path: gp(""), token: dave, want: 200})
	s.do(oasExchange{method: "GET", path: fmt.Sprintf("/api/v1/groups/%d", priv), token: dave, want: 404})
	s.do(oasExchange{method: "GET", path: fmt.Sprintf("/api/v1/groups/%d", priv), token: alice, want: 200})
	s.do(oasExchange{method: "GET", path: "/api/v1/groups/999999", token: alice, want: 404})
	s.do(oasExchange{method: "GET", path: "/api/v1/groups/-1", token: alice, want: 400, docRejects: true})

	s.do(oasExchange{method: "POST", path: gp("/join"), token: bob, want: 200})
	s.do(oasExchange{method: "POST", path: gp("/join"), token: bob, want: 200})
	s.do(oasExchange{method: "POST", path: gp("/join"), token: carol, want: 200})
	s.do(oasExchange{method: "POST", path: fmt.Sprintf("/api/v1/groups/%d/join", priv), token: dave, want: 404})

	s.do(oasExchange{method: "PATCH", path: gp(""), token: alice, body: map[string]string{"description": "Everything"}, want: 200})
	s.do(oasExchange{method: "PATCH", path: gp(""), token: carol, body: map[string]string{"description": "Mine now"}, want: 403})
	s.do(oasExchange{method: "PATCH", path: gp(""), token: alice, body: map[string]any{"visibility": 1}, want: 400, docRejects: true})
	s.do(oasExchange{method: "PATCH", path: gp(""), token: alice, body: map[string]any{"name": "\u200b"}, want: 400, docRejects: true})

	s.do(oasExchange{method: "GET", path: gp("/members"), token: carol, want: 200})
	s.do(oasExchange{method: "GET", path: gp("/members"), token: dave, want: 403})
	s.do(oasExchange{method: "POST", path: fmt.Sprintf("/api/v1/groups/%d/members", priv), token: alice, body: map[string]int64{"user_id": carolID}, want: 201})
	s.do(oasExchange{method: "POST", path: fmt.Sprintf("/api/v1/groups/%d/members", priv), token: alice, body: map[string]int64{"user_id": carolID}, want: 409})
	s.do(oasExchange{method: "POST", path: fmt.Sprintf("/api/v1/groups/%d/members", priv), token: carol, body: map[string]int64{"user_id": bobID}, want: 403})
	s.do(oasExchange{method: "POST", path: fmt.Sprintf("/api/v1/groups/%d/members", priv), token: alice, body: map[string]int64{"user_id": 999999}, want: 404})
	s.do(oasExchange{method: "POST", path: fmt.Sprintf("/api/v1/groups/%d/members", priv), token: alice, body: map[string]any{}, want: 400, docRejects: true})

	s.do(oasExchange{method: "PATCH", path: gp("/members/%d", bobID), token: alice, body: map[string]string{"role": "admin"}, want: 200})
	s.do(oasExchange{method: "PATCH", path: gp("/members/%d", carolID), token: bob, body: map[string]string{"role": "admin"}, want: 403})
	s.do(oasExchange{method: "PATCH", path: gp("/members/%d", carolID), token: alice, body: map[string]string{"role": "owner"}, want: 400, docRejects: true})
	s.do(oasExchange{method: "PATCH", path: gp("/members/%d", 999999), token: alice, body: map[string]string{"role": "admin"}, want: 404})

	s.do(oasExchange{method: "POST", path: gp("/read"), token: carol, body: map[string]int64{"seq": 0}, want: 204})
	s.do(oasExchange{method: "POST", path: gp("/read"), token: dave, body: map[string]int64{"seq": 0}, want: 403})
	s.do(oasExchange{method: "POST", path: gp("/read"), token: carol, body: map[string]int64{"seq": -1}, want: 400, docRejects: true})

	// ---- direct conversations ----
	s.do(oasExchange{method: "POST", path: "/api/v1/direct", token: alice, body: map[string]int64{"user_id": bobID}, want: 201})
	s.do(oasExchange{method: "POST", path: "/api/v1/direct", token: bob, body: map[string]int64{"user_id": aliceID}, want: 200})
	s.do(oasExchange{method: "POST", path: "/api/v1/direct", token: alice, body: map[string]int64{"user_id": 999999}, want: 404})
	s.do(oasExchange{method: "POST", path: "/api/v1/direct", token: alice, body: map[string]string{"user_id": "bob"}, want: 400, docRejects: true})
	s.do(oasExchange{method: "GET", path: "/api/v1/me/groups", token: alice, want: 200})
	s.do(oasExchange{method: "GET", path: "/api/v1/me/groups", want: 401, docRejects: true})

	// ---- messages ----
	body = s.do(oasExchange{method: "POST", path: gp("/messages"), token: alice, body: map[string]string{"body": "hello", "client_id": "c-1"}, want: 201})
	first := idOf(t, body)
	s.do(oasExchange{method: "POST", path: gp("/messages"), token: alice, body: map[string]string{"body": "hello", "client_id": "c-1"}, want: 200})
	body = s.do(oasExchange{method: "POST", path: gp("/messages"), token: carol, body: map[string]string{"body": "hi <b>all</b>"}, want: 201})
	carolsMsg := idOf(t, body)
	s.do(oasExchange{method: "POST", path: gp("/messages"), token: dave, body: map[string]string{"body": "let me in"}, want: 403})
	s.do(oasExchange{method: "POST", path: gp("/messages"), token: alice, body: map[string]string{"body": "   "}, want: 400, docRejects: true})
	s.do(oasExchange{method: "POST", path: gp("/messages"), token: alice, body: map[string]string{"body": "x", "client_id": strings.Repeat("c", 65)}, want: 400, docRejects: true})
	s.do(oasExchange{method: "POST", path: gp("/messages"), token: alice, body: map[string]string{"body": strings.Repeat("x", 2<<20)}, want: 413, docRejects: true})
	s.do(oasExchange{method: "POST", path: "/api/v1/groups/999999/messages", token: alice, body: map[string]string{"body": "anyone?"}, want: 404})
	// The text rules: refused characters and invisible-only values are
	// refused by the document too; decomposed text is accepted (and stored
	// in NFC).
	s.do(oasExchange{method: "POST", path: gp("/messages"), token: alice, body: map[string]string{"body": "Cafe\u0301 \u200b"}, want: 201})
	s.do(oasExchange{method: "POST", path: gp("/messages"), token: alice, body: map[string]string{"body": "a\x00b"}, want: 400, docRejects: true})
	s.do(oasExchange{method: "POST", path: gp("/messages"), token: alice, body: map[string]string{"body": "invoice\u202egnp.exe"}, want: 400, docRejects: true})
	s.do(oasExchange{method: "POST", path: gp("/messages"), token: alice, body: map[string]string{"body": " \u200b\u2060\ufeff\u3164 "}, want: 400, docRejects: true})
	s.do(oasExchange{method: "POST", path: gp("/messages"), token: alice, body: map[string]string{"body": "ok", "client_id": "\x1b"}, want: 400, docRejects: true})

	s.do(oasExchange{method: "GET", path: gp("/messages"), token: carol, want: 200})
	s.do(oasExchange{method: "GET", path: gp("/messages?before_seq=2&limit=1"), token: carol, want: 200})
	s.do(oasExchange{method: "GET", path: gp("/messages?after_seq=1"), token: carol, want: 200})
	s.do(oasExchange{method: "GET", path: gp("/messages?after_seq=0&limit=1"), token: carol, want: 200})
	s.do(oasExchange{method: "GET", path: gp("/messages?limit=201"), token: carol, want: 400, docRejects: true})
	s.do(oasExchange{method: "GET", path: gp("/messages?before_seq=0"), token: carol, want: 400, docRejects: true})
	// The one rule the schema cannot say: the two cursors exclude each other.
	s.do(oasExchange{method: "GET", path: gp("/messages?before_seq=2&after_seq=1"), token: carol, want: 400})
	s.do(oasExchange{method: "GET", path: gp("/messages"), token: dave, want: 403})
	s.do(oasExchange{method: "GET", path: fmt.Sprintf("/api/v1/groups/%d/messages", priv), token: dave, want: 404})

	mp := func(id int64) string { return fmt.Sprintf("/api/v1/messages/%d", id) }
	s.do(oasExchange{method: "PATCH", path: mp(first), token: alice, body: map[string]string{"body": "hello, edited"}, want: 200})
	s.do(oasExchange{method: "PATCH", path: mp(first), token: bob, body: map[string]string{"body": "not mine"}, want: 403})
	s.do(oasExchange{method: "PATCH", path: mp(first), token: alice, body: map[string]string{}, want: 400, docRejects: true})
	s.do(oasExchange{method: "PATCH", path: mp(first), token: alice, body: map[string]string{"body": "\u2069"}, want: 400, docRejects: true})
	s.do(oasExchange{method: "PATCH", path: mp(999999), token: alice, body: map[string]string{"body": "ghost"}, want: 404})
	s.do(oasExchange{method: "DELETE", path: mp(carolsMsg), token: dave, want: 403})
	s.do(oasExchange{method: "DELETE", path: mp(carolsMsg), token: bob, want: 204}) // an admin may delete others' messages
	s.do(oasExchange{method: "DELETE", path: mp(999999), token: alice, want: 404})
	s.do(oasExchange{method: "GET", path: gp("/messages"), token: alice, want: 200}) // shows the deleted one

	// ---- leaving and removing ----
	s.do(oasExchange{method: "POST", path: gp("/leave"), token: carol, want: 204})
	s.do(oasExchange{method: "POST", path: gp("/leave"), token: alice, want: 409})
	s.do(oasExchange{method: "DELETE", path: gp("/members/%d", bobID), token: carol, want: 403})
	s.do(oasExchange{method: "DELETE", path: gp("/members/%d", bobID), token: alice, want: 204})
	s.do(oasExchange{method: "DELETE", path: gp(""), token: bob, want: 403})
	s.do(oasExchange{method: "DELETE", path: gp(""), token: alice, want: 204})
	s.do(oasExchange{method: "DELETE", path: gp(""), token: alice, want: 404})

	// ---- operations ----
	s.do(oasExchange{method: "GET", path: "/healthz", want: 200})
	s.do(oasExchange{method: "GET", path: "/readyz", want: 200})
	s.do(oasExchange{method: "GET", path: "/metrics", want: 404, undocumented: true})
	served := s.do(oasExchange{method: "GET", path: "/api/v1/openapi.json", want: 200})
	onDisk, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(served, onDisk) {
		t.Error("GET /api/v1/openapi.json does not serve openapi.json")
	}

	// ---- routes the document does not have ----
	s.do(oasExchange{method: "GET", path: "/api/v1/nothing-here", token: alice, want: 404, undocumented: true})
	s.do(oasExchange{method: "PUT", path: "/api/v1/users/me", token: alice, body: map[string]string{}, want: 405, undocumented: true})
	s.do(oasExchange{method: "GET", path: "/api/v1/auth/login", want: 405, undocumented: true})

	// ---- answers that need another configuration ----
	t.Run("rate limited", func(t *testing.T) {
		svc, _ := oasService(t)
		h := httpapi.New(httpapi.Options{Service: svc, AuthLimiter: auth.NewLimiter(1, 1)})
		rs := newOASSuite(t, doc, h)
		rs.register("frank")
		rs.do(oasExchange{method: "POST", path: reg, body: map[string]string{"username": "grace", "password": "long enough 1"}, want: 429})
		rs.do(oasExchange{method: "POST", path: login, body: map[string]string{"username": "frank", "password": "correct horse battery"}, want: 429})
		for k := range rs.seen {
			s.seen[k] = true
		}
	})
	t.Run("not ready", func(t *testing.T) {
		svc, _ := oasService(t)
		down := func(context.Context) error { return errors.New("connection refused") }
		h := httpapi.New(httpapi.Options{Service: svc, Ready: map[string]httpapi.Check{"database": down}})
		rs := newOASSuite(t, doc, h)
		rs.do(oasExchange{method: "GET", path: "/readyz", want: 503})
		rs.do(oasExchange{method: "GET", path: "/healthz", want: 200})
		for k := range rs.seen {
			s.seen[k] = true
		}
	})

	// The WebSocket upgrade belongs to package realtime and is tested there;
	// it is documented here for completeness of the API surface.
	s.coverage("websocket")
}

// TestOpenAPIDocumentRejectsDrift makes sure the checks above have teeth: a
// response the document does not describe must fail validation.
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

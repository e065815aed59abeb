package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/chatapp/chat/auth"
	"github.com/chatapp/chat/httpapi"
)

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
	s.do(oasExchange{method: "POST", path: gp("/messages"), token: alice, body: map[string]string{"body": "   "}, want: 400})
	s.do(oasExchange{method: "POST", path: gp("/messages"), token: alice, body: map[string]string{"body": "x", "client_id": strings.Repeat("c", 65)}, want: 400, docRejects: true})
	s.do(oasExchange{method: "POST", path: gp("/messages"), token: alice, body: map[string]string{"body": strings.Repeat("x", 2<<20)}, want: 413, docRejects: true})
	s.do(oasExchange{method: "POST", path: "/api/v1/groups/999999/messages", token: alice, body: map[string]string{"body": "anyone?"}, want: 404})
	// The text rules: refused characters are refused by the document too
	// (a blank body only by the server: with attachment_ids it may be
	// empty, which the document's types do not tie together); decomposed
	// text is accepted (and stored in NFC).
	s.do(oasExchange{method: "POST", path: gp("/messages"), token: alice, body: map[string]string{"body": "Cafe\u0301 \u200b"}, want: 201})
	s.do(oasExchange{method: "POST", path: gp("/messages"), token: alice, body: map[string]string{"body": "a\x00b"}, want: 400, docRejects: true})
	s.do(oasExchange{method: "POST", path: gp("/messages"), token: alice, body: map[string]string{"body": "invoice\u202egnp.exe"}, want: 400, docRejects: true})
	s.do(oasExchange{method: "POST", path: gp("/messages"), token: alice, body: map[string]string{"body": " \u200b\u2060\ufeff\u3164 "}, want: 400})
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

	// Replies and reactions.
	s.do(oasExchange{method: "POST", path: gp("/messages"), token: carol, body: map[string]any{"body": "re", "reply_to_id": first}, want: 201})
	body = s.do(oasExchange{method: "POST", path: fmt.Sprintf("/api/v1/groups/%d/messages", priv), token: alice, body: map[string]any{"body": "private"}, want: 201})
	s.do(oasExchange{method: "POST", path: gp("/messages"), token: carol, body: map[string]any{"body": "re", "reply_to_id": idOf(t, body)}, want: 400})
	s.do(oasExchange{method: "POST", path: gp("/messages"), token: carol, body: map[string]any{"body": "re", "reply_to_id": 0}, want: 400, docRejects: true})
	rp := func(id int64, emoji string) string { return mp(id) + "/reactions/" + url.PathEscape(emoji) }
	s.do(oasExchange{method: "PUT", path: rp(first, "👍"), token: carol, want: 204})
	s.do(oasExchange{method: "PUT", path: rp(first, "👍"), token: carol, want: 204})
	s.do(oasExchange{method: "PUT", path: rp(first, "👍🏽"), token: alice, want: 204})
	s.do(oasExchange{method: "GET", path: gp("/messages"), token: carol, want: 200})
	s.do(oasExchange{method: "DELETE", path: rp(first, "👍"), token: carol, want: 204})
	s.do(oasExchange{method: "DELETE", path: rp(first, "👍"), token: carol, want: 204})
	s.do(oasExchange{method: "PUT", path: rp(first, "ab"), token: carol, want: 400})
	s.do(oasExchange{method: "PUT", path: rp(first, "👍"), token: dave, want: 403})
	s.do(oasExchange{method: "PUT", path: rp(999999, "👍"), token: carol, want: 404})

	// Attachments.
	pic := pngImage(t, 16, 8, true)
	mp1, ct := multipartBody(t, "file", "pic.png", pic)
	multi := map[string]string{"Content-Type": ct}
	body = s.do(oasExchange{method: "POST", path: gp("/attachments"), token: carol, body: mp1, header: multi, want: 201})
	var att struct {
		ID           int64  `json:"id"`
		URL          string `json:"url"`
		ThumbnailURL string `json:"thumbnail_url"`
	}
	if err := json.Unmarshal(body, &att); err != nil {
		t.Fatal(err)
	}
	s.do(oasExchange{method: "POST", path: gp("/attachments"), token: dave, body: mp1, header: multi, want: 403})
	mp2, ct2 := multipartBody(t, "file", "bomb.png", pngBomb(t))
	s.do(oasExchange{method: "POST", path: gp("/attachments"), token: carol, body: mp2, header: map[string]string{"Content-Type": ct2}, want: 400})
	s.do(oasExchange{method: "POST", path: gp("/attachments"), token: carol, body: map[string]string{"file": "x"}, want: 415, docRejects: true})
	s.do(oasExchange{method: "POST", path: gp("/messages"), token: carol, body: map[string]any{"attachment_ids": []int64{att.ID}}, want: 201})
	s.do(oasExchange{method: "POST", path: gp("/messages"), token: carol, body: map[string]any{"body": "again", "attachment_ids": []int64{att.ID}}, want: 400})
	s.do(oasExchange{method: "POST", path: gp("/messages"), token: carol, body: map[string]any{"attachment_ids": []int64{}}, want: 400})
	ap := func(kind string) string { return fmt.Sprintf("/api/v1/attachments/%d/%s", att.ID, kind) }
	s.do(oasExchange{method: "GET", path: ap("content"), token: bob, want: 200})
	s.do(oasExchange{method: "GET", path: ap("content"), token: bob, header: map[string]string{"Range": "bytes=0-3"}, want: 206})
	s.do(oasExchange{method: "GET", path: ap("content"), token: bob, header: map[string]string{"Range": "bytes=99999-"}, want: 416})
	s.do(oasExchange{method: "GET", path: att.URL, want: 200})
	s.do(oasExchange{method: "GET", path: att.ThumbnailURL, want: 200})
	s.do(oasExchange{method: "GET", path: att.ThumbnailURL, header: map[string]string{"Range": "bytes=0-1"}, want: 206})
	s.do(oasExchange{method: "GET", path: ap("thumbnail"), token: dave, want: 403})
	s.do(oasExchange{method: "GET", path: ap("content"), want: 401})
	s.do(oasExchange{method: "GET", path: ap("content") + "?exp=1&sig=forged", want: 401})
	s.do(oasExchange{method: "GET", path: "/api/v1/attachments/999999/content", token: bob, want: 404})
	s.do(oasExchange{method: "PATCH", path: mp(first), token: alice, body: map[string]string{"body": "hello, edited"}, want: 200})
	s.do(oasExchange{method: "PATCH", path: mp(first), token: bob, body: map[string]string{"body": "not mine"}, want: 403})
	s.do(oasExchange{method: "PATCH", path: mp(first), token: alice, body: map[string]string{}, want: 400, docRejects: true})
	s.do(oasExchange{method: "PATCH", path: mp(first), token: alice, body: map[string]string{"body": "\u2069"}, want: 400, docRejects: true})
	s.do(oasExchange{method: "PATCH", path: mp(999999), token: alice, body: map[string]string{"body": "ghost"}, want: 404})
	s.do(oasExchange{method: "DELETE", path: mp(carolsMsg), token: dave, want: 403})
	s.do(oasExchange{method: "DELETE", path: mp(carolsMsg), token: bob, want: 204}) // an admin may delete others' messages
	s.do(oasExchange{method: "DELETE", path: mp(999999), token: alice, want: 404})
	s.do(oasExchange{method: "PUT", path: rp(carolsMsg, "👍"), token: alice, want: 409})
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

package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/chat"
)

type searchPage struct {
	Items      []chat.Message `json:"items"`
	NextCursor *string        `json:"next_cursor"`
}

func TestSearchMessages(t *testing.T) {
	forEachStore(t, func(t *testing.T, st app.Store) {
		h := newHarness(t, st, nil)
		_, alice := h.user("alice")
		_, bob := h.user("bob")
		group := func(token, name, vis string) int64 {
			var g chat.Group
			r := h.do("POST", "/api/v1/groups", token, map[string]string{"name": name, "visibility": vis})
			expect(t, r, http.StatusCreated, "")
			r.decode(t, &g)
			return g.ID
		}
		mine, theirs, hidden := group(alice, "mine", "public"), group(bob, "theirs", "public"), group(bob, "hidden", "private")
		for gid, tok := range map[int64]string{mine: alice, theirs: bob, hidden: bob} {
			expect(t, h.do("POST", fmt.Sprintf("/api/v1/groups/%d/messages", gid), tok, map[string]string{"body": fmt.Sprintf("quarterly report of group %d", gid)}), http.StatusCreated, "")
		}
		find := func(token, q string, extra string) (searchPage, response) {
			t.Helper()
			r := h.do("GET", "/api/v1/search/messages?q="+url.QueryEscape(q)+extra, token, nil)
			var p searchPage
			if r.code == http.StatusOK {
				r.decode(t, &p)
			}
			return p, r
		}
		p, r := find(alice, "quarterly repo", "")
		expect(t, r, http.StatusOK, "")
		if len(p.Items) != 1 || p.Items[0].GroupID != mine || p.NextCursor != nil {
			t.Fatalf("alice's search = %s, want her group's message only", r.body)
		}
		p, r = find(bob, `"quarterly report"`, "&limit=1")
		expect(t, r, http.StatusOK, "")
		if len(p.Items) != 1 || p.NextCursor == nil {
			t.Fatalf("bob's first page = %s", r.body)
		}
		p2, r := find(bob, `"quarterly report"`, "&limit=1&cursor="+url.QueryEscape(*p.NextCursor))
		expect(t, r, http.StatusOK, "")
		if len(p2.Items) != 1 || p2.NextCursor != nil || p2.Items[0].ID == p.Items[0].ID {
			t.Fatalf("bob's second page = %s", r.body)
		}

		_, r = find(alice, "-quarterly", "")
		expect(t, r, http.StatusBadRequest, "search_query_empty")
		_, r = find(alice, `" - "`, "")
		expect(t, r, http.StatusBadRequest, "search_query_empty")
		_, r = find(alice, "", "")
		expect(t, r, http.StatusBadRequest, "search_query_empty")
		_, r = find(alice, strings.Repeat("x", 401), "")
		expect(t, r, http.StatusBadRequest, "validation_failed")
		if r.err(t).Error.Details["q"] == "" {
			t.Fatalf("a long query's error names no field: %s", r.body)
		}
		_, r = find(alice, strings.Repeat("quarterly ", 40)[:400], "")
		expect(t, r, http.StatusOK, "")
		_, r = find(alice, "x", fmt.Sprintf("&group_id=%d", theirs))
		expect(t, r, http.StatusForbidden, "not_member")
		_, r = find(alice, "x", fmt.Sprintf("&group_id=%d", hidden))
		expect(t, r, http.StatusNotFound, "not_found")
		_, r = find(alice, "x", "&group_id=abc")
		expect(t, r, http.StatusBadRequest, "validation_failed")
		_, r = find(alice, "x", "&cursor=garbage")
		expect(t, r, http.StatusBadRequest, "validation_failed")
	})
}

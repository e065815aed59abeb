package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/chat"
)

// group makes a public group of owner's with the members joined.
func (h *harness) group(owner string, name string, members ...string) int64 {
	h.t.Helper()
	r := h.do("POST", "/api/v1/groups", owner, map[string]any{"name": name})
	expect(h.t, r, http.StatusCreated, "")
	var g chat.Group
	r.decode(h.t, &g)
	for _, m := range members {
		expect(h.t, h.do("POST", fmt.Sprintf("/api/v1/groups/%d/join", g.ID), m, nil), http.StatusOK, "")
	}
	return g.ID
}

func (h *harness) post(token string, gid int64, body map[string]any) chat.Message {
	h.t.Helper()
	r := h.do("POST", fmt.Sprintf("/api/v1/groups/%d/messages", gid), token, body)
	expect(h.t, r, http.StatusCreated, "")
	var m chat.Message
	r.decode(h.t, &m)
	return m
}

func (h *harness) history(token string, gid int64) []chat.Message {
	h.t.Helper()
	r := h.do("GET", fmt.Sprintf("/api/v1/groups/%d/messages", gid), token, nil)
	expect(h.t, r, http.StatusOK, "")
	var page messagePage
	r.decode(h.t, &page)
	return page.Items
}

func reactionPath(mid int64, emoji string) string {
	return fmt.Sprintf("/api/v1/messages/%d/reactions/%s", mid, url.PathEscape(emoji))
}

func TestReplies(t *testing.T) {
	forEachStore(t, func(t *testing.T, st app.Store) {
		h := newHarness(t, st, nil)
		_, ann := h.user("ann")
		_, bob := h.user("bob")
		g := h.group(ann, "team", bob)
		other := h.group(ann, "other")
		long := strings.Repeat("word ", 100)
		q := h.post(ann, g, map[string]any{"body": long})
		elsewhere := h.post(ann, other, map[string]any{"body": "elsewhere"})

		r := h.post(bob, g, map[string]any{"body": "agreed", "reply_to_id": q.ID, "client_id": "r-1"})
		if r.ReplyTo == nil || r.ReplyTo.ID != q.ID || r.ReplyTo.Seq != q.Seq || r.ReplyTo.Sender.Username != "ann" ||
			r.ReplyTo.Body != strings.TrimSpace(long)[:200] || r.ReplyTo.Deleted {
			t.Fatalf("reply_to = %+v", r.ReplyTo)
		}
		// The idempotent repeat answers with the original and its reply.
		again := h.do("POST", fmt.Sprintf("/api/v1/groups/%d/messages", g), bob, map[string]any{"body": "agreed", "reply_to_id": q.ID, "client_id": "r-1"})
		expect(t, again, http.StatusOK, "")
		var rep chat.Message
		again.decode(t, &rep)
		if rep.ID != r.ID || rep.ReplyTo == nil || rep.ReplyTo.ID != q.ID {
			t.Errorf("repeat = %+v", rep)
		}

		// Another group's message (which bob cannot see) and a missing
		// one get the same answer.
		for _, target := range []int64{elsewhere.ID, elsewhere.ID + 1000} {
			res := h.do("POST", fmt.Sprintf("/api/v1/groups/%d/messages", g), bob, map[string]any{"body": "x", "reply_to_id": target})
			expect(t, res, http.StatusBadRequest, "validation_failed")
			if res.err(t).Error.Details["reply_to_id"] == "" {
				t.Errorf("error %s does not name reply_to_id", res.body)
			}
		}
		expect(t, h.do("POST", fmt.Sprintf("/api/v1/groups/%d/messages", g), bob, map[string]any{"body": "x", "reply_to_id": -1}), http.StatusBadRequest, "validation_failed")

		// A deleted original shows as deleted, without its text.
		expect(t, h.do("DELETE", fmt.Sprintf("/api/v1/messages/%d", q.ID), ann, nil), http.StatusNoContent, "")
		items := h.history(bob, g)
		if len(items) != 2 || items[1].ReplyTo == nil || !items[1].ReplyTo.Deleted || items[1].ReplyTo.Body != "" {
			t.Errorf("history = %+v", items)
		}
	})
}

func TestReactions(t *testing.T) {
	forEachStore(t, func(t *testing.T, st app.Store) {
		h := newHarness(t, st, nil)
		annID, ann := h.user("ann")
		bobID, bob := h.user("bob")
		_, eve := h.user("eve")
		g := h.group(ann, "team", bob)
		m := h.post(ann, g, map[string]any{"body": "react"})

		expect(t, h.do("PUT", reactionPath(m.ID, "👍"), bob, nil), http.StatusNoContent, "")
		expect(t, h.do("PUT", reactionPath(m.ID, "👍"), bob, nil), http.StatusNoContent, "")
		expect(t, h.do("PUT", reactionPath(m.ID, "👍"), ann, nil), http.StatusNoContent, "")
		expect(t, h.do("PUT", reactionPath(m.ID, "🎉"), ann, nil), http.StatusNoContent, "")
		// Each caller sees itself first among the reactors.
		for _, tc := range []struct {
			token string
			first int64
		}{{ann, annID}, {bob, bobID}} {
			items := h.history(tc.token, g)
			rs := items[0].Reactions
			if len(rs) != 2 || rs[0].Emoji != "👍" || rs[0].Count != 2 || rs[0].UserIDs[0] != tc.first || rs[1].Emoji != "🎉" {
				t.Errorf("reactions seen by %d = %+v", tc.first, rs)
			}
		}
		expect(t, h.do("DELETE", reactionPath(m.ID, "👍"), bob, nil), http.StatusNoContent, "")
		expect(t, h.do("DELETE", reactionPath(m.ID, "👍"), bob, nil), http.StatusNoContent, "")
		if rs := h.history(bob, g)[0].Reactions; rs[0].Count != 1 || !slices.Equal(rs[0].UserIDs, []int64{annID}) {
			t.Errorf("after bob's removal: %+v", rs)
		}

		for _, bad := range []string{"a", "👍👍", "%20", "1"} {
			r := h.do("PUT", fmt.Sprintf("/api/v1/messages/%d/reactions/%s", m.ID, bad), bob, nil)
			expect(t, r, http.StatusBadRequest, "validation_failed")
		}
		expect(t, h.do("PUT", reactionPath(m.ID, "👍"), eve, nil), http.StatusForbidden, "not_member")
		expect(t, h.do("PUT", reactionPath(m.ID+1000, "👍"), bob, nil), http.StatusNotFound, "not_found")

		// At most 20 distinct emoji.
		for i := 2; i < chat.ReactionsMax; i++ {
			expect(t, h.do("PUT", reactionPath(m.ID, string(rune(0x1F600+i))), bob, nil), http.StatusNoContent, "")
		}
		r := h.do("PUT", reactionPath(m.ID, "🚀"), bob, nil)
		expect(t, r, http.StatusBadRequest, "validation_failed")
		if r.err(t).Error.Details["emoji"] == "" {
			t.Errorf("21st emoji: %s", r.body)
		}
		expect(t, h.do("PUT", reactionPath(m.ID, "🎉"), bob, nil), http.StatusNoContent, "")

		// A deleted message takes none.
		expect(t, h.do("DELETE", fmt.Sprintf("/api/v1/messages/%d", m.ID), ann, nil), http.StatusNoContent, "")
		expect(t, h.do("PUT", reactionPath(m.ID, "👍"), bob, nil), http.StatusConflict, "conflict")
		if rs := h.history(bob, g)[0].Reactions; len(rs) != 0 {
			t.Errorf("a deleted message shows reactions %+v", rs)
		}
	})
}

// TestReactionRace toggles one reaction from many users at once: the count
// ends exact.
func TestReactionRace(t *testing.T) {
	forEachStore(t, func(t *testing.T, st app.Store) {
		h := newHarness(t, st, nil)
		_, owner := h.user("owner")
		const n = 16
		tokens := make([]string, n)
		ids := make([]int64, n)
		names := make([]string, n)
		for i := range n {
			names[i] = fmt.Sprintf("user%02d", i)
			ids[i], tokens[i] = h.user(names[i])
		}
		g := h.group(owner, "race", tokens...)
		m := h.post(owner, g, map[string]any{"body": "race"})
		var wg sync.WaitGroup
		codes := make(chan int, n*7)
		for i := range n {
			wg.Go(func() {
				for k := range 7 { // add, remove, … add: ends added
					method := "PUT"
					if k%2 == 1 {
						method = "DELETE"
					}
					codes <- h.do(method, reactionPath(m.ID, "❤️"), tokens[i], nil).code
				}
			})
		}
		wg.Wait()
		close(codes)
		for c := range codes {
			if c != http.StatusNoContent {
				t.Fatalf("a toggle answered %d", c)
			}
		}
		rs := h.history(owner, g)[0].Reactions
		if len(rs) != 1 || rs[0].Count != n || len(rs[0].UserIDs) != n {
			t.Fatalf("reactions = %+v, want %d reactors", rs, n)
		}
	})
}

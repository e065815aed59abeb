package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/chat"
)

type editList struct {
	Items []chat.Edit `json:"items"`
}

func TestMessageEditHistory(t *testing.T) {
	forEachStore(t, func(t *testing.T, st app.Store) {
		h := newHarness(t, st, nil)
		_, alice := h.user("alice")
		_, bob := h.user("bob")
		_, mallory := h.user("mallory")
		var g chat.Group
		r := h.do("POST", "/api/v1/groups", alice, map[string]string{"name": "history", "visibility": "private"})
		expect(t, r, http.StatusCreated, "")
		r.decode(t, &g)
		expect(t, h.do("POST", fmt.Sprintf("/api/v1/groups/%d/join", g.ID), bob, nil), http.StatusNotFound, "not_found")
		var m chat.Message
		r = h.do("POST", fmt.Sprintf("/api/v1/groups/%d/messages", g.ID), alice, map[string]string{"body": "v1"})
		expect(t, r, http.StatusCreated, "")
		r.decode(t, &m)
		edits := fmt.Sprintf("/api/v1/messages/%d/edits", m.ID)

		var list editList
		r = h.do("GET", edits, alice, nil)
		expect(t, r, http.StatusOK, "")
		if string(r.body) != `{"items":[]}` {
			t.Fatalf("edits of an unedited message = %s", r.body)
		}
		for _, body := range []string{"v2", "v3"} {
			expect(t, h.do("PATCH", fmt.Sprintf("/api/v1/messages/%d", m.ID), alice, map[string]string{"body": body}), http.StatusOK, "")
		}
		r = h.do("GET", edits, alice, nil)
		expect(t, r, http.StatusOK, "")
		r.decode(t, &list)
		if len(list.Items) != 2 || list.Items[0].Body != "v1" || list.Items[1].Body != "v2" ||
			list.Items[1].EditedAt.Before(list.Items[0].EditedAt) {
			t.Fatalf("edits = %+v, want v1 then v2", list.Items)
		}

		// Only members see it; a private group's message is not found.
		expect(t, h.do("GET", edits, mallory, nil), http.StatusNotFound, "not_found")
		expect(t, h.do("GET", "/api/v1/messages/999999/edits", alice, nil), http.StatusNotFound, "not_found")
		expect(t, h.do("GET", "/api/v1/messages/0/edits", alice, nil), http.StatusBadRequest, "validation_failed")

		// Deleting the message deletes its history.
		expect(t, h.do("DELETE", fmt.Sprintf("/api/v1/messages/%d", m.ID), alice, nil), http.StatusNoContent, "")
		r = h.do("GET", edits, alice, nil)
		expect(t, r, http.StatusOK, "")
		if string(r.body) != `{"items":[]}` {
			t.Fatalf("edits after delete = %s", r.body)
		}
	})
}

type myGroupList struct {
	Items []chat.MyGroup `json:"items"`
}

func TestMuteAndReadReceipts(t *testing.T) {
	forEachStore(t, func(t *testing.T, st app.Store) {
		h := newHarness(t, st, nil)
		aliceID, alice := h.user("alice")
		bobID, bob := h.user("bob")
		_, mallory := h.user("mallory")
		var g chat.Group
		r := h.do("POST", "/api/v1/groups", alice, map[string]string{"name": "quiet"})
		expect(t, r, http.StatusCreated, "")
		r.decode(t, &g)
		expect(t, h.do("POST", fmt.Sprintf("/api/v1/groups/%d/join", g.ID), bob, nil), http.StatusOK, "")
		for range 3 {
			expect(t, h.do("POST", fmt.Sprintf("/api/v1/groups/%d/messages", g.ID), alice, map[string]string{"body": "x"}), http.StatusCreated, "")
		}

		// Mute: the answer and the list say so; only for the caller.
		mine := fmt.Sprintf("/api/v1/me/groups/%d", g.ID)
		var mg chat.MyGroup
		r = h.do("PATCH", mine, bob, map[string]bool{"muted": true})
		expect(t, r, http.StatusOK, "")
		r.decode(t, &mg)
		if !mg.Muted || mg.ID != g.ID || mg.UnreadCount != 3 || mg.Role != chat.RoleMember {
			t.Fatalf("PATCH /me/groups = %+v", mg)
		}
		var list myGroupList
		r = h.do("GET", "/api/v1/me/groups", bob, nil)
		expect(t, r, http.StatusOK, "")
		r.decode(t, &list)
		if len(list.Items) != 1 || !list.Items[0].Muted {
			t.Fatalf("bob's groups = %+v", list.Items)
		}
		r = h.do("GET", "/api/v1/me/groups", alice, nil)
		expect(t, r, http.StatusOK, "")
		r.decode(t, &list)
		if len(list.Items) != 1 || list.Items[0].Muted {
			t.Fatalf("alice's groups = %+v", list.Items)
		}
		expect(t, h.do("PATCH", mine, bob, map[string]any{}), http.StatusBadRequest, "validation_failed")
		expect(t, h.do("PATCH", mine, bob, map[string]any{"muted": 1}), http.StatusBadRequest, "validation_failed")
		expect(t, h.do("PATCH", mine, bob, map[string]any{"muted": true, "pinned": true}), http.StatusBadRequest, "")
		expect(t, h.do("PATCH", mine, mallory, map[string]bool{"muted": true}), http.StatusForbidden, "not_member")
		expect(t, h.do("PATCH", "/api/v1/me/groups/999999", bob, map[string]bool{"muted": true}), http.StatusNotFound, "not_found")
		r = h.do("PATCH", mine, bob, map[string]bool{"muted": false})
		expect(t, r, http.StatusOK, "")
		r.decode(t, &mg)
		if mg.Muted {
			t.Fatalf("unmuted = %+v", mg)
		}

		// Read receipts: on by default, shown only to the user themself.
		var me chat.User
		r = h.do("GET", "/api/v1/users/me", bob, nil)
		expect(t, r, http.StatusOK, "")
		r.decode(t, &me)
		if me.ShareReadReceipts == nil || !*me.ShareReadReceipts {
			t.Fatalf("me = %s, want share_read_receipts true", r.body)
		}
		r = h.do("GET", fmt.Sprintf("/api/v1/users/%d", bobID), alice, nil)
		expect(t, r, http.StatusOK, "")
		var pub chat.User
		r.decode(t, &pub)
		if pub.ShareReadReceipts != nil {
			t.Fatalf("another user's profile shows their setting: %s", r.body)
		}
		expect(t, h.do("POST", fmt.Sprintf("/api/v1/groups/%d/read", g.ID), bob, map[string]int64{"seq": 2}), http.StatusNoContent, "")
		reads := fmt.Sprintf("/api/v1/groups/%d/reads", g.ID)
		r = h.do("GET", reads, alice, nil)
		expect(t, r, http.StatusOK, "")
		if want := fmt.Sprintf(`{"items":[{"user_id":%d,"last_read_seq":3},{"user_id":%d,"last_read_seq":2}]}`, aliceID, bobID); string(r.body) != want {
			t.Fatalf("reads = %s, want %s", r.body, want)
		}
		r = h.do("PATCH", "/api/v1/users/me", bob, map[string]bool{"share_read_receipts": false})
		expect(t, r, http.StatusOK, "")
		r.decode(t, &me)
		if me.ShareReadReceipts == nil || *me.ShareReadReceipts {
			t.Fatalf("me after hiding = %s", r.body)
		}
		r = h.do("GET", reads, alice, nil)
		expect(t, r, http.StatusOK, "")
		if want := fmt.Sprintf(`{"items":[{"user_id":%d,"last_read_seq":3}]}`, aliceID); string(r.body) != want {
			t.Fatalf("reads with bob hidden = %s, want %s", r.body, want)
		}
		expect(t, h.do("GET", reads, mallory, nil), http.StatusForbidden, "not_member")
		expect(t, h.do("PATCH", "/api/v1/users/me", bob, map[string]any{"share_read_receipts": "off"}), http.StatusBadRequest, "validation_failed")
	})
}

func TestMentions(t *testing.T) {
	forEachStore(t, func(t *testing.T, st app.Store) {
		h := newHarness(t, st, nil)
		_, alice := h.user("alice")
		bobID, bob := h.user("bob")
		h.user("mallory") // not a member: never mentioned
		var g chat.Group
		r := h.do("POST", "/api/v1/groups", alice, map[string]string{"name": "calls"})
		expect(t, r, http.StatusCreated, "")
		r.decode(t, &g)
		expect(t, h.do("POST", fmt.Sprintf("/api/v1/groups/%d/join", g.ID), bob, nil), http.StatusOK, "")
		var m chat.Message
		r = h.do("POST", fmt.Sprintf("/api/v1/groups/%d/messages", g.ID), alice, map[string]string{"body": "@Bob, @mallory: see this"})
		expect(t, r, http.StatusCreated, "")
		r.decode(t, &m)
		if len(m.Mentions) != 1 || m.Mentions[0] != bobID {
			t.Fatalf("mentions = %s", r.body)
		}
		r = h.do("POST", fmt.Sprintf("/api/v1/groups/%d/messages", g.ID), alice, map[string]string{"body": "nobody"})
		expect(t, r, http.StatusCreated, "")
		if !strings.Contains(string(r.body), `"mentions":[]`) {
			t.Fatalf("a message without mentions = %s, want \"mentions\":[]", r.body)
		}
		var page messagePage
		r = h.do("GET", fmt.Sprintf("/api/v1/groups/%d/messages", g.ID), bob, nil)
		expect(t, r, http.StatusOK, "")
		r.decode(t, &page)
		if len(page.Items) != 2 || len(page.Items[0].Mentions) != 1 || page.Items[0].Mentions[0] != bobID || len(page.Items[1].Mentions) != 0 {
			t.Fatalf("history = %s", r.body)
		}
		var list myGroupList
		r = h.do("GET", "/api/v1/me/groups", bob, nil)
		expect(t, r, http.StatusOK, "")
		r.decode(t, &list)
		if len(list.Items) != 1 || list.Items[0].MentionCount != 1 || list.Items[0].UnreadCount != 2 {
			t.Fatalf("bob's groups = %s", r.body)
		}
		expect(t, h.do("POST", fmt.Sprintf("/api/v1/groups/%d/read", g.ID), bob, map[string]int64{"seq": m.Seq}), http.StatusNoContent, "")
		r = h.do("GET", "/api/v1/me/groups", bob, nil)
		expect(t, r, http.StatusOK, "")
		r.decode(t, &list)
		if list.Items[0].MentionCount != 0 {
			t.Fatalf("mention count after reading = %s", r.body)
		}
	})
}

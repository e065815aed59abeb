package httpapi_test

import (
	"fmt"
	"net/http"
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

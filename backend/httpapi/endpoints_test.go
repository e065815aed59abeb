package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/chat"
)

type userPage struct {
	Items      []chat.User `json:"items"`
	NextCursor *string     `json:"next_cursor"`
}

type groupPage struct {
	Items      []chat.Group `json:"items"`
	NextCursor *string      `json:"next_cursor"`
}

type messagePage struct {
	Items   []chat.Message `json:"items"`
	HasMore *bool          `json:"has_more"`
}

func TestUserEndpoints(t *testing.T) {
	forEachStore(t, func(t *testing.T, st app.Store) {
		h := newHarness(t, st, nil)
		hid, token := h.user("heidi")
		for _, n := range []string{"heidrun", "ivan", "judy"} {
			h.user(n)
		}

		r := h.do("GET", "/api/v1/users/me", token, nil)
		expect(t, r, http.StatusOK, "")
		var me chat.User
		r.decode(t, &me)
		if me.ID != hid || me.Username != "heidi" || me.CreatedAt.IsZero() {
			t.Fatalf("me = %+v", me)
		}

		r = h.do("PATCH", "/api/v1/users/me", token, map[string]string{"display_name": " Heidi K "})
		expect(t, r, http.StatusOK, "")
		r.decode(t, &me)
		if me.DisplayName != "Heidi K" {
			t.Fatalf("display name %q", me.DisplayName)
		}
		expect(t, h.do("PATCH", "/api/v1/users/me", token, map[string]string{"password": "new password"}), http.StatusBadRequest, "validation_failed")
		expect(t, h.do("PATCH", "/api/v1/users/me", token, map[string]string{"password": "new password", "current_password": "wrong password"}),
			http.StatusBadRequest, "validation_failed")
		expect(t, h.do("PATCH", "/api/v1/users/me", token, map[string]string{"password": "new password", "current_password": "password-heidi"}),
			http.StatusOK, "")
		// The change ended this session too: the token is refused at once.
		expect(t, h.do("GET", "/api/v1/users/me", token, nil), http.StatusUnauthorized, "unauthorized")
		r = h.do("POST", "/api/v1/auth/login", "", map[string]string{"username": "heidi", "password": "new password"})
		expect(t, r, http.StatusOK, "")
		var again app.AuthResult
		r.decode(t, &again)
		token = again.AccessToken
		expect(t, h.do("PATCH", "/api/v1/users/me", token, map[string]any{"display_name": 7}), http.StatusBadRequest, "validation_failed")

		r = h.do("GET", "/api/v1/users?q=HEID&limit=1", token, nil)
		expect(t, r, http.StatusOK, "")
		var page userPage
		r.decode(t, &page)
		if len(page.Items) != 1 || page.Items[0].Username != "heidi" || page.NextCursor == nil {
			t.Fatalf("first page %s", r.body)
		}
		r = h.do("GET", "/api/v1/users?q=heid&limit=1&cursor="+*page.NextCursor, token, nil)
		expect(t, r, http.StatusOK, "")
		page = userPage{}
		r.decode(t, &page)
		if len(page.Items) != 1 || page.Items[0].Username != "heidrun" {
			t.Fatalf("second page %s", r.body)
		}
		r = h.do("GET", "/api/v1/users?q=nobody-matches", token, nil)
		expect(t, r, http.StatusOK, "")
		if got := string(r.body); got != `{"items":[],"next_cursor":null}` {
			t.Fatalf("empty search = %s", got)
		}
		for _, q := range []string{"limit=0", "limit=101", "limit=abc", "limit=-1", "q=" + strings.Repeat("x", 101)} {
			expect(t, h.do("GET", "/api/v1/users?"+q, token, nil), http.StatusBadRequest, "validation_failed")
		}

		r = h.do("GET", fmt.Sprintf("/api/v1/users/%d", hid), token, nil)
		expect(t, r, http.StatusOK, "")
		var u chat.User
		r.decode(t, &u)
		if u.ID != hid || u.Online == nil || *u.Online {
			t.Fatalf("user = %s", r.body)
		}
		expect(t, h.do("GET", "/api/v1/users/999999", token, nil), http.StatusNotFound, "not_found")
		for _, id := range []string{"abc", "0", "-1", "1.5", "99999999999999999999"} {
			r := h.do("GET", "/api/v1/users/"+id, token, nil)
			expect(t, r, http.StatusBadRequest, "validation_failed")
			if r.err(t).Error.Details["id"] == "" {
				t.Errorf("no id detail: %s", r.body)
			}
		}
	})
}

func TestGroupEndpoints(t *testing.T) {
	forEachStore(t, func(t *testing.T, st app.Store) {
		h := newHarness(t, st, nil)
		kid, kt := h.user("kim")
		lid, lt := h.user("lee")

		r := h.do("POST", "/api/v1/groups", kt, map[string]string{"name": " Gophers ", "description": "Go talk"})
		expect(t, r, http.StatusCreated, "")
		var g chat.Group
		r.decode(t, &g)
		if g.ID == 0 || g.Kind != chat.KindGroup || g.Name == nil || *g.Name != "Gophers" || g.Visibility != chat.Public ||
			g.OwnerID != kid || g.MemberCount != 1 || g.LastSeq != 0 {
			t.Fatalf("created %s", r.body)
		}
		r = h.do("POST", "/api/v1/groups", kt, map[string]string{"name": "Hidden", "visibility": "private"})
		expect(t, r, http.StatusCreated, "")
		var hidden chat.Group
		r.decode(t, &hidden)
		if hidden.Visibility != chat.Private {
			t.Fatalf("private group %s", r.body)
		}
		expect(t, h.do("POST", "/api/v1/groups", kt, map[string]string{"name": ""}), http.StatusBadRequest, "validation_failed")
		expect(t, h.do("POST", "/api/v1/groups", kt, map[string]string{"name": strings.Repeat("n", 65)}), http.StatusBadRequest, "validation_failed")

		// Search: the other user sees the public group only.
		r = h.do("GET", "/api/v1/groups", lt, nil)
		expect(t, r, http.StatusOK, "")
		var gp groupPage
		r.decode(t, &gp)
		if len(gp.Items) != 1 || gp.Items[0].ID != g.ID {
			t.Fatalf("lee's search %s", r.body)
		}
		gp = groupPage{}
		r = h.do("GET", "/api/v1/groups?q=hid", kt, nil)
		expect(t, r, http.StatusOK, "")
		r.decode(t, &gp)
		if len(gp.Items) != 1 || gp.Items[0].ID != hidden.ID {
			t.Fatalf("kim's search %s", r.body)
		}
		expect(t, h.do("GET", "/api/v1/groups?limit=500", kt, nil), http.StatusBadRequest, "validation_failed")

		r = h.do("GET", "/api/v1/me/groups", lt, nil)
		expect(t, r, http.StatusOK, "")
		if string(r.body) != `{"items":[]}` {
			t.Fatalf("empty my groups = %s", r.body)
		}
		expect(t, h.do("POST", fmt.Sprintf("/api/v1/groups/%d/join", g.ID), lt, nil), http.StatusOK, "")
		r = h.do("GET", "/api/v1/me/groups", lt, nil)
		expect(t, r, http.StatusOK, "")
		var mine struct{ Items []chat.MyGroup }
		r.decode(t, &mine)
		if len(mine.Items) != 1 || mine.Items[0].ID != g.ID || mine.Items[0].Role != chat.RoleMember {
			t.Fatalf("my groups %s", r.body)
		}

		// Direct: 201 the first time, 200 after, from either side.
		r = h.do("POST", "/api/v1/direct", kt, map[string]int64{"user_id": lid})
		expect(t, r, http.StatusCreated, "")
		var d chat.Group
		r.decode(t, &d)
		if d.Kind != chat.KindDirect || d.Name != nil || d.Peer == nil || d.Peer.ID != lid {
			t.Fatalf("direct %s", r.body)
		}
		if !strings.Contains(string(r.body), `"name":null`) {
			t.Fatalf("direct name is not null: %s", r.body)
		}
		r = h.do("POST", "/api/v1/direct", lt, map[string]int64{"user_id": kid})
		expect(t, r, http.StatusOK, "")
		var again chat.Group
		r.decode(t, &again)
		if again.ID != d.ID || again.Peer == nil || again.Peer.ID != kid {
			t.Fatalf("direct again %s", r.body)
		}
		expect(t, h.do("POST", "/api/v1/direct", kt, map[string]int64{"user_id": kid}), http.StatusBadRequest, "validation_failed")
		expect(t, h.do("POST", "/api/v1/direct", kt, map[string]int64{"user_id": 999999}), http.StatusNotFound, "not_found")

		// Path ids are validated before anything else.
		for _, path := range []string{"/api/v1/groups/x", "/api/v1/groups/0/members", "/api/v1/groups/-3/messages"} {
			expect(t, h.do("GET", path, kt, nil), http.StatusBadRequest, "validation_failed")
		}
		expect(t, h.do("PATCH", fmt.Sprintf("/api/v1/groups/%d/members/abc", g.ID), kt, map[string]string{"role": "admin"}),
			http.StatusBadRequest, "validation_failed")
		expect(t, h.do("PATCH", fmt.Sprintf("/api/v1/groups/%d/members/%d", g.ID, lid), kt, map[string]string{"role": "owner"}),
			http.StatusBadRequest, "validation_failed")
		expect(t, h.do("PATCH", fmt.Sprintf("/api/v1/groups/%d/members/%d", g.ID, lid), kt, map[string]string{}),
			http.StatusBadRequest, "validation_failed")
		expect(t, h.do("POST", fmt.Sprintf("/api/v1/groups/%d/read", g.ID), kt, map[string]string{}), http.StatusBadRequest, "validation_failed")
		expect(t, h.do("POST", fmt.Sprintf("/api/v1/groups/%d/read", g.ID), kt, map[string]int{"seq": -1}), http.StatusBadRequest, "validation_failed")
		expect(t, h.do("PATCH", fmt.Sprintf("/api/v1/groups/%d", g.ID), kt, map[string]string{"visibility": "hidden"}), http.StatusBadRequest, "validation_failed")

		// Members, roles and the answers' shapes.
		r = h.do("GET", fmt.Sprintf("/api/v1/groups/%d/members", g.ID), kt, nil)
		expect(t, r, http.StatusOK, "")
		var members struct{ Items []chat.Member }
		r.decode(t, &members)
		if len(members.Items) != 2 || members.Items[0].ID != kid || members.Items[0].Role != chat.RoleOwner {
			t.Fatalf("members %s", r.body)
		}
		r = h.do("PATCH", fmt.Sprintf("/api/v1/groups/%d/members/%d", g.ID, lid), kt, map[string]string{"role": "admin"})
		expect(t, r, http.StatusOK, "")
		var m chat.Member
		r.decode(t, &m)
		if m.ID != lid || m.Role != chat.RoleAdmin {
			t.Fatalf("set role %s", r.body)
		}
		mid, _ := h.user("mia")
		r = h.do("POST", fmt.Sprintf("/api/v1/groups/%d/members", g.ID), lt, map[string]int64{"user_id": mid})
		expect(t, r, http.StatusCreated, "")
		r.decode(t, &m)
		if m.ID != mid || m.Role != chat.RoleMember {
			t.Fatalf("add member %s", r.body)
		}
		expect(t, h.do("POST", fmt.Sprintf("/api/v1/groups/%d/members", g.ID), lt, map[string]int64{"user_id": mid}), http.StatusConflict, "conflict")
		expect(t, h.do("POST", fmt.Sprintf("/api/v1/groups/%d/members", g.ID), lt, map[string]int64{"user_id": 999999}), http.StatusNotFound, "not_found")
		expect(t, h.do("DELETE", fmt.Sprintf("/api/v1/groups/%d/members/999999", g.ID), kt, nil), http.StatusNotFound, "not_found")

		r = h.do("PATCH", fmt.Sprintf("/api/v1/groups/%d", g.ID), kt, map[string]any{"name": "Gophers 2", "visibility": "private"})
		expect(t, r, http.StatusOK, "")
		r.decode(t, &g)
		if *g.Name != "Gophers 2" || g.Visibility != chat.Private || g.MemberCount != 3 {
			t.Fatalf("updated %s", r.body)
		}

		expect(t, h.do("GET", "/api/v1/groups/999999", kt, nil), http.StatusNotFound, "not_found")
		expect(t, h.do("DELETE", fmt.Sprintf("/api/v1/groups/%d", g.ID), kt, nil), http.StatusNoContent, "")
		expect(t, h.do("GET", fmt.Sprintf("/api/v1/groups/%d", g.ID), kt, nil), http.StatusNotFound, "not_found")
	})
}

func TestMessageEndpoints(t *testing.T) {
	forEachStore(t, func(t *testing.T, st app.Store) {
		h := newHarness(t, st, nil)
		nid, nt := h.user("nina")
		_, ot := h.user("omar")
		r := h.do("POST", "/api/v1/groups", nt, map[string]string{"name": "Room"})
		expect(t, r, http.StatusCreated, "")
		var g chat.Group
		r.decode(t, &g)
		expect(t, h.do("POST", fmt.Sprintf("/api/v1/groups/%d/join", g.ID), ot, nil), http.StatusOK, "")
		msgs := fmt.Sprintf("/api/v1/groups/%d/messages", g.ID)

		r = h.do("GET", msgs, nt, nil)
		expect(t, r, http.StatusOK, "")
		if string(r.body) != `{"items":[],"has_more":false}` {
			t.Fatalf("empty history %s", r.body)
		}

		r = h.do("POST", msgs, nt, map[string]string{"body": "  <b>hello</b>  ", "client_id": "c-1"})
		expect(t, r, http.StatusCreated, "")
		var first chat.Message
		r.decode(t, &first)
		if first.ID == 0 || first.Seq != 1 || first.GroupID != g.ID || first.Sender.ID != nid || first.Body != "<b>hello</b>" ||
			first.ClientID == nil || *first.ClientID != "c-1" || first.EditedAt != nil || first.Deleted {
			t.Fatalf("sent %s", r.body)
		}
		// The same client_id again answers the original with 200.
		r = h.do("POST", msgs, nt, map[string]string{"body": "different", "client_id": "c-1"})
		expect(t, r, http.StatusOK, "")
		var repeat chat.Message
		r.decode(t, &repeat)
		if repeat.ID != first.ID || repeat.Body != first.Body || repeat.Seq != 1 {
			t.Fatalf("repeat %s", r.body)
		}
		for i := 2; i <= 5; i++ {
			expect(t, h.do("POST", msgs, ot, map[string]string{"body": fmt.Sprintf("m%d", i)}), http.StatusCreated, "")
		}
		for _, tc := range []struct{ name, body string }{
			{"empty body", `{"body":"   "}`},
			{"missing body", `{}`},
			{"too long body", `{"body":"` + strings.Repeat("a", 4001) + `"}`},
			{"too long client_id", `{"body":"x","client_id":"` + strings.Repeat("c", 65) + `"}`},
			{"body as number", `{"body":5}`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				expect(t, h.do("POST", msgs, nt, tc.body), http.StatusBadRequest, "validation_failed")
			})
		}

		// History paging, ascending by seq.
		r = h.do("GET", msgs+"?limit=2", nt, nil)
		expect(t, r, http.StatusOK, "")
		var page messagePage
		r.decode(t, &page)
		if len(page.Items) != 2 || page.Items[0].Seq != 4 || page.Items[1].Seq != 5 || page.HasMore == nil || !*page.HasMore {
			t.Fatalf("latest page %s", r.body)
		}
		page = messagePage{}
		r = h.do("GET", msgs+"?before_seq=4&limit=10", nt, nil)
		expect(t, r, http.StatusOK, "")
		r.decode(t, &page)
		if len(page.Items) != 3 || page.Items[0].Seq != 1 || *page.HasMore {
			t.Fatalf("older page %s", r.body)
		}
		page = messagePage{}
		r = h.do("GET", msgs+"?after_seq=3", nt, nil)
		expect(t, r, http.StatusOK, "")
		r.decode(t, &page)
		if len(page.Items) != 2 || page.Items[0].Seq != 4 {
			t.Fatalf("newer page %s", r.body)
		}
		// after_seq=0 catches up from the start, oldest first: seq 1 and 2.
		page = messagePage{}
		r = h.do("GET", msgs+"?after_seq=0&limit=2", nt, nil)
		expect(t, r, http.StatusOK, "")
		r.decode(t, &page)
		if len(page.Items) != 2 || page.Items[0].Seq != 1 || page.Items[1].Seq != 2 || page.HasMore == nil || !*page.HasMore {
			t.Fatalf("page after 0 %s", r.body)
		}
		for _, q := range []string{"limit=0", "limit=201", "limit=x", "before_seq=-1", "after_seq=y", "before_seq=0", "before_seq=4&after_seq=0", "before_seq=4&after_seq=1"} {
			expect(t, h.do("GET", msgs+"?"+q, nt, nil), http.StatusBadRequest, "validation_failed")
		}

		// Read marker.
		expect(t, h.do("POST", fmt.Sprintf("/api/v1/groups/%d/read", g.ID), nt, map[string]int{"seq": 5}), http.StatusNoContent, "")
		r = h.do("GET", "/api/v1/me/groups", nt, nil)
		expect(t, r, http.StatusOK, "")
		var mine struct{ Items []chat.MyGroup }
		r.decode(t, &mine)
		if len(mine.Items) != 1 || mine.Items[0].LastReadSeq != 5 || mine.Items[0].UnreadCount != 0 || mine.Items[0].LastMessage == nil {
			t.Fatalf("my groups after read %s", r.body)
		}

		// Edit and delete.
		one := fmt.Sprintf("/api/v1/messages/%d", first.ID)
		r = h.do("PATCH", one, nt, map[string]string{"body": "edited"})
		expect(t, r, http.StatusOK, "")
		var edited chat.Message
		r.decode(t, &edited)
		if edited.Body != "edited" || edited.EditedAt == nil || edited.Seq != 1 {
			t.Fatalf("edited %s", r.body)
		}
		expect(t, h.do("PATCH", one, nt, map[string]string{"body": ""}), http.StatusBadRequest, "validation_failed")
		expect(t, h.do("PATCH", one, nt, map[string]string{}), http.StatusBadRequest, "validation_failed")
		expect(t, h.do("DELETE", one, nt, nil), http.StatusNoContent, "")
		expect(t, h.do("DELETE", one, nt, nil), http.StatusNoContent, "")
		expect(t, h.do("PATCH", one, nt, map[string]string{"body": "again"}), http.StatusConflict, "conflict")
		page = messagePage{}
		r = h.do("GET", msgs+"?before_seq=2", nt, nil)
		expect(t, r, http.StatusOK, "")
		r.decode(t, &page)
		if len(page.Items) != 1 || !page.Items[0].Deleted || page.Items[0].Body != "" || page.Items[0].Seq != 1 {
			t.Fatalf("deleted message %s", r.body)
		}
		expect(t, h.do("PATCH", "/api/v1/messages/999999", nt, map[string]string{"body": "x"}), http.StatusNotFound, "not_found")
		expect(t, h.do("DELETE", "/api/v1/messages/999999", nt, nil), http.StatusNotFound, "not_found")
		expect(t, h.do("DELETE", "/api/v1/messages/zero", nt, nil), http.StatusBadRequest, "validation_failed")
		expect(t, h.do("GET", "/api/v1/groups/999999/messages", nt, nil), http.StatusNotFound, "not_found")
		expect(t, h.do("POST", "/api/v1/groups/999999/messages", nt, map[string]string{"body": "x"}), http.StatusNotFound, "not_found")
	})
}

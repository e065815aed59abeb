package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/chat"
)

// The roles of the authorization matrix. "member" is a plain member who
// sent the message under test; "other" is another plain member (not its
// sender); "outsider" is a user who is not in the group.
var matrixRoles = [...]string{"owner", "admin", "member", "other", "outsider"}

// fixture is one fresh group with one user per role and a message by
// "member".
type fixture struct {
	gid, mid int64
	ids      map[string]int64
	tokens   map[string]string
	newcomer int64 // a user in no group, for POST members
}

type matrixCase struct {
	name   string
	method string
	path   func(f fixture) string
	body   any
	// want is the status per role, for the public and the private group.
	public, private [5]int
}

func TestAuthorizationMatrix(t *testing.T) {
	const (
		ok    = http.StatusOK
		made  = http.StatusCreated
		none  = http.StatusNoContent
		no    = http.StatusForbidden
		gone  = http.StatusNotFound
		clash = http.StatusConflict
	)
	g := func(suffix string) func(f fixture) string {
		return func(f fixture) string { return fmt.Sprintf("/api/v1/groups/%d%s", f.gid, suffix) }
	}
	member := func(role string) func(f fixture) string {
		return func(f fixture) string { return fmt.Sprintf("/api/v1/groups/%d/members/%d", f.gid, f.ids[role]) }
	}
	msg := func(f fixture) string { return fmt.Sprintf("/api/v1/messages/%d", f.mid) }
	//                                                          owner admin member other outsider
	cases := []matrixCase{
		{"get group", "GET", g(""), nil, [5]int{ok, ok, ok, ok, ok}, [5]int{ok, ok, ok, ok, gone}},
		{"update group", "PATCH", g(""), map[string]string{"description": "new"}, [5]int{ok, ok, no, no, no}, [5]int{ok, ok, no, no, gone}},
		{"delete group", "DELETE", g(""), nil, [5]int{none, no, no, no, no}, [5]int{none, no, no, no, gone}},
		{"join", "POST", g("/join"), nil, [5]int{ok, ok, ok, ok, ok}, [5]int{ok, ok, ok, ok, gone}},
		{"leave", "POST", g("/leave"), nil, [5]int{clash, none, none, none, no}, [5]int{clash, none, none, none, gone}},
		{"list members", "GET", g("/members"), nil, [5]int{ok, ok, ok, ok, no}, [5]int{ok, ok, ok, ok, gone}},
		{"add member", "POST", g("/members"), "newcomer", [5]int{made, made, no, no, no}, [5]int{made, made, no, no, gone}},
		{"make member admin", "PATCH", member("member"), map[string]string{"role": "admin"}, [5]int{ok, no, no, no, no}, [5]int{ok, no, no, no, gone}},
		{"make admin member", "PATCH", member("admin"), map[string]string{"role": "member"}, [5]int{ok, no, no, no, no}, [5]int{ok, no, no, no, gone}},
		{"change owner's role", "PATCH", member("owner"), map[string]string{"role": "member"}, [5]int{no, no, no, no, no}, [5]int{no, no, no, no, gone}},
		{"remove plain member", "DELETE", member("member"), nil, [5]int{none, none, no, no, no}, [5]int{none, none, no, no, gone}},
		{"remove admin", "DELETE", member("admin"), nil, [5]int{none, none, no, no, no}, [5]int{none, none, no, no, gone}},
		{"remove owner", "DELETE", member("owner"), nil, [5]int{clash, no, no, no, no}, [5]int{clash, no, no, no, gone}},
		{"mark read", "POST", g("/read"), map[string]int{"seq": 1}, [5]int{none, none, none, none, no}, [5]int{none, none, none, none, gone}},
		{"history", "GET", g("/messages"), nil, [5]int{ok, ok, ok, ok, no}, [5]int{ok, ok, ok, ok, gone}},
		{"send", "POST", g("/messages"), map[string]string{"body": "hi"}, [5]int{made, made, made, made, no}, [5]int{made, made, made, made, gone}},
		{"edit message", "PATCH", msg, map[string]string{"body": "changed"}, [5]int{no, no, ok, no, no}, [5]int{no, no, ok, no, gone}},
		{"delete message", "DELETE", msg, nil, [5]int{none, none, none, no, no}, [5]int{none, none, none, no, gone}},
	}

	forEachStore(t, func(t *testing.T, st app.Store) {
		h := newHarness(t, st, nil)
		ids := map[string]int64{}
		tokens := map[string]string{}
		for _, role := range matrixRoles {
			ids[role], tokens[role] = h.user("mx_" + role)
		}
		newcomer, _ := h.user("mx_newcomer")

		for _, vis := range []chat.Visibility{chat.Public, chat.Private} {
			for _, tc := range cases {
				want := tc.public
				if vis == chat.Private {
					want = tc.private
				}
				for i, role := range matrixRoles {
					t.Run(fmt.Sprintf("%s/%s/%s", vis, tc.name, role), func(t *testing.T) {
						f := newFixture(t, h, vis, ids, tokens)
						f.newcomer = newcomer
						body := tc.body
						if body == "newcomer" {
							body = map[string]int64{"user_id": f.newcomer}
						}
						r := h.do(tc.method, tc.path(f), tokens[role], body)
						code := ""
						switch {
						case want[i] == gone:
							code = "not_found"
						case want[i] == no && role == "outsider":
							code = "not_member"
						}
						expect(t, r, want[i], code)
					})
				}
			}
		}
	})
}

// newFixture makes a group of the given visibility owned by "owner" with
// "admin" as admin, "member" and "other" as plain members, and one message
// sent by "member".
func newFixture(t *testing.T, h *harness, vis chat.Visibility, ids map[string]int64, tokens map[string]string) fixture {
	t.Helper()
	ctx := context.Background()
	g, err := h.svc.CreateGroup(ctx, ids["owner"], app.GroupInput{Name: "matrix", Visibility: vis})
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range []string{"admin", "member", "other"} {
		if _, err := h.svc.AddMember(ctx, ids["owner"], g.ID, ids[role]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.svc.SetRole(ctx, ids["owner"], g.ID, ids["admin"], chat.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	m, _, err := h.svc.Send(ctx, ids["member"], g.ID, app.Outgoing{Body: "first"})
	if err != nil {
		t.Fatal(err)
	}
	return fixture{gid: g.ID, mid: m.ID, ids: ids, tokens: tokens}
}

// TestDirectGroupRules checks what API.md forbids on direct conversations,
// for a member and for an outsider (who must not learn that it exists).
func TestDirectGroupRules(t *testing.T) {
	forEachStore(t, func(t *testing.T, st app.Store) {
		h := newHarness(t, st, nil)
		aid, at := h.user("dx_a")
		bid, _ := h.user("dx_b")
		cid, ct := h.user("dx_c")
		g, _, err := h.svc.Direct(context.Background(), aid, bid)
		if err != nil {
			t.Fatal(err)
		}
		m, _, err := h.svc.Send(context.Background(), bid, g.ID, app.Outgoing{Body: "hi"})
		if err != nil {
			t.Fatal(err)
		}
		gp := fmt.Sprintf("/api/v1/groups/%d", g.ID)
		for _, tc := range []struct {
			name, method, path string
			body               any
			member, outsider   int
		}{
			{"get", "GET", gp, nil, http.StatusOK, http.StatusNotFound},
			{"rename", "PATCH", gp, map[string]string{"name": "x"}, http.StatusForbidden, http.StatusNotFound},
			{"delete", "DELETE", gp, nil, http.StatusForbidden, http.StatusNotFound},
			{"join", "POST", gp + "/join", nil, http.StatusForbidden, http.StatusNotFound},
			{"leave", "POST", gp + "/leave", nil, http.StatusForbidden, http.StatusNotFound},
			{"add member", "POST", gp + "/members", map[string]int64{"user_id": cid}, http.StatusForbidden, http.StatusNotFound},
			{"set role", "PATCH", fmt.Sprintf("%s/members/%d", gp, bid), map[string]string{"role": "admin"}, http.StatusForbidden, http.StatusNotFound},
			{"remove member", "DELETE", fmt.Sprintf("%s/members/%d", gp, bid), nil, http.StatusForbidden, http.StatusNotFound},
			{"members", "GET", gp + "/members", nil, http.StatusOK, http.StatusNotFound},
			{"history", "GET", gp + "/messages", nil, http.StatusOK, http.StatusNotFound},
			{"send", "POST", gp + "/messages", map[string]string{"body": "yo"}, http.StatusCreated, http.StatusNotFound},
			{"read", "POST", gp + "/read", map[string]int{"seq": 1}, http.StatusNoContent, http.StatusNotFound},
			{"edit other's message", "PATCH", fmt.Sprintf("/api/v1/messages/%d", m.ID), map[string]string{"body": "x"}, http.StatusForbidden, http.StatusNotFound},
			{"delete other's message", "DELETE", fmt.Sprintf("/api/v1/messages/%d", m.ID), nil, http.StatusForbidden, http.StatusNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				expect(t, h.do(tc.method, tc.path, at, tc.body), tc.member, "")
				expect(t, h.do(tc.method, tc.path, ct, tc.body), tc.outsider, "not_found")
			})
		}
	})
}

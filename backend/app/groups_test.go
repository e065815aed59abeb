package app_test

import (
	"slices"
	"testing"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/chat"
)

func TestPermissions(t *testing.T) {
	type op func(s *app.Service, w world) error
	ignore1 := func(_ any, err error) error { return err }
	tests := []struct {
		name string
		do   op
		code string
	}{
		// Seeing groups.
		{"outsider sees public group", func(s *app.Service, w world) error { return ignore1(s.Group(ctx, w.outsider, w.pub)) }, ""},
		{"outsider cannot see private group", func(s *app.Service, w world) error { return ignore1(s.Group(ctx, w.outsider, w.priv)) }, "not_found"},
		{"member sees private group", func(s *app.Service, w world) error { return ignore1(s.Group(ctx, w.member, w.priv)) }, ""},
		{"no such group", func(s *app.Service, w world) error { return ignore1(s.Group(ctx, w.member, 987654)) }, "not_found"},
		{"outsider lists public members", func(s *app.Service, w world) error { return ignore1(s.Members(ctx, w.outsider, w.pub)) }, "not_member"},
		{"outsider lists private members", func(s *app.Service, w world) error { return ignore1(s.Members(ctx, w.outsider, w.priv)) }, "not_found"},
		{"member lists members", func(s *app.Service, w world) error { return ignore1(s.Members(ctx, w.member, w.pub)) }, ""},
		// Messages.
		{"outsider reads public history", func(s *app.Service, w world) error {
			_, _, err := s.History(ctx, w.outsider, w.pub, chat.HistoryQuery{})
			return err
		}, "not_member"},
		{"outsider sends to public", func(s *app.Service, w world) error {
			_, _, err := s.Send(ctx, w.outsider, w.pub, app.Outgoing{Body: "hi"})
			return err
		}, "not_member"},
		{"outsider sends to private", func(s *app.Service, w world) error {
			_, _, err := s.Send(ctx, w.outsider, w.priv, app.Outgoing{Body: "hi"})
			return err
		}, "not_found"},
		{"member sends blank", func(s *app.Service, w world) error {
			_, _, err := s.Send(ctx, w.member, w.pub, app.Outgoing{Body: "   "})
			return err
		}, "validation_failed"},
		{"history limit too big", func(s *app.Service, w world) error {
			_, _, err := s.History(ctx, w.member, w.pub, chat.HistoryQuery{Limit: 201})
			return err
		}, "validation_failed"},
		{"member edits own message", func(s *app.Service, w world) error {
			return ignore1(s.EditMessage(ctx, w.member, w.memberMsg, "edited"))
		}, ""},
		{"admin edits member's message", func(s *app.Service, w world) error {
			return ignore1(s.EditMessage(ctx, w.admin, w.memberMsg, "edited"))
		}, "forbidden"},
		{"outsider edits private message", func(s *app.Service, w world) error { return ignore1(s.EditMessage(ctx, w.outsider, w.privMsg, "x")) }, "not_found"},
		{"edit missing message", func(s *app.Service, w world) error { return ignore1(s.EditMessage(ctx, w.member, 987654, "x")) }, "not_found"},
		{"member deletes own message", func(s *app.Service, w world) error { return s.DeleteMessage(ctx, w.member, w.memberMsg) }, ""},
		{"admin deletes member's message", func(s *app.Service, w world) error { return s.DeleteMessage(ctx, w.admin, w.memberMsg) }, ""},
		{"owner deletes admin's message", func(s *app.Service, w world) error { return s.DeleteMessage(ctx, w.owner, w.adminMsg) }, ""},
		{"member deletes admin's message", func(s *app.Service, w world) error { return s.DeleteMessage(ctx, w.member, w.adminMsg) }, "forbidden"},
		{"outsider deletes public message", func(s *app.Service, w world) error { return s.DeleteMessage(ctx, w.outsider, w.memberMsg) }, "not_member"},
		{"outsider deletes private message", func(s *app.Service, w world) error { return s.DeleteMessage(ctx, w.outsider, w.privMsg) }, "not_found"},
		{"outsider types", func(s *app.Service, w world) error { return s.Typing(ctx, w.outsider, w.pub, "c") }, "not_member"},
		{"outsider marks read", func(s *app.Service, w world) error { return s.MarkRead(ctx, w.outsider, w.priv, 1, "") }, "not_found"},
		{"negative read seq", func(s *app.Service, w world) error { return s.MarkRead(ctx, w.member, w.pub, -1, "") }, "validation_failed"},
		// Group settings.
		{"member renames", func(s *app.Service, w world) error {
			return ignore1(s.UpdateGroup(ctx, w.member, w.pub, chat.GroupPatch{Name: ptr("x")}))
		}, "forbidden"},
		{"outsider renames", func(s *app.Service, w world) error {
			return ignore1(s.UpdateGroup(ctx, w.outsider, w.pub, chat.GroupPatch{Name: ptr("x")}))
		}, "not_member"},
		{"admin renames", func(s *app.Service, w world) error {
			return ignore1(s.UpdateGroup(ctx, w.admin, w.pub, chat.GroupPatch{Name: ptr("Renamed")}))
		}, ""},
		{"admin renames to blank", func(s *app.Service, w world) error {
			return ignore1(s.UpdateGroup(ctx, w.admin, w.pub, chat.GroupPatch{Name: ptr("  ")}))
		}, "validation_failed"},
		{"admin sets bad visibility", func(s *app.Service, w world) error {
			return ignore1(s.UpdateGroup(ctx, w.admin, w.pub, chat.GroupPatch{Visibility: ptr(chat.Visibility("hidden"))}))
		}, "validation_failed"},
		{"admin deletes group", func(s *app.Service, w world) error { return s.DeleteGroup(ctx, w.admin, w.pub) }, "forbidden"},
		{"outsider deletes private group", func(s *app.Service, w world) error { return s.DeleteGroup(ctx, w.outsider, w.priv) }, "not_found"},
		{"owner deletes group", func(s *app.Service, w world) error { return s.DeleteGroup(ctx, w.owner, w.pub) }, ""},
		// Joining and leaving.
		{"outsider joins public", func(s *app.Service, w world) error { return ignore1(s.Join(ctx, w.outsider, w.pub)) }, ""},
		{"outsider joins private", func(s *app.Service, w world) error { return ignore1(s.Join(ctx, w.outsider, w.priv)) }, "not_found"},
		{"member joins again", func(s *app.Service, w world) error { return ignore1(s.Join(ctx, w.member, w.priv)) }, ""},
		{"member leaves", func(s *app.Service, w world) error { return s.Leave(ctx, w.member, w.pub) }, ""},
		{"owner leaves", func(s *app.Service, w world) error { return s.Leave(ctx, w.owner, w.pub) }, "conflict"},
		{"outsider leaves public", func(s *app.Service, w world) error { return s.Leave(ctx, w.outsider, w.pub) }, "not_member"},
		// Members.
		{"member adds outsider", func(s *app.Service, w world) error { return ignore1(s.AddMember(ctx, w.member, w.pub, w.outsider)) }, "forbidden"},
		{"admin adds outsider", func(s *app.Service, w world) error { return ignore1(s.AddMember(ctx, w.admin, w.priv, w.outsider)) }, ""},
		{"admin adds a member again", func(s *app.Service, w world) error { return ignore1(s.AddMember(ctx, w.admin, w.pub, w.member)) }, "conflict"},
		{"admin adds nobody", func(s *app.Service, w world) error { return ignore1(s.AddMember(ctx, w.admin, w.pub, 987654)) }, "not_found"},
		{"admin sets a role", func(s *app.Service, w world) error {
			return ignore1(s.SetRole(ctx, w.admin, w.pub, w.member, chat.RoleAdmin))
		}, "forbidden"},
		{"owner makes member admin", func(s *app.Service, w world) error {
			return ignore1(s.SetRole(ctx, w.owner, w.pub, w.member, chat.RoleAdmin))
		}, ""},
		{"owner demotes admin", func(s *app.Service, w world) error {
			return ignore1(s.SetRole(ctx, w.owner, w.pub, w.admin, chat.RoleMember))
		}, ""},
		{"owner gives ownership", func(s *app.Service, w world) error {
			return ignore1(s.SetRole(ctx, w.owner, w.pub, w.member, chat.RoleOwner))
		}, "validation_failed"},
		{"owner changes own role", func(s *app.Service, w world) error {
			return ignore1(s.SetRole(ctx, w.owner, w.pub, w.owner, chat.RoleMember))
		}, "forbidden"},
		{"owner sets role of outsider", func(s *app.Service, w world) error {
			return ignore1(s.SetRole(ctx, w.owner, w.pub, w.outsider, chat.RoleAdmin))
		}, "not_found"},
		{"admin removes member", func(s *app.Service, w world) error { return s.RemoveMember(ctx, w.admin, w.pub, w.member) }, ""},
		{"admin removes owner", func(s *app.Service, w world) error { return s.RemoveMember(ctx, w.admin, w.pub, w.owner) }, "forbidden"},
		{"admin removes self", func(s *app.Service, w world) error { return s.RemoveMember(ctx, w.admin, w.pub, w.admin) }, ""},
		{"member removes member", func(s *app.Service, w world) error { return s.RemoveMember(ctx, w.member, w.pub, w.admin) }, "forbidden"},
		{"owner removes admin", func(s *app.Service, w world) error { return s.RemoveMember(ctx, w.owner, w.pub, w.admin) }, ""},
		{"owner removes self", func(s *app.Service, w world) error { return s.RemoveMember(ctx, w.owner, w.pub, w.owner) }, "conflict"},
		{"owner removes non-member", func(s *app.Service, w world) error { return s.RemoveMember(ctx, w.owner, w.pub, w.outsider) }, "not_found"},
	}
	eachStore(t, nil, func(t *testing.T, f *fx) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				w := f.world(t)
				err := tt.do(f.svc, w)
				wantCode(t, err, tt.code)
				if evs := f.rec.take(); err != nil && len(evs) != 0 {
					t.Fatalf("a failed call emitted events: %+v", evs)
				}
			})
		}
	})
}
func TestDirect(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, f *fx) {
		a, b, c := f.user(t, "da").User.ID, f.user(t, "db").User.ID, f.user(t, "dc").User.ID
		_, _, err := f.svc.Direct(ctx, a, a)
		wantCode(t, err, "validation_failed")
		_, _, err = f.svc.Direct(ctx, a, 987654)
		wantCode(t, err, "not_found")
		if evs := f.rec.take(); len(evs) != 0 {
			t.Fatalf("failed direct emitted %+v", evs)
		}

		g, created, err := f.svc.Direct(ctx, a, b)
		if err != nil || !created || g.Kind != chat.KindDirect || g.Name != nil || g.Peer == nil || g.Peer.ID != b {
			t.Fatalf("direct %+v %v %v", g, created, err)
		}
		if evs := f.rec.take(); len(evs) != 2 {
			t.Fatalf("want member_joined for both, got %+v", evs)
		}
		again, created, err := f.svc.Direct(ctx, b, a)
		if err != nil || created || again.ID != g.ID || again.Peer == nil || again.Peer.ID != a {
			t.Fatalf("direct again %+v %v %v", again, created, err)
		}
		if _, _, err := f.svc.Send(ctx, b, g.ID, app.Outgoing{Body: "hi"}); err != nil {
			t.Fatal(err)
		}
		f.rec.take()

		tests := []struct {
			name string
			do   func() error
			code string
		}{
			{"third user sees it", func() error { _, err := f.svc.Group(ctx, c, g.ID); return err }, "not_found"},
			{"third user joins", func() error { _, err := f.svc.Join(ctx, c, g.ID); return err }, "not_found"},
			{"third user sends", func() error { _, _, err := f.svc.Send(ctx, c, g.ID, app.Outgoing{Body: "x"}); return err }, "not_found"},
			{"member joins", func() error { _, err := f.svc.Join(ctx, a, g.ID); return err }, "forbidden"},
			{"member leaves", func() error { return f.svc.Leave(ctx, a, g.ID) }, "forbidden"},
			{"member renames", func() error {
				_, err := f.svc.UpdateGroup(ctx, a, g.ID, chat.GroupPatch{Name: ptr("x")})
				return err
			}, "forbidden"},
			{"member adds", func() error { _, err := f.svc.AddMember(ctx, a, g.ID, c); return err }, "forbidden"},
			{"member removes", func() error { return f.svc.RemoveMember(ctx, a, g.ID, b) }, "forbidden"},
			{"member deletes", func() error { return f.svc.DeleteGroup(ctx, a, g.ID) }, "forbidden"},
			{"member sets role", func() error { _, err := f.svc.SetRole(ctx, a, g.ID, b, chat.RoleAdmin); return err }, "forbidden"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				wantCode(t, tt.do(), tt.code)
				if evs := f.rec.take(); len(evs) != 0 {
					t.Fatalf("failed call emitted %+v", evs)
				}
			})
		}

		ids, err := f.svc.GroupIDs(ctx, a)
		if err != nil || !slices.Contains(ids, g.ID) {
			t.Fatalf("group ids %v %v", ids, err)
		}
		mine, err := f.svc.MyGroups(ctx, b)
		if err != nil || len(mine) != 1 || mine[0].ID != g.ID || mine[0].LastMessage == nil {
			t.Fatalf("my groups %+v %v", mine, err)
		}
	})
}

func TestSearchGroups(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, f *fx) {
		w := f.world(t)
		groups, _, err := f.svc.SearchGroups(ctx, w.outsider, app.Page{})
		if err != nil || len(groups) != 1 || groups[0].ID != w.pub {
			t.Fatalf("outsider search %+v %v", groups, err)
		}
		groups, _, err = f.svc.SearchGroups(ctx, w.member, app.Page{Query: "priv"})
		if err != nil || len(groups) != 1 || groups[0].ID != w.priv {
			t.Fatalf("member search %+v %v", groups, err)
		}
		_, _, err = f.svc.SearchGroups(ctx, w.member, app.Page{Limit: -1})
		wantCode(t, err, "validation_failed")
	})
}

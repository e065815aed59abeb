package storetest

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"

	"github.com/chatapp/chat/chat"
)

func testGroups(t *testing.T, s Store) {
	ctx := t.Context()
	base := baseTime()
	owner := newUser(t, s, "owner", "")
	g := chat.Group{Name: ptr("Go"), Description: "gophers", OwnerID: owner.ID, CreatedAt: base}
	noErr(t, s.CreateGroup(ctx, &g))
	if g.ID == 0 || g.OwnerID != owner.ID || g.MemberCount != 1 || g.Kind != chat.KindGroup ||
		g.Visibility != chat.Public || g.LastSeq != 0 || g.Name == nil || *g.Name != "Go" || g.Description != "gophers" {
		t.Errorf("CreateGroup filled %+v", g)
	}
	wantUTCMicros(t, "CreatedAt", g.CreatedAt)

	got, err := s.GroupByID(ctx, g.ID, owner.ID)
	noErr(t, err)
	if got.ID != g.ID || *got.Name != "Go" || got.MemberCount != 1 || !got.CreatedAt.Equal(g.CreatedAt) || got.Peer != nil {
		t.Errorf("GroupByID = %+v, want %+v", got, g)
	}
	_, err = s.GroupByID(ctx, g.ID+1000, owner.ID)
	wantErr(t, err, chat.ErrNotFound)

	m, err := s.Membership(ctx, g.ID, owner.ID)
	noErr(t, err)
	if m.Role != chat.RoleOwner || m.LastReadSeq != 0 || m.GroupID != g.ID || m.UserID != owner.ID {
		t.Errorf("owner membership = %+v", m)
	}

	priv := newGroup(t, s, owner.ID, "Secret", chat.Private)
	if priv.Visibility != chat.Private {
		t.Errorf("visibility = %q", priv.Visibility)
	}

	tests := []struct {
		name  string
		patch chat.GroupPatch
		check func(chat.Group) bool
	}{
		{"name", chat.GroupPatch{Name: ptr("Golang")}, func(g chat.Group) bool { return *g.Name == "Golang" && g.Description == "gophers" }},
		{"description", chat.GroupPatch{Description: ptr("")}, func(g chat.Group) bool { return *g.Name == "Golang" && g.Description == "" }},
		{"visibility", chat.GroupPatch{Visibility: ptr(chat.Private)}, func(g chat.Group) bool { return g.Visibility == chat.Private }},
		{"nothing", chat.GroupPatch{}, func(g chat.Group) bool { return *g.Name == "Golang" && g.Visibility == chat.Private }},
	}
	for _, tc := range tests {
		t.Run("update "+tc.name, func(t *testing.T) {
			got, err := s.UpdateGroup(ctx, g.ID, tc.patch)
			noErr(t, err)
			if !tc.check(got) || got.ID != g.ID || got.OwnerID != owner.ID {
				t.Errorf("UpdateGroup = %+v", got)
			}
		})
	}
	_, err = s.UpdateGroup(ctx, g.ID+1000, chat.GroupPatch{Name: ptr("x")})
	wantErr(t, err, chat.ErrNotFound)
	_, err = s.UpdateGroup(ctx, g.ID+1000, chat.GroupPatch{})
	wantErr(t, err, chat.ErrNotFound)

	err = s.CreateGroup(ctx, &chat.Group{Name: ptr("orphan"), OwnerID: owner.ID + 1000})
	wantErr(t, err, chat.ErrNotFound)
}

func testDeleteGroup(t *testing.T, s Store) {
	ctx := t.Context()
	base := baseTime()
	a := newUser(t, s, "a1", "")
	b := newUser(t, s, "b1", "")
	g := newGroup(t, s, a.ID, "doomed", chat.Public)
	keep := newGroup(t, s, a.ID, "kept", chat.Public)
	_, err := s.AddMember(ctx, g.ID, b.ID, chat.RoleMember)
	noErr(t, err)
	m := send(t, s, g.ID, a.ID, "hi", base)
	send(t, s, keep.ID, a.ID, "stays", base)

	noErr(t, s.DeleteGroup(ctx, g.ID))
	_, err = s.GroupByID(ctx, g.ID, a.ID)
	wantErr(t, err, chat.ErrNotFound)
	_, err = s.Membership(ctx, g.ID, b.ID)
	wantErr(t, err, chat.ErrNotFound)
	_, err = s.MessageByID(ctx, m.ID)
	wantErr(t, err, chat.ErrNotFound)
	ids, err := s.GroupIDsOf(ctx, b.ID)
	noErr(t, err)
	if len(ids) != 0 {
		t.Errorf("GroupIDsOf after delete = %v", ids)
	}
	hist, _, err := s.Messages(ctx, keep.ID, chat.HistoryQuery{})
	noErr(t, err)
	if len(hist) != 1 {
		t.Errorf("other group's history = %v", hist)
	}
	wantErr(t, s.DeleteGroup(ctx, g.ID), chat.ErrNotFound)
}

func testDirectGroup(t *testing.T, s Store) {
	ctx := t.Context()
	a := newUser(t, s, "amy", "Amy")
	b := newUser(t, s, "ben", "Ben")
	c := newUser(t, s, "cat", "")

	g, created, err := s.DirectGroup(ctx, a.ID, b.ID)
	noErr(t, err)
	if !created || g.Kind != chat.KindDirect || g.Name != nil || g.MemberCount != 2 || g.Peer == nil || g.Peer.ID != b.ID {
		t.Fatalf("DirectGroup = %+v created=%v", g, created)
	}
	if g.Visibility != chat.Private {
		t.Errorf("direct visibility = %q, want private", g.Visibility)
	}
	again, created, err := s.DirectGroup(ctx, b.ID, a.ID)
	noErr(t, err)
	if created || again.ID != g.ID || again.Peer == nil || again.Peer.ID != a.ID {
		t.Errorf("DirectGroup reversed = %+v created=%v, want the same group seen from b", again, created)
	}
	other, created, err := s.DirectGroup(ctx, a.ID, c.ID)
	noErr(t, err)
	if !created || other.ID == g.ID {
		t.Errorf("DirectGroup(a, c) = %+v created=%v, want a new group", other, created)
	}

	for _, viewer := range []struct{ id, peer int64 }{{a.ID, b.ID}, {b.ID, a.ID}} {
		got, err := s.GroupByID(ctx, g.ID, viewer.id)
		noErr(t, err)
		if got.Peer == nil || got.Peer.ID != viewer.peer || got.Peer.Username == "" {
			t.Errorf("GroupByID(viewer %d).Peer = %+v, want user %d", viewer.id, got.Peer, viewer.peer)
		}
	}
	for _, uid := range []int64{a.ID, b.ID} {
		m, err := s.Membership(ctx, g.ID, uid)
		noErr(t, err)
		if m.Role != chat.RoleMember {
			t.Errorf("direct role = %q", m.Role)
		}
	}

	_, _, err = s.DirectGroup(ctx, a.ID, a.ID)
	wantErr(t, err, chat.ErrInvalid)
	_, _, err = s.DirectGroup(ctx, a.ID, c.ID+1000)
	wantErr(t, err, chat.ErrNotFound)

	// Ids 1|23 and 12|3 must not collide: different pairs, different groups.
	list, err := s.MyGroups(ctx, a.ID)
	noErr(t, err)
	if len(list) != 2 {
		t.Errorf("MyGroups(a) has %d groups, want 2", len(list))
	}
}

func testDirectGroupConcurrent(t *testing.T, s Store) {
	ctx := t.Context()
	a := newUser(t, s, "p1", "")
	b := newUser(t, s, "p2", "")
	const n = 12
	ids := make([]int64, n)
	created := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			x, y := a.ID, b.ID
			if i%2 == 1 {
				x, y = y, x
			}
			var g chat.Group
			g, created[i], errs[i] = s.DirectGroup(ctx, x, y)
			ids[i] = g.ID
		})
	}
	wg.Wait()
	creations := 0
	for i := range n {
		noErr(t, errs[i])
		if ids[i] != ids[0] {
			t.Errorf("call %d got group %d, call 0 got %d", i, ids[i], ids[0])
		}
		if created[i] {
			creations++
		}
	}
	if creations != 1 {
		t.Errorf("%d calls created the group, want 1", creations)
	}
	list, err := s.MyGroups(ctx, a.ID)
	noErr(t, err)
	if len(list) != 1 || list[0].MemberCount != 2 {
		t.Errorf("MyGroups = %+v, want one direct group of 2", list)
	}
}

func testMembership(t *testing.T, s Store) {
	ctx := t.Context()
	base := baseTime()
	owner := newUser(t, s, "own", "")
	u := newUser(t, s, "usr", "")
	g := newGroup(t, s, owner.ID, "club", chat.Public)
	send(t, s, g.ID, owner.ID, "one", base)
	send(t, s, g.ID, owner.ID, "two", base)

	added, err := s.AddMember(ctx, g.ID, u.ID, chat.RoleMember)
	noErr(t, err)
	if !added {
		t.Fatal("AddMember added = false")
	}
	m, err := s.Membership(ctx, g.ID, u.ID)
	noErr(t, err)
	if m.Role != chat.RoleMember || m.LastReadSeq != 2 {
		t.Errorf("new membership = %+v, want member with last_read_seq 2", m)
	}
	wantUTCMicros(t, "JoinedAt", m.JoinedAt)

	added, err = s.AddMember(ctx, g.ID, u.ID, chat.RoleAdmin)
	noErr(t, err)
	if added {
		t.Error("second AddMember added = true")
	}
	m, err = s.Membership(ctx, g.ID, u.ID)
	noErr(t, err)
	if m.Role != chat.RoleMember {
		t.Errorf("repeated AddMember changed the role to %q", m.Role)
	}
	got, err := s.GroupByID(ctx, g.ID, owner.ID)
	noErr(t, err)
	if got.MemberCount != 2 {
		t.Errorf("member_count = %d, want 2", got.MemberCount)
	}

	_, err = s.AddMember(ctx, g.ID+1000, u.ID, chat.RoleMember)
	wantErr(t, err, chat.ErrNotFound)
	_, err = s.AddMember(ctx, g.ID, u.ID+1000, chat.RoleMember)
	wantErr(t, err, chat.ErrNotFound)
	_, err = s.Membership(ctx, g.ID, u.ID+1000)
	wantErr(t, err, chat.ErrNotFound)

	noErr(t, s.SetRole(ctx, g.ID, u.ID, chat.RoleAdmin))
	m, err = s.Membership(ctx, g.ID, u.ID)
	noErr(t, err)
	if m.Role != chat.RoleAdmin {
		t.Errorf("role = %q after SetRole", m.Role)
	}
	wantErr(t, s.SetRole(ctx, g.ID, u.ID+1000, chat.RoleAdmin), chat.ErrNotFound)
	wantErr(t, s.SetRole(ctx, g.ID, u.ID, chat.Role("king")), chat.ErrInvalid)
	_, err = s.UpdateGroup(ctx, g.ID, chat.GroupPatch{Visibility: ptr(chat.Visibility("secret"))})
	wantErr(t, err, chat.ErrInvalid)

	ids, err := s.GroupIDsOf(ctx, u.ID)
	noErr(t, err)
	if !slices.Equal(ids, []int64{g.ID}) {
		t.Errorf("GroupIDsOf = %v", ids)
	}

	noErr(t, s.RemoveMember(ctx, g.ID, u.ID))
	wantErr(t, s.RemoveMember(ctx, g.ID, u.ID), chat.ErrNotFound)
	_, err = s.Membership(ctx, g.ID, u.ID)
	wantErr(t, err, chat.ErrNotFound)
	got, err = s.GroupByID(ctx, g.ID, owner.ID)
	noErr(t, err)
	if got.MemberCount != 1 {
		t.Errorf("member_count after remove = %d, want 1", got.MemberCount)
	}
	ids, err = s.GroupIDsOf(ctx, u.ID)
	noErr(t, err)
	if ids == nil || len(ids) != 0 {
		t.Errorf("GroupIDsOf after remove = %#v, want empty", ids)
	}
}

func testMembersAndGroupsOfUsers(t *testing.T, s Store) {
	ctx := t.Context()
	o := newUser(t, s, "zed", "")
	a1 := newUser(t, s, "yan", "Beta")
	a2 := newUser(t, s, "xia", "alpha")
	m1 := newUser(t, s, "bea", "")
	m2 := newUser(t, s, "abe", "")
	lone := newUser(t, s, "lone", "")
	g := newGroup(t, s, o.ID, "team", chat.Public)
	for _, x := range []struct {
		id   int64
		role chat.Role
	}{{m1.ID, chat.RoleMember}, {a1.ID, chat.RoleAdmin}, {m2.ID, chat.RoleMember}, {a2.ID, chat.RoleAdmin}} {
		_, err := s.AddMember(ctx, g.ID, x.id, x.role)
		noErr(t, err)
	}
	members, err := s.Members(ctx, g.ID)
	noErr(t, err)
	var got []string
	for _, m := range members {
		got = append(got, m.Username+":"+string(m.Role))
	}
	want := []string{"zed:owner", "xia:admin", "yan:admin", "abe:member", "bea:member"}
	if !slices.Equal(got, want) {
		t.Errorf("Members = %v, want %v", got, want)
	}

	ids, err := s.MemberIDs(ctx, g.ID)
	noErr(t, err)
	wantIDs := []int64{o.ID, a1.ID, a2.ID, m1.ID, m2.ID}
	slices.Sort(wantIDs)
	if !slices.Equal(ids, wantIDs) {
		t.Errorf("MemberIDs = %v, want %v", ids, wantIDs)
	}

	// m1 is also in a direct group with lone and in a second group.
	direct, _, err := s.DirectGroup(ctx, m1.ID, lone.ID)
	noErr(t, err)
	other := newGroup(t, s, m1.ID, "second", chat.Public)
	_, err = s.AddMember(ctx, other.ID, o.ID, chat.RoleMember)
	noErr(t, err)
	nobody := newUser(t, s, "hermit", "")
	groups, err := s.GroupIDsOfUsers(ctx, []int64{m1.ID, lone.ID, o.ID, nobody.ID, nobody.ID + 1000})
	noErr(t, err)
	sorted := func(ids ...int64) []int64 { slices.Sort(ids); return ids }
	wantG := map[int64][]int64{
		m1.ID:   sorted(g.ID, direct.ID, other.ID),
		lone.ID: {direct.ID},
		o.ID:    sorted(g.ID, other.ID),
	}
	if len(groups) != len(wantG) {
		t.Errorf("GroupIDsOfUsers = %v, want %v (users in no group left out)", groups, wantG)
	}
	for uid, want := range wantG {
		if !slices.Equal(groups[uid], want) {
			t.Errorf("GroupIDsOfUsers[%d] = %v, want %v", uid, groups[uid], want)
		}
	}
	groups, err = s.GroupIDsOfUsers(ctx, nil)
	noErr(t, err)
	if len(groups) != 0 {
		t.Errorf("GroupIDsOfUsers(nil) = %v", groups)
	}
}

func testSearchGroups(t *testing.T, s Store) {
	ctx := t.Context()
	a := newUser(t, s, "gina", "")
	b := newUser(t, s, "hank", "")
	newGroup(t, s, a.ID, "Rust fans", chat.Public)
	newGroup(t, s, a.ID, "rust", chat.Public)
	newGroup(t, s, a.ID, "Trusted", chat.Public)
	newGroup(t, s, a.ID, "rust secret", chat.Private)
	g := chat.Group{Name: ptr("Cooking"), Description: "we rust pans", OwnerID: b.ID}
	noErr(t, s.CreateGroup(ctx, &g))
	newGroup(t, s, a.ID, "100% go", chat.Public)
	_, _, err := s.DirectGroup(ctx, a.ID, b.ID)
	noErr(t, err)

	tests := []struct {
		viewer int64
		q      string
		want   []string
	}{
		{a.ID, "rust", []string{"rust", "Rust fans", "rust secret", "Trusted", "Cooking"}},
		{b.ID, "RUST", []string{"rust", "Rust fans", "Trusted", "Cooking"}},
		{b.ID, "%", []string{"100% go"}},
		{b.ID, "", []string{"rust", "Trusted", "Cooking", "100% go", "Rust fans"}},
		{b.ID, "zzz", []string{}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d/%s", tc.viewer, tc.q), func(t *testing.T) {
			got, next, err := s.SearchGroups(ctx, tc.viewer, tc.q, 50, "")
			noErr(t, err)
			if tc.q == "" {
				// Every match has the same rank; only membership in the set matters.
				names := groupNames(got)
				slices.Sort(names)
				want := slices.Clone(tc.want)
				slices.Sort(want)
				if !slices.Equal(names, want) {
					t.Errorf("SearchGroups(%q) = %v, want %v", tc.q, names, want)
				}
			} else if !slices.Equal(groupNames(got), tc.want) {
				t.Errorf("SearchGroups(%q) = %v, want %v", tc.q, groupNames(got), tc.want)
			}
			if next != "" {
				t.Errorf("next = %q", next)
			}
			for _, g := range got {
				if g.Kind != chat.KindGroup {
					t.Errorf("found a %q group", g.Kind)
				}
			}
		})
	}

	page1, next, err := s.SearchGroups(ctx, a.ID, "rust", 2, "")
	noErr(t, err)
	page2, next2, err := s.SearchGroups(ctx, a.ID, "rust", 2, next)
	noErr(t, err)
	page3, next3, err := s.SearchGroups(ctx, a.ID, "rust", 2, next2)
	noErr(t, err)
	all := append(append(groupNames(page1), groupNames(page2)...), groupNames(page3)...)
	if next == "" || next2 == "" || next3 != "" || !slices.Equal(all, tests[0].want) {
		t.Errorf("paged search = %v (cursors %q %q %q), want %v", all, next, next2, next3, tests[0].want)
	}
	_, _, err = s.SearchGroups(ctx, a.ID, "rust", 2, "!!")
	wantErr(t, err, chat.ErrInvalid)
}

func testMemberNames(t *testing.T, s Store) {
	ctx := t.Context()
	a := newUser(t, s, "ann", "Ann")
	b := newUser(t, s, "bob", "")
	c := newUser(t, s, "cy", "Cy")
	g := newGroup(t, s, a.ID, "names", chat.Public)
	_, err := s.AddMember(ctx, g.ID, b.ID, chat.RoleMember)
	noErr(t, err)
	tests := []struct {
		name   string
		group  int64
		member int64
		users  []int64
		want   map[int64]string
		err    error
	}{
		{"member, others", g.ID, b.ID, []int64{a.ID, c.ID, a.ID}, map[int64]string{a.ID: "Ann", b.ID: "", c.ID: "Cy"}, nil},
		{"member alone", g.ID, a.ID, nil, map[int64]string{a.ID: "Ann"}, nil},
		{"unknown user left out", g.ID, a.ID, []int64{c.ID + 100}, map[int64]string{a.ID: "Ann"}, nil},
		{"not a member", g.ID, c.ID, []int64{a.ID}, nil, chat.ErrNoMembership},
		{"no such group", g.ID + 100, a.ID, []int64{a.ID}, nil, chat.ErrNoMembership},
	}
	for _, tc := range tests {
		got, err := s.MemberNames(ctx, tc.group, tc.member, tc.users)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("%s: err = %v, want %v", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || !maps.Equal(got, tc.want) {
			t.Errorf("%s: %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	// A new display name is read at once.
	_, err = s.UpdateUser(ctx, a.ID, chat.UserPatch{DisplayName: ptr("Ann B")})
	noErr(t, err)
	got, err := s.MemberNames(ctx, g.ID, b.ID, []int64{a.ID})
	if err != nil || got[a.ID] != "Ann B" {
		t.Errorf("after the change: %v, %v", got, err)
	}
	// A removed member is refused.
	noErr(t, s.RemoveMember(ctx, g.ID, b.ID))
	_, err = s.MemberNames(ctx, g.ID, b.ID, []int64{a.ID})
	wantErr(t, err, chat.ErrNoMembership)
}

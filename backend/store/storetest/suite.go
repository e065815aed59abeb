package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/chat"
	"github.com/chatapp/chat/store"
)

// Run is the conformance suite of app.Store: every method, its success and
// error cases, and the concurrency guarantees. open returns a fresh, empty
// store for each subtest.
func Run(t *testing.T, open func(testing.TB) *store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s *store.Store)
	}{
		{"Users", testUsers},
		{"UpdateUser", testUpdateUser},
		{"SearchUsers", testSearchUsers},
		{"SearchUsersPaging", testSearchUsersPaging},
		{"RefreshTokens", testRefreshTokens},
		{"RefreshTokenConcurrentUse", testRefreshTokenConcurrentUse},
		{"EndSessions", testEndSessions},
		{"Groups", testGroups},
		{"DeleteGroup", testDeleteGroup},
		{"DirectGroup", testDirectGroup},
		{"DirectGroupConcurrent", testDirectGroupConcurrent},
		{"Membership", testMembership},
		{"MembersAndGroupsOfUsers", testMembersAndGroupsOfUsers},
		{"SearchGroups", testSearchGroups},
		{"InsertMessage", testInsertMessage},
		{"IdempotentSend", testIdempotentSend},
		{"IdempotentSendNeedsMembership", testIdempotentSendNeedsMembership},
		{"History", testHistory},
		{"EditDeleteMessage", testEditDeleteMessage},
		{"MarkRead", testMarkRead},
		{"MyGroups", testMyGroups},
		{"QueuedKeepOrder", testQueuedKeepOrder},
		{"ConcurrentSenders", testConcurrentSenders},
		{"ConcurrentRetries", testConcurrentRetries},
		{"BatchDuplicateClientID", testBatchDuplicateClientID},
		{"BatchMixedGroups", testBatchMixedGroups},
		{"BatchNonMember", testBatchNonMember},
		{"BatchClientIDRace", testBatchClientIDRace},
		{"BatchFailingRequest", testBatchFailingRequest},
		{"SendCanceled", testSendCanceled},
		{"CloseWhileWaiting", testCloseWhileWaiting},
		{"PingAndClose", testPingAndClose},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
}

// --- helpers ---

// baseTime is a fixed instant with sub-microsecond digits and a non-UTC
// zone, to check that stores return UTC truncated to microseconds.
func baseTime() time.Time {
	return time.Date(2025, 3, 1, 10, 0, 0, 123456789, time.FixedZone("X", 3600))
}

func ptr[T any](v T) *T { return &v }

func wantErr(t *testing.T, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("error = %v, want %v", err, kind)
	}
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func wantUTCMicros(t *testing.T, what string, got time.Time) {
	t.Helper()
	if got.Location() != time.UTC || got.Nanosecond()%1000 != 0 || got.IsZero() {
		t.Errorf("%s = %v, want a non-zero UTC time in whole microseconds", what, got)
	}
}

func newUser(t *testing.T, s *store.Store, username, display string) chat.User {
	t.Helper()
	u := chat.User{Username: username, DisplayName: display}
	noErr(t, s.CreateUser(t.Context(), &u, "hash-of-"+username))
	return u
}

func newGroup(t *testing.T, s *store.Store, owner int64, name string, vis chat.Visibility) chat.Group {
	t.Helper()
	g := chat.Group{Name: ptr(name), Description: "about " + name, Visibility: vis, OwnerID: owner}
	noErr(t, s.CreateGroup(t.Context(), &g))
	return g
}

func send(t *testing.T, s *store.Store, gid, uid int64, body string, at time.Time) chat.Message {
	t.Helper()
	m, created, err := s.InsertMessage(t.Context(), app.NewMessage{GroupID: gid, SenderID: uid, Body: body, At: at})
	noErr(t, err)
	if !created {
		t.Fatalf("send %q: created = false", body)
	}
	return m
}

// testQueuedKeepOrder: messages queued one after another, without waiting,
// while other senders keep the batcher busy, get seqs in queue order.
func testQueuedKeepOrder(t *testing.T, s *store.Store) {
	ctx := t.Context()
	a := newUser(t, s, "queuer", "")
	b := newUser(t, s, "other", "")
	g := newGroup(t, s, a.ID, "queued", chat.Public)
	if _, err := s.AddMember(ctx, g.ID, b.ID, chat.RoleMember); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	other := make(chan error, 1)
	go func() {
		for {
			select {
			case <-done:
				other <- nil
				return
			default:
			}
			if _, _, err := s.InsertMessage(ctx, app.NewMessage{GroupID: g.ID, SenderID: b.ID, Body: "noise", At: baseTime()}); err != nil {
				other <- err
				return
			}
		}
	}()
	var waits []func() (chat.Message, bool, error)
	for i := range 100 {
		waits = append(waits, s.QueueMessage(ctx, app.NewMessage{GroupID: g.ID, SenderID: a.ID, Body: fmt.Sprint(i), At: baseTime()}))
	}
	last := int64(0)
	for i, wait := range waits {
		m, created, err := wait()
		noErr(t, err)
		if !created || m.Body != fmt.Sprint(i) || m.Seq <= last {
			t.Fatalf("queued message %d: seq %d after %d, body %q, created %v", i, m.Seq, last, m.Body, created)
		}
		last = m.Seq
	}
	close(done)
	noErr(t, <-other)
}

func seqs(ms []chat.Message) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.Seq
	}
	return out
}

func userNames(us []chat.User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.Username
	}
	return out
}

func groupNames(gs []chat.Group) []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		if g.Name != nil {
			out[i] = *g.Name
		}
	}
	return out
}

func span(from, to int64) []int64 {
	var out []int64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// --- users ---

func testUsers(t *testing.T, s *store.Store) {
	ctx := t.Context()
	base := baseTime()
	u := chat.User{Username: "Alice", DisplayName: "Alice A.", CreatedAt: base}
	noErr(t, s.CreateUser(ctx, &u, "h1"))
	if u.ID == 0 {
		t.Fatal("CreateUser did not fill ID")
	}
	wantUTCMicros(t, "CreatedAt", u.CreatedAt)
	if !u.CreatedAt.Equal(base.Truncate(time.Microsecond)) {
		t.Errorf("CreatedAt = %v, want %v", u.CreatedAt, base)
	}

	t.Run("taken ignoring case", func(t *testing.T) {
		for _, name := range []string{"Alice", "alice", "ALICE"} {
			err := s.CreateUser(ctx, &chat.User{Username: name}, "h")
			wantErr(t, err, chat.ErrConflict)
			var ce *chat.Error
			if !errors.As(err, &ce) || ce.Code != "username_taken" {
				t.Errorf("CreateUser(%q) = %v, want username_taken", name, err)
			}
		}
	})

	got, err := s.UserByID(ctx, u.ID)
	noErr(t, err)
	if got != u {
		t.Errorf("UserByID = %+v, want %+v", got, u)
	}
	_, err = s.UserByID(ctx, u.ID+1000)
	wantErr(t, err, chat.ErrNotFound)

	for _, name := range []string{"alice", "ALICE", "Alice"} {
		got, hash, err := s.UserByUsername(ctx, name)
		noErr(t, err)
		if got != u || hash != "h1" {
			t.Errorf("UserByUsername(%q) = %+v %q, want %+v h1", name, got, hash, u)
		}
	}
	_, _, err = s.UserByUsername(ctx, "bob")
	wantErr(t, err, chat.ErrNotFound)

	hash, err := s.PasswordHash(ctx, u.ID)
	noErr(t, err)
	if hash != "h1" {
		t.Errorf("PasswordHash = %q", hash)
	}
	_, err = s.PasswordHash(ctx, u.ID+1000)
	wantErr(t, err, chat.ErrNotFound)

	// Without a CreatedAt the store stamps the current time.
	b := chat.User{Username: "bob"}
	noErr(t, s.CreateUser(ctx, &b, "h2"))
	wantUTCMicros(t, "stamped CreatedAt", b.CreatedAt)
	if time.Since(b.CreatedAt) > time.Minute {
		t.Errorf("stamped CreatedAt = %v, want about now", b.CreatedAt)
	}
}

func testUpdateUser(t *testing.T, s *store.Store) {
	ctx := t.Context()
	u := newUser(t, s, "carol", "Carol")
	tests := []struct {
		name        string
		display     *string
		hash        *string
		wantDisplay string
		wantHash    string
	}{
		{"display name", ptr("Caroline"), nil, "Caroline", "hash-of-carol"},
		{"password", nil, ptr("new-hash"), "Caroline", "new-hash"},
		{"both", ptr(""), ptr("newer"), "", "newer"},
		{"nothing", nil, nil, "", "newer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.UpdateUser(ctx, u.ID, tc.display, tc.hash)
			noErr(t, err)
			if got.DisplayName != tc.wantDisplay || got.Username != "carol" || got.ID != u.ID {
				t.Errorf("UpdateUser = %+v, want display name %q", got, tc.wantDisplay)
			}
			hash, err := s.PasswordHash(ctx, u.ID)
			noErr(t, err)
			if hash != tc.wantHash {
				t.Errorf("hash = %q, want %q", hash, tc.wantHash)
			}
		})
	}
	_, err := s.UpdateUser(ctx, u.ID+1000, ptr("x"), nil)
	wantErr(t, err, chat.ErrNotFound)
	_, err = s.UpdateUser(ctx, u.ID+1000, nil, nil)
	wantErr(t, err, chat.ErrNotFound)
}

func testSearchUsers(t *testing.T, s *store.Store) {
	ctx := t.Context()
	for _, u := range []struct{ name, display string }{
		{"xanna", ""},      // position 2
		{"ann", ""},        // exact
		{"annabel", ""},    // prefix, longer
		{"anna", ""},       // prefix, shorter
		{"joe", "Lee Ann"}, // display-name position 5
		{"bob", ""},        // no match
		{"xyzann", ""},     // position 4
		{"a_b", "100%"},    // wildcards
		{"axb", "100x"},
	} {
		newUser(t, s, u.name, u.display)
	}
	tests := []struct {
		q    string
		want []string
	}{
		{"ann", []string{"ann", "anna", "annabel", "xanna", "xyzann", "joe"}},
		{"ANN", []string{"ann", "anna", "annabel", "xanna", "xyzann", "joe"}},
		{"lee", []string{"joe"}},
		{"a_b", []string{"a_b"}},
		{"_", []string{"a_b"}},
		{"%", []string{"a_b"}},
		{"nobody", []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.q, func(t *testing.T) {
			got, next, err := s.SearchUsers(ctx, tc.q, 50, "")
			noErr(t, err)
			if !slices.Equal(userNames(got), tc.want) {
				t.Errorf("SearchUsers(%q) = %v, want %v", tc.q, userNames(got), tc.want)
			}
			if next != "" {
				t.Errorf("next cursor = %q, want none", next)
			}
			for _, u := range got {
				wantUTCMicros(t, "CreatedAt", u.CreatedAt)
			}
		})
	}
	_, _, err := s.SearchUsers(ctx, "ann", 10, "not a cursor")
	wantErr(t, err, chat.ErrInvalid)
}

func testSearchUsersPaging(t *testing.T, s *store.Store) {
	ctx := t.Context()
	var want []string
	for i := range 7 {
		name := fmt.Sprintf("page%02d", i)
		newUser(t, s, name, "")
		want = append(want, name)
	}
	var got []string
	cursor := ""
	pages := 0
	for {
		us, next, err := s.SearchUsers(ctx, "page", 3, cursor)
		noErr(t, err)
		got = append(got, userNames(us)...)
		pages++
		if next == "" {
			break
		}
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		cursor = next
	}
	if pages != 3 || !slices.Equal(got, want) {
		t.Errorf("pages = %d, got %v, want 3 pages of %v", pages, got, want)
	}
}

// --- refresh tokens ---

func testRefreshTokens(t *testing.T, s *store.Store) {
	ctx := t.Context()
	base := baseTime()
	u := newUser(t, s, "dave", "")
	mk := func(family, hash string) app.RefreshToken {
		tok := app.RefreshToken{UserID: u.ID, FamilyID: family, Hash: hash, ExpiresAt: base.Add(time.Hour), CreatedAt: base}
		noErr(t, s.CreateRefreshToken(ctx, &tok))
		if tok.ID == 0 {
			t.Fatal("CreateRefreshToken did not fill ID")
		}
		return tok
	}
	t1 := mk("fam1", "hash1")
	t2 := mk("fam1", "hash2")
	other := mk("fam2", "hash3")

	got, err := s.RefreshTokenByHash(ctx, "hash1")
	noErr(t, err)
	if got.ID != t1.ID || got.UserID != u.ID || got.FamilyID != "fam1" || got.UsedAt != nil || got.RevokedAt != nil {
		t.Errorf("RefreshTokenByHash = %+v", got)
	}
	wantUTCMicros(t, "ExpiresAt", got.ExpiresAt)
	if !got.ExpiresAt.Equal(base.Add(time.Hour).Truncate(time.Microsecond)) {
		t.Errorf("ExpiresAt = %v", got.ExpiresAt)
	}
	_, err = s.RefreshTokenByHash(ctx, "nope")
	wantErr(t, err, chat.ErrNotFound)
	err = s.CreateRefreshToken(ctx, &app.RefreshToken{UserID: u.ID, FamilyID: "x", Hash: "hash1", ExpiresAt: base})
	wantErr(t, err, chat.ErrConflict)

	// Use once.
	ok, err := s.UseRefreshToken(ctx, t1.ID, base)
	noErr(t, err)
	if !ok {
		t.Fatal("first use = false")
	}
	ok, err = s.UseRefreshToken(ctx, t1.ID, base)
	noErr(t, err)
	if ok {
		t.Fatal("second use = true")
	}
	got, err = s.RefreshTokenByHash(ctx, "hash1")
	noErr(t, err)
	if got.UsedAt == nil || !got.UsedAt.Equal(base.Truncate(time.Microsecond)) {
		t.Errorf("UsedAt = %v", got.UsedAt)
	}
	_, err = s.UseRefreshToken(ctx, other.ID+1000, base)
	wantErr(t, err, chat.ErrNotFound)

	// Revoking a family revokes all of it and nothing else.
	noErr(t, s.RevokeFamily(ctx, "fam1", base.Add(time.Minute)))
	for _, h := range []string{"hash1", "hash2"} {
		got, err := s.RefreshTokenByHash(ctx, h)
		noErr(t, err)
		if got.RevokedAt == nil {
			t.Errorf("%s not revoked", h)
		}
	}
	ok, err = s.UseRefreshToken(ctx, t2.ID, base)
	noErr(t, err)
	if ok {
		t.Error("use of a revoked token = true")
	}
	got, err = s.RefreshTokenByHash(ctx, "hash3")
	noErr(t, err)
	if got.RevokedAt != nil {
		t.Error("other family revoked")
	}
	noErr(t, s.RevokeFamily(ctx, "unknown", base))
}

// testEndSessions checks the password-change revocation: every token of
// the user in every family ends, used or not, while a token revoked earlier
// keeps its first revocation time and other users' tokens stay alive; the
// families it ended are returned and recorded as ended sessions, as are
// those RevokeFamily ends, and SessionUser and EndedSessions read them.
func testEndSessions(t *testing.T, s *store.Store) {
	ctx := t.Context()
	base := baseTime()
	u := newUser(t, s, "frank", "")
	other := newUser(t, s, "grace", "")
	mk := func(uid int64, family, hash string) app.RefreshToken {
		tok := app.RefreshToken{UserID: uid, FamilyID: family, Hash: hash, ExpiresAt: base.Add(time.Hour), CreatedAt: base}
		noErr(t, s.CreateRefreshToken(ctx, &tok))
		return tok
	}
	fresh := mk(u.ID, "laptop", "u-fresh")
	used := mk(u.ID, "phone", "u-used")
	mk(u.ID, "phone", "u-used-next")
	mk(u.ID, "old", "u-revoked")
	mk(other.ID, "other", "o-fresh")
	ok, err := s.UseRefreshToken(ctx, used.ID, base)
	noErr(t, err)
	if !ok {
		t.Fatal("use = false")
	}

	// SessionUser is the user as UserByID reads it, plus whether the
	// session ended.
	ended := func(uid int64, session string) (bool, error) {
		t.Helper()
		got, ended, err := s.SessionUser(ctx, uid, session)
		if err == nil {
			want, err := s.UserByID(ctx, uid)
			noErr(t, err)
			if got != want {
				t.Errorf("SessionUser(%d) = %+v, want %+v", uid, got, want)
			}
		}
		return ended, err
	}
	for _, sess := range []string{"laptop", "phone", "old", "unknown"} {
		if e, err := ended(u.ID, sess); err != nil || e {
			t.Errorf("session %s ended = %v, %v before any end", sess, e, err)
		}
	}
	_, err = ended(other.ID+1000, "other")
	wantErr(t, err, chat.ErrNotFound)

	noErr(t, s.RevokeFamily(ctx, "old", base))
	if e, err := ended(u.ID, "old"); err != nil || !e {
		t.Errorf("session old after RevokeFamily: ended = %v, %v", e, err)
	}
	// Revoking again keeps the first end.
	noErr(t, s.RevokeFamily(ctx, "old", base.Add(time.Second)))

	at := base.Add(time.Minute)
	families, err := s.EndSessions(ctx, u.ID, at)
	noErr(t, err)
	if !reflect.DeepEqual(families, []string{"laptop", "phone"}) {
		t.Errorf("EndSessions ended %v, want [laptop phone]", families)
	}
	for _, sess := range []string{"laptop", "phone", "old"} {
		if e, err := ended(u.ID, sess); err != nil || !e {
			t.Errorf("session %s after EndSessions: ended = %v, %v", sess, e, err)
		}
	}
	if e, err := ended(other.ID, "other"); err != nil || e {
		t.Errorf("another user's session ended = %v, %v", e, err)
	}

	tests := []struct {
		hash      string
		revokedAt *time.Time // nil: must not be revoked
	}{
		{"u-fresh", &at},
		{"u-used", &at},
		{"u-used-next", &at},
		{"u-revoked", &base},
		{"o-fresh", nil},
	}
	for _, tt := range tests {
		got, err := s.RefreshTokenByHash(ctx, tt.hash)
		noErr(t, err)
		switch {
		case tt.revokedAt == nil && got.RevokedAt != nil:
			t.Errorf("%s: revoked at %v, want alive", tt.hash, got.RevokedAt)
		case tt.revokedAt != nil && (got.RevokedAt == nil || !got.RevokedAt.Equal(tt.revokedAt.Truncate(time.Microsecond))):
			t.Errorf("%s: RevokedAt = %v, want %v", tt.hash, got.RevokedAt, *tt.revokedAt)
		}
	}
	ok, err = s.UseRefreshToken(ctx, fresh.ID, at)
	noErr(t, err)
	if ok {
		t.Error("use of a token revoked with its user = true")
	}
	// Again later: nothing is left to end; a user without tokens is no error.
	later := at.Add(time.Minute)
	families, err = s.EndSessions(ctx, u.ID, later)
	noErr(t, err)
	if len(families) != 0 {
		t.Errorf("a second EndSessions ended %v", families)
	}
	_, err = s.EndSessions(ctx, other.ID+1000, at)
	noErr(t, err)
	got, err := s.RefreshTokenByHash(ctx, "u-fresh")
	noErr(t, err)
	if got.RevokedAt == nil || !got.RevokedAt.Equal(at.Truncate(time.Microsecond)) {
		t.Errorf("a second revocation moved RevokedAt to %v", got.RevokedAt)
	}

	// EndedSessions lists the ends after a time, oldest first, in UTC.
	list, err := s.EndedSessions(ctx, base.Add(-time.Second))
	noErr(t, err)
	want := []app.SessionEnd{
		{Session: "old", UserID: u.ID, At: base.UTC().Truncate(time.Microsecond)},
		{Session: "laptop", UserID: u.ID, At: at.UTC().Truncate(time.Microsecond)},
		{Session: "phone", UserID: u.ID, At: at.UTC().Truncate(time.Microsecond)},
	}
	if !reflect.DeepEqual(list, want) {
		t.Errorf("EndedSessions = %+v, want %+v", list, want)
	}
	for _, e := range list {
		if e.At.Location() != time.UTC {
			t.Errorf("EndedSessions time %v not in UTC", e.At)
		}
	}
	list, err = s.EndedSessions(ctx, base)
	noErr(t, err)
	if len(list) != 2 || list[0].Session != "laptop" {
		t.Errorf("EndedSessions after the first end = %+v, want laptop and phone", list)
	}
}

func testRefreshTokenConcurrentUse(t *testing.T, s *store.Store) {
	ctx := t.Context()
	base := baseTime()
	u := newUser(t, s, "erin", "")
	tok := app.RefreshToken{UserID: u.ID, FamilyID: "f", Hash: "h", ExpiresAt: base}
	noErr(t, s.CreateRefreshToken(ctx, &tok))
	const n = 10
	results := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i], errs[i] = s.UseRefreshToken(ctx, tok.ID, base) })
	}
	wg.Wait()
	wins := 0
	for i := range n {
		noErr(t, errs[i])
		if results[i] {
			wins++
		}
	}
	if wins != 1 {
		t.Errorf("%d concurrent uses succeeded, want 1", wins)
	}
}

// --- groups ---

func testGroups(t *testing.T, s *store.Store) {
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
		patch app.GroupPatch
		check func(chat.Group) bool
	}{
		{"name", app.GroupPatch{Name: ptr("Golang")}, func(g chat.Group) bool { return *g.Name == "Golang" && g.Description == "gophers" }},
		{"description", app.GroupPatch{Description: ptr("")}, func(g chat.Group) bool { return *g.Name == "Golang" && g.Description == "" }},
		{"visibility", app.GroupPatch{Visibility: ptr(chat.Private)}, func(g chat.Group) bool { return g.Visibility == chat.Private }},
		{"nothing", app.GroupPatch{}, func(g chat.Group) bool { return *g.Name == "Golang" && g.Visibility == chat.Private }},
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
	_, err = s.UpdateGroup(ctx, g.ID+1000, app.GroupPatch{Name: ptr("x")})
	wantErr(t, err, chat.ErrNotFound)
	_, err = s.UpdateGroup(ctx, g.ID+1000, app.GroupPatch{})
	wantErr(t, err, chat.ErrNotFound)

	err = s.CreateGroup(ctx, &chat.Group{Name: ptr("orphan"), OwnerID: owner.ID + 1000})
	wantErr(t, err, chat.ErrNotFound)
}

func testDeleteGroup(t *testing.T, s *store.Store) {
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
	hist, _, err := s.Messages(ctx, keep.ID, app.HistoryQuery{})
	noErr(t, err)
	if len(hist) != 1 {
		t.Errorf("other group's history = %v", hist)
	}
	wantErr(t, s.DeleteGroup(ctx, g.ID), chat.ErrNotFound)
}

func testDirectGroup(t *testing.T, s *store.Store) {
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

func testDirectGroupConcurrent(t *testing.T, s *store.Store) {
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

// --- membership ---

func testMembership(t *testing.T, s *store.Store) {
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
	_, err = s.UpdateGroup(ctx, g.ID, app.GroupPatch{Visibility: ptr(chat.Visibility("secret"))})
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

func testMembersAndGroupsOfUsers(t *testing.T, s *store.Store) {
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

func testSearchGroups(t *testing.T, s *store.Store) {
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

// --- messages ---

func testInsertMessage(t *testing.T, s *store.Store) {
	ctx := t.Context()
	base := baseTime()
	a := newUser(t, s, "sender", "Sender")
	b := newUser(t, s, "reader", "")
	g := newGroup(t, s, a.ID, "chat", chat.Public)
	_, err := s.AddMember(ctx, g.ID, b.ID, chat.RoleMember)
	noErr(t, err)

	m1 := send(t, s, g.ID, a.ID, "hello", base)
	if m1.Seq != 1 || m1.GroupID != g.ID || m1.Body != "hello" || m1.Deleted || m1.EditedAt != nil || m1.ClientID != nil {
		t.Errorf("first message = %+v", m1)
	}
	if m1.Sender.ID != a.ID || m1.Sender.Username != "sender" || m1.Sender.DisplayName != "Sender" {
		t.Errorf("sender = %+v", m1.Sender)
	}
	wantUTCMicros(t, "CreatedAt", m1.CreatedAt)
	if !m1.CreatedAt.Equal(base.Truncate(time.Microsecond)) {
		t.Errorf("CreatedAt = %v, want %v", m1.CreatedAt, base)
	}
	m2 := send(t, s, g.ID, b.ID, "hi", base.Add(time.Second))
	m3 := send(t, s, g.ID, a.ID, "bye", base.Add(2*time.Second))
	if m2.Seq != 2 || m3.Seq != 3 {
		t.Errorf("seqs = %d %d, want 2 3", m2.Seq, m3.Seq)
	}

	got, err := s.MessageByID(ctx, m3.ID)
	noErr(t, err)
	if got.ID != m3.ID || got.Seq != 3 || got.Body != "bye" || got.Sender != m3.Sender || !got.CreatedAt.Equal(m3.CreatedAt) {
		t.Errorf("MessageByID = %+v, want %+v", got, m3)
	}
	_, err = s.MessageByID(ctx, m3.ID+1000)
	wantErr(t, err, chat.ErrNotFound)

	// Sending moves the sender's read marker (only the sender's).
	ma, err := s.Membership(ctx, g.ID, a.ID)
	noErr(t, err)
	mb, err := s.Membership(ctx, g.ID, b.ID)
	noErr(t, err)
	if ma.LastReadSeq != 3 || mb.LastReadSeq != 2 {
		t.Errorf("read markers = %d %d, want 3 2", ma.LastReadSeq, mb.LastReadSeq)
	}
	gg, err := s.GroupByID(ctx, g.ID, a.ID)
	noErr(t, err)
	if gg.LastSeq != 3 {
		t.Errorf("last_seq = %d, want 3", gg.LastSeq)
	}

	// Another group counts on its own.
	g2 := newGroup(t, s, a.ID, "other", chat.Public)
	if m := send(t, s, g2.ID, a.ID, "x", base); m.Seq != 1 {
		t.Errorf("other group's first seq = %d", m.Seq)
	}

	_, _, err = s.InsertMessage(ctx, app.NewMessage{GroupID: g.ID + 1000, SenderID: a.ID, Body: "x", At: base})
	wantErr(t, err, chat.ErrNotFound)
	_, _, err = s.InsertMessage(ctx, app.NewMessage{GroupID: g.ID, SenderID: a.ID + 1000, Body: "x", At: base})
	wantErr(t, err, chat.ErrNotFound)
	gg, err = s.GroupByID(ctx, g.ID, a.ID)
	noErr(t, err)
	if gg.LastSeq != 3 {
		t.Errorf("a failed insert moved last_seq to %d", gg.LastSeq)
	}
}

func testIdempotentSend(t *testing.T, s *store.Store) {
	ctx := t.Context()
	base := baseTime()
	a := newUser(t, s, "ida", "")
	b := newUser(t, s, "ivo", "")
	g := newGroup(t, s, a.ID, "idem", chat.Public)
	g2 := newGroup(t, s, a.ID, "idem2", chat.Public)
	_, err := s.AddMember(ctx, g.ID, b.ID, chat.RoleMember)
	noErr(t, err)

	first, created, err := s.InsertMessage(ctx, app.NewMessage{GroupID: g.ID, SenderID: a.ID, Body: "once", ClientID: ptr("c1"), At: base})
	noErr(t, err)
	if !created || first.ClientID == nil || *first.ClientID != "c1" {
		t.Fatalf("first send = %+v created=%v", first, created)
	}
	tests := []struct {
		name    string
		m       app.NewMessage
		created bool
		seq     int64
	}{
		{"repeat", app.NewMessage{GroupID: g.ID, SenderID: a.ID, Body: "changed", ClientID: ptr("c1"), At: base.Add(time.Hour)}, false, 1},
		{"other sender", app.NewMessage{GroupID: g.ID, SenderID: b.ID, Body: "b", ClientID: ptr("c1"), At: base}, true, 2},
		{"other group", app.NewMessage{GroupID: g2.ID, SenderID: a.ID, Body: "g2", ClientID: ptr("c1"), At: base}, true, 1},
		{"other client id", app.NewMessage{GroupID: g.ID, SenderID: a.ID, Body: "c2", ClientID: ptr("c2"), At: base}, true, 3},
		{"no client id", app.NewMessage{GroupID: g.ID, SenderID: a.ID, Body: "n1", At: base}, true, 4},
		{"no client id again", app.NewMessage{GroupID: g.ID, SenderID: a.ID, Body: "n1", At: base}, true, 5},
		{"empty client id", app.NewMessage{GroupID: g.ID, SenderID: a.ID, Body: "e1", ClientID: ptr(""), At: base}, true, 6},
		{"empty client id again", app.NewMessage{GroupID: g.ID, SenderID: a.ID, Body: "e2", ClientID: ptr(""), At: base}, true, 7},
		{"repeat later", app.NewMessage{GroupID: g.ID, SenderID: a.ID, Body: "again", ClientID: ptr("c1"), At: base}, false, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, created, err := s.InsertMessage(ctx, tc.m)
			noErr(t, err)
			if created != tc.created || m.Seq != tc.seq {
				t.Errorf("InsertMessage = seq %d created %v, want seq %d created %v", m.Seq, created, tc.seq, tc.created)
			}
			if !tc.created && (m.ID != first.ID || m.Body != "once" || !m.CreatedAt.Equal(first.CreatedAt)) {
				t.Errorf("repeat returned %+v, want the original %+v", m, first)
			}
		})
	}
	got, err := s.GroupByID(ctx, g.ID, a.ID)
	noErr(t, err)
	if got.LastSeq != 7 {
		t.Errorf("last_seq = %d, want 7 (repeats store nothing)", got.LastSeq)
	}
	// A deleted message still answers its retries.
	_, err = s.DeleteMessage(ctx, first.ID, base)
	noErr(t, err)
	m, created, err := s.InsertMessage(ctx, app.NewMessage{GroupID: g.ID, SenderID: a.ID, Body: "x", ClientID: ptr("c1"), At: base})
	noErr(t, err)
	if created || m.ID != first.ID || !m.Deleted {
		t.Errorf("retry of a deleted message = %+v created=%v", m, created)
	}
}

// testIdempotentSendNeedsMembership: a repeated client_id answers the
// stored message only to a sender who is still a member; one who was
// removed (or left) gets ErrNoMembership, alone or in a batch with others.
func testIdempotentSendNeedsMembership(t *testing.T, s *store.Store) {
	ctx := t.Context()
	base := baseTime()
	owner := newUser(t, s, "keeper", "")
	gone := newUser(t, s, "goner", "")
	g := newGroup(t, s, owner.ID, "private", chat.Private)
	_, err := s.AddMember(ctx, g.ID, gone.ID, chat.RoleMember)
	noErr(t, err)
	old := app.NewMessage{GroupID: g.ID, SenderID: gone.ID, Body: "secret plans", ClientID: ptr("k1"), At: base}
	_, created, err := s.InsertMessage(ctx, old)
	noErr(t, err)
	if !created {
		t.Fatal("first send not created")
	}
	noErr(t, s.RemoveMember(ctx, g.ID, gone.ID))

	m, _, err := s.InsertMessage(ctx, old)
	wantErr(t, err, app.ErrNoMembership)
	if m.Body != "" {
		t.Fatalf("removed member got the stored message back: %+v", m)
	}
	// In one batch with a member's send: only the removed one fails.
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			m := old
			if i%2 == 1 {
				m = app.NewMessage{GroupID: g.ID, SenderID: owner.ID, Body: "hi", ClientID: ptr(fmt.Sprint("o", i)), At: base}
			}
			_, _, errs[i] = s.InsertMessage(ctx, m)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if i%2 == 1 {
			noErr(t, err)
		} else {
			wantErr(t, err, app.ErrNoMembership)
		}
	}
}

func testHistory(t *testing.T, s *store.Store) {
	ctx := t.Context()
	base := baseTime()
	a := newUser(t, s, "hist", "")
	outsider := newUser(t, s, "hist-outsider", "")
	g := newGroup(t, s, a.ID, "history", chat.Public)
	empty := newGroup(t, s, a.ID, "empty", chat.Public)
	for i := range 10 {
		send(t, s, g.ID, a.ID, fmt.Sprintf("m%d", i+1), base.Add(time.Duration(i)*time.Second))
	}
	tests := []struct {
		name    string
		gid     int64
		q       app.HistoryQuery
		want    []int64
		hasMore bool
	}{
		{"default is latest", g.ID, app.HistoryQuery{}, span(1, 10), false},
		{"latest page", g.ID, app.HistoryQuery{Limit: 3}, span(8, 10), true},
		{"latest exact", g.ID, app.HistoryQuery{Limit: 10}, span(1, 10), false},
		{"before", g.ID, app.HistoryQuery{BeforeSeq: 8, Limit: 3}, span(5, 7), true},
		{"before start", g.ID, app.HistoryQuery{BeforeSeq: 4, Limit: 3}, span(1, 3), false},
		{"before 1", g.ID, app.HistoryQuery{BeforeSeq: 1, Limit: 3}, nil, false},
		{"after", g.ID, app.HistoryQuery{After: new(int64(2)), Limit: 3}, span(3, 5), true},
		{"after to end", g.ID, app.HistoryQuery{After: new(int64(7)), Limit: 3}, span(8, 10), false},
		{"after end", g.ID, app.HistoryQuery{After: new(int64(10)), Limit: 3}, nil, false},
		{"after wins over before", g.ID, app.HistoryQuery{After: new(int64(8)), BeforeSeq: 3, Limit: 5}, span(9, 10), false},
		{"after 0 is the start", g.ID, app.HistoryQuery{After: new(int64(0)), Limit: 2}, span(1, 2), true},
		{"after 0, all", g.ID, app.HistoryQuery{After: new(int64(0)), Limit: 10}, span(1, 10), false},
		{"after 0, empty group", empty.ID, app.HistoryQuery{After: new(int64(0)), Limit: 2}, nil, false},
		{"member, after 0", g.ID, app.HistoryQuery{After: new(int64(0)), Limit: 3, Member: a.ID}, span(1, 3), true},
		{"empty group", empty.ID, app.HistoryQuery{}, nil, false},
		{"unknown group", g.ID + 1000, app.HistoryQuery{}, nil, false},
		{"member", g.ID, app.HistoryQuery{Limit: 3, Member: a.ID}, span(8, 10), true},
		{"member, after", g.ID, app.HistoryQuery{After: new(int64(7)), Limit: 3, Member: a.ID}, span(8, 10), false},
		{"member, before", g.ID, app.HistoryQuery{BeforeSeq: 8, Limit: 3, Member: a.ID}, span(5, 7), true},
		{"member, empty page", g.ID, app.HistoryQuery{After: new(int64(10)), Member: a.ID}, nil, false},
		{"member, empty group", empty.ID, app.HistoryQuery{Member: a.ID}, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			items, hasMore, err := s.Messages(ctx, tc.gid, tc.q)
			noErr(t, err)
			if !slices.Equal(seqs(items), tc.want) || hasMore != tc.hasMore {
				t.Errorf("Messages(%+v) = %v hasMore=%v, want %v hasMore=%v", tc.q, seqs(items), hasMore, tc.want, tc.hasMore)
			}
			for _, m := range items {
				if m.Body != fmt.Sprintf("m%d", m.Seq) || m.Sender.ID != a.ID || m.Sender.Username != "hist" {
					t.Errorf("message %d = %+v", m.Seq, m)
				}
				wantUTCMicros(t, "CreatedAt", m.CreatedAt)
			}
		})
	}
	// With Member set, anyone else reads nothing: ErrNoMembership (a
	// chat.ErrNotFound), whether or not the group has messages or exists.
	for _, tc := range []struct {
		name string
		gid  int64
		q    app.HistoryQuery
	}{
		{"outsider", g.ID, app.HistoryQuery{Member: outsider.ID}},
		{"outsider, after", g.ID, app.HistoryQuery{After: new(int64(2)), Member: outsider.ID}},
		{"outsider, empty group", empty.ID, app.HistoryQuery{Member: outsider.ID}},
		{"unknown group", g.ID + 1000, app.HistoryQuery{Member: a.ID}},
		{"unknown user", g.ID, app.HistoryQuery{Member: outsider.ID + 1000}},
	} {
		items, _, err := s.Messages(ctx, tc.gid, tc.q)
		if !errors.Is(err, app.ErrNoMembership) || !errors.Is(err, chat.ErrNotFound) || len(items) != 0 {
			t.Errorf("%s: Messages = %d items, %v; want app.ErrNoMembership", tc.name, len(items), err)
		}
	}
}

func testEditDeleteMessage(t *testing.T, s *store.Store) {
	ctx := t.Context()
	base := baseTime()
	a := newUser(t, s, "ed", "")
	g := newGroup(t, s, a.ID, "edits", chat.Public)
	m1 := send(t, s, g.ID, a.ID, "first", base)
	m2 := send(t, s, g.ID, a.ID, "second", base)
	send(t, s, g.ID, a.ID, "third", base)

	edited, err := s.EditMessage(ctx, m1.ID, "first!", base.Add(time.Minute))
	noErr(t, err)
	if edited.Body != "first!" || edited.EditedAt == nil || !edited.EditedAt.Equal(base.Add(time.Minute).Truncate(time.Microsecond)) ||
		edited.Seq != 1 || edited.Deleted || edited.Sender.ID != a.ID {
		t.Errorf("EditMessage = %+v", edited)
	}
	wantUTCMicros(t, "EditedAt", *edited.EditedAt)
	_, err = s.EditMessage(ctx, m1.ID+1000, "x", base)
	wantErr(t, err, chat.ErrNotFound)

	deleted, err := s.DeleteMessage(ctx, m2.ID, base.Add(time.Hour))
	noErr(t, err)
	if !deleted.Deleted || deleted.Body != "" || deleted.Seq != 2 || deleted.ID != m2.ID {
		t.Errorf("DeleteMessage = %+v", deleted)
	}
	again, err := s.DeleteMessage(ctx, m2.ID, base.Add(2*time.Hour))
	noErr(t, err)
	if !again.Deleted || again.Body != "" {
		t.Errorf("second DeleteMessage = %+v", again)
	}
	_, err = s.DeleteMessage(ctx, m2.ID+1000, base)
	wantErr(t, err, chat.ErrNotFound)
	_, err = s.EditMessage(ctx, m2.ID, "revive", base)
	wantErr(t, err, chat.ErrConflict)

	items, _, err := s.Messages(ctx, g.ID, app.HistoryQuery{})
	noErr(t, err)
	if !slices.Equal(seqs(items), []int64{1, 2, 3}) || !items[1].Deleted || items[1].Body != "" || items[0].Body != "first!" {
		t.Errorf("history after edit and delete = %+v", items)
	}
	// The next message still takes the next seq.
	if m := send(t, s, g.ID, a.ID, "fourth", base); m.Seq != 4 {
		t.Errorf("seq after delete = %d, want 4", m.Seq)
	}
}

func testMarkRead(t *testing.T, s *store.Store) {
	ctx := t.Context()
	base := baseTime()
	a := newUser(t, s, "mra", "")
	b := newUser(t, s, "mrb", "")
	g := newGroup(t, s, a.ID, "reads", chat.Public)
	_, err := s.AddMember(ctx, g.ID, b.ID, chat.RoleMember)
	noErr(t, err)
	for range 5 {
		send(t, s, g.ID, a.ID, "x", base)
	}
	tests := []struct {
		seq, want int64
	}{
		{2, 2},
		{4, 4},
		{3, 4},   // never backwards
		{0, 4},   // nothing
		{-1, 4},  // nothing
		{99, 5},  // never past last_seq
		{5, 5},   // idempotent
		{100, 5}, // still capped
	}
	for _, tc := range tests {
		got, err := s.MarkRead(ctx, g.ID, b.ID, tc.seq)
		noErr(t, err)
		if got != tc.want {
			t.Errorf("MarkRead(%d) = %d, want %d", tc.seq, got, tc.want)
		}
	}
	m, err := s.Membership(ctx, g.ID, b.ID)
	noErr(t, err)
	if m.LastReadSeq != 5 {
		t.Errorf("stored marker = %d", m.LastReadSeq)
	}
	_, err = s.MarkRead(ctx, g.ID, b.ID+1000, 1)
	wantErr(t, err, chat.ErrNotFound)
	_, err = s.MarkRead(ctx, g.ID+1000, b.ID, 1)
	wantErr(t, err, chat.ErrNotFound)
}

func testMyGroups(t *testing.T, s *store.Store) {
	ctx := t.Context()
	base := baseTime()
	me := newUser(t, s, "me", "")
	pal := newUser(t, s, "pal", "Pal")
	quiet := newGroup(t, s, pal.ID, "quiet", chat.Public)                  // joined, no messages
	busy := newGroup(t, s, pal.ID, "busy", chat.Private)                   // messages, some unread
	mine := chat.Group{Name: ptr("mine"), OwnerID: me.ID, CreatedAt: base} // own group, old
	noErr(t, s.CreateGroup(ctx, &mine))
	for _, gid := range []int64{quiet.ID, busy.ID} {
		_, err := s.AddMember(ctx, gid, me.ID, chat.RoleMember)
		noErr(t, err)
	}
	dm, _, err := s.DirectGroup(ctx, me.ID, pal.ID)
	noErr(t, err)

	later := time.Now().Add(time.Hour)
	send(t, s, busy.ID, pal.ID, "b1", later)
	send(t, s, busy.ID, pal.ID, "b2", later.Add(time.Second))
	send(t, s, busy.ID, pal.ID, "b3", later.Add(2*time.Second))
	_, err = s.MarkRead(ctx, busy.ID, me.ID, 1)
	noErr(t, err)
	send(t, s, dm.ID, me.ID, "hey", later.Add(time.Minute))
	send(t, s, mine.ID, me.ID, "old", base)

	list, err := s.MyGroups(ctx, me.ID)
	noErr(t, err)
	var order []int64
	byID := map[int64]chat.MyGroup{}
	for _, g := range list {
		order = append(order, g.ID)
		byID[g.ID] = g
	}
	// dm (newest message), busy, quiet (joined now), mine (message long ago).
	if want := []int64{dm.ID, busy.ID, quiet.ID, mine.ID}; !slices.Equal(order, want) {
		t.Fatalf("MyGroups order = %v, want %v", order, want)
	}

	b := byID[busy.ID]
	if b.Role != chat.RoleMember || b.LastReadSeq != 1 || b.UnreadCount != 2 || b.LastSeq != 3 || b.Peer != nil {
		t.Errorf("busy = %+v", b)
	}
	if b.LastMessage == nil || b.LastMessage.Seq != 3 || b.LastMessage.Body != "b3" ||
		b.LastMessage.Sender.ID != pal.ID || b.LastMessage.Sender.DisplayName != "Pal" {
		t.Errorf("busy last message = %+v", b.LastMessage)
	} else {
		wantUTCMicros(t, "last message CreatedAt", b.LastMessage.CreatedAt)
	}
	q := byID[quiet.ID]
	if q.LastMessage != nil || q.UnreadCount != 0 || q.Role != chat.RoleMember {
		t.Errorf("quiet = %+v", q)
	}
	d := byID[dm.ID]
	if d.Kind != chat.KindDirect || d.Peer == nil || d.Peer.ID != pal.ID || d.UnreadCount != 0 || d.LastMessage == nil || d.LastMessage.Body != "hey" {
		t.Errorf("direct = %+v", d)
	}
	if o := byID[mine.ID]; o.Role != chat.RoleOwner || o.UnreadCount != 0 {
		t.Errorf("mine = %+v", o)
	}

	// The peer sees the direct group with me as peer and one unread.
	theirs, err := s.MyGroups(ctx, pal.ID)
	noErr(t, err)
	found := false
	for _, g := range theirs {
		if g.ID == dm.ID {
			found = true
			if g.Peer == nil || g.Peer.ID != me.ID || g.UnreadCount != 1 {
				t.Errorf("pal's direct = %+v", g)
			}
		}
	}
	if !found {
		t.Error("pal's list misses the direct group")
	}

	none, err := s.MyGroups(ctx, me.ID+1000)
	noErr(t, err)
	if len(none) != 0 {
		t.Errorf("MyGroups of nobody = %v", none)
	}
}

// --- concurrency ---

func testConcurrentSenders(t *testing.T, s *store.Store) {
	ctx := t.Context()
	const senders, each = 20, 5
	owner := newUser(t, s, "host", "")
	g := newGroup(t, s, owner.ID, "crowd", chat.Public)
	users := make([]chat.User, senders)
	for i := range users {
		users[i] = newUser(t, s, fmt.Sprintf("s%02d", i), "")
		_, err := s.AddMember(ctx, g.ID, users[i].ID, chat.RoleMember)
		noErr(t, err)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		got  []int64
		errs []error
	)
	// A reader runs beside the senders: every history it reads must be a
	// gapless prefix 1..k, because seqs commit in order.
	done := make(chan struct{})
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for {
			select {
			case <-done:
				return
			default:
			}
			items, _, err := s.Messages(ctx, g.ID, app.HistoryQuery{After: new(int64(0)), Limit: 1000})
			if err != nil {
				t.Errorf("concurrent read: %v", err)
				return
			}
			if !slices.Equal(seqs(items), span(1, int64(len(items)))) {
				t.Errorf("concurrent read saw seqs %v, want a gapless prefix", seqs(items))
				return
			}
		}
	}()
	for _, u := range users {
		wg.Go(func() {
			for i := range each {
				m, _, err := s.InsertMessage(ctx, app.NewMessage{
					GroupID: g.ID, SenderID: u.ID, Body: fmt.Sprintf("%s-%d", u.Username, i), At: time.Now(),
				})
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					got = append(got, m.Seq)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(done)
	<-readerDone
	for _, err := range errs {
		t.Errorf("concurrent send: %v", err)
	}
	slices.Sort(got)
	if want := span(1, senders*each); !slices.Equal(got, want) {
		t.Fatalf("seqs = %v, want 1..%d each once", got, senders*each)
	}
	items, hasMore, err := s.Messages(ctx, g.ID, app.HistoryQuery{Limit: 1000})
	noErr(t, err)
	if hasMore || !slices.Equal(seqs(items), span(1, senders*each)) {
		t.Errorf("history seqs = %v", seqs(items))
	}
	// Each sender's own messages appear in the order they were sent.
	last := map[int64]string{}
	for _, m := range items {
		if prev, ok := last[m.Sender.ID]; ok && prev >= m.Body {
			t.Errorf("sender %d: %q after %q", m.Sender.ID, m.Body, prev)
		}
		last[m.Sender.ID] = m.Body
	}
	gg, err := s.GroupByID(ctx, g.ID, owner.ID)
	noErr(t, err)
	if gg.LastSeq != senders*each {
		t.Errorf("last_seq = %d", gg.LastSeq)
	}
	for _, u := range users {
		m, err := s.Membership(ctx, g.ID, u.ID)
		noErr(t, err)
		if m.LastReadSeq == 0 {
			t.Errorf("sender %d read marker did not move", u.ID)
		}
	}
}

func testConcurrentRetries(t *testing.T, s *store.Store) {
	ctx := t.Context()
	const n = 20
	u := newUser(t, s, "retry", "")
	g := newGroup(t, s, u.ID, "retries", chat.Public)
	ids := make([]int64, n)
	created := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var m chat.Message
			m, created[i], errs[i] = s.InsertMessage(ctx, app.NewMessage{
				GroupID: g.ID, SenderID: u.ID, Body: "same", ClientID: ptr("dup"), At: time.Now(),
			})
			ids[i] = m.ID
		})
	}
	wg.Wait()
	creations := 0
	for i := range n {
		noErr(t, errs[i])
		if ids[i] != ids[0] || ids[i] == 0 {
			t.Errorf("retry %d got message %d, retry 0 got %d", i, ids[i], ids[0])
		}
		if created[i] {
			creations++
		}
	}
	if creations != 1 {
		t.Errorf("%d retries created a message, want 1", creations)
	}
	items, _, err := s.Messages(ctx, g.ID, app.HistoryQuery{})
	noErr(t, err)
	if len(items) != 1 || items[0].Seq != 1 {
		t.Errorf("stored %v, want one message with seq 1", seqs(items))
	}
}

// --- availability ---

func testPingAndClose(t *testing.T, s *store.Store) {
	ctx := t.Context()
	base := baseTime()
	noErr(t, s.Ping(ctx))
	if s.DB() == nil || len(s.Pools()) == 0 {
		t.Error("no pools for statistics")
	}
	u := newUser(t, s, "pinger", "")
	noErr(t, s.Close())
	wantErr(t, s.Ping(ctx), chat.ErrUnavailable)
	_, err := s.UserByID(ctx, u.ID)
	wantErr(t, err, chat.ErrUnavailable)
	_, _, err = s.InsertMessage(ctx, app.NewMessage{GroupID: 1, SenderID: u.ID, Body: "x", At: base})
	wantErr(t, err, chat.ErrUnavailable)

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Ping(canceled); err == nil {
		t.Error("Ping with a canceled context succeeded")
	}
}

package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chatapp/chat/chat"
)

func testUsers(t *testing.T, s Store) {
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

func testUpdateUser(t *testing.T, s Store) {
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
			got, err := s.UpdateUser(ctx, u.ID, chat.UserPatch{DisplayName: tc.display, PasswordHash: tc.hash})
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
	_, err := s.UpdateUser(ctx, u.ID+1000, chat.UserPatch{DisplayName: ptr("x")})
	wantErr(t, err, chat.ErrNotFound)
	_, err = s.UpdateUser(ctx, u.ID+1000, chat.UserPatch{})
	wantErr(t, err, chat.ErrNotFound)
}

func testSearchUsers(t *testing.T, s Store) {
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

func testSearchUsersPaging(t *testing.T, s Store) {
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

func testRefreshTokens(t *testing.T, s Store) {
	ctx := t.Context()
	base := baseTime()
	u := newUser(t, s, "dave", "")
	mk := func(family, hash string) chat.RefreshToken {
		tok := chat.RefreshToken{UserID: u.ID, FamilyID: family, Hash: hash, ExpiresAt: base.Add(time.Hour), CreatedAt: base}
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
	err = s.CreateRefreshToken(ctx, &chat.RefreshToken{UserID: u.ID, FamilyID: "x", Hash: "hash1", ExpiresAt: base})
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
func testEndSessions(t *testing.T, s Store) {
	ctx := t.Context()
	base := baseTime()
	u := newUser(t, s, "frank", "")
	other := newUser(t, s, "grace", "")
	mk := func(uid int64, family, hash string) chat.RefreshToken {
		tok := chat.RefreshToken{UserID: uid, FamilyID: family, Hash: hash, ExpiresAt: base.Add(time.Hour), CreatedAt: base}
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

	// SessionUser is the user as Account reads it, plus whether the
	// session ended.
	ended := func(uid int64, session string) (bool, error) {
		t.Helper()
		got, ended, err := s.SessionUser(ctx, uid, session)
		if err == nil {
			want, err := s.Account(ctx, uid)
			noErr(t, err)
			if !reflect.DeepEqual(got, want) {
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
	want := []chat.SessionEnd{
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

func testRefreshTokenConcurrentUse(t *testing.T, s Store) {
	ctx := t.Context()
	base := baseTime()
	u := newUser(t, s, "erin", "")
	tok := chat.RefreshToken{UserID: u.ID, FamilyID: "f", Hash: "h", ExpiresAt: base}
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

package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/chatapp/chat/chat"
)

// The store rules of "find and follow": edit history, mute, read
// receipts and mentions.

func testEditHistory(t *testing.T, s Store) {
	ctx := t.Context()
	base := baseTime()
	a := newUser(t, s, "histo", "")
	g := newGroup(t, s, a.ID, "history", chat.Public)
	m := send(t, s, g.ID, a.ID, "one", base)
	other := send(t, s, g.ID, a.ID, "untouched", base)

	edits, err := s.MessageEdits(ctx, m.ID)
	noErr(t, err)
	if edits == nil || len(edits) != 0 {
		t.Fatalf("edits of an unedited message = %#v, want an empty list", edits)
	}
	for i, body := range []string{"two", "three"} {
		_, err := s.EditMessage(ctx, m.ID, body, base.Add(time.Duration(i+1)*time.Minute))
		noErr(t, err)
	}
	edits, err = s.MessageEdits(ctx, m.ID)
	noErr(t, err)
	want := []chat.Edit{
		{Body: "one", EditedAt: base.Add(time.Minute).UTC().Truncate(time.Microsecond)},
		{Body: "two", EditedAt: base.Add(2 * time.Minute).UTC().Truncate(time.Microsecond)},
	}
	if !slices.EqualFunc(edits, want, func(a, b chat.Edit) bool { return a.Body == b.Body && a.EditedAt.Equal(b.EditedAt) }) {
		t.Fatalf("edits = %+v, want %+v", edits, want)
	}
	wantUTCMicros(t, "EditedAt", edits[0].EditedAt)
	if got, err := s.MessageEdits(ctx, other.ID); err != nil || len(got) != 0 {
		t.Errorf("edits of another message = %+v, %v", got, err)
	}

	// A failed edit (of a deleted message) keeps no history.
	_, err = s.DeleteMessage(ctx, m.ID, base.Add(time.Hour))
	noErr(t, err)
	edits, err = s.MessageEdits(ctx, m.ID)
	noErr(t, err)
	if len(edits) != 0 {
		t.Errorf("edits after delete = %+v, want none", edits)
	}
	_, err = s.EditMessage(ctx, m.ID, "back", base.Add(2*time.Hour))
	wantErr(t, err, chat.ErrConflict)
	edits, err = s.MessageEdits(ctx, m.ID)
	noErr(t, err)
	if len(edits) != 0 {
		t.Errorf("edits after an edit of a deleted message = %+v, want none", edits)
	}
}

func testMute(t *testing.T, s Store) {
	ctx := t.Context()
	a := newUser(t, s, "muter", "")
	b := newUser(t, s, "other", "")
	g := newGroup(t, s, a.ID, "noisy", chat.Public)
	h := newGroup(t, s, a.ID, "quiet", chat.Public)
	_, err := s.AddMember(ctx, g.ID, b.ID, chat.RoleMember)
	noErr(t, err)

	mine, err := s.MyGroup(ctx, a.ID, g.ID)
	noErr(t, err)
	if mine.Muted || mine.ID != g.ID || mine.Role != chat.RoleOwner {
		t.Fatalf("MyGroup before muting = %+v", mine)
	}
	noErr(t, s.SetMuted(ctx, g.ID, a.ID, true))
	noErr(t, s.SetMuted(ctx, g.ID, a.ID, true)) // again: still a member, no error
	mine, err = s.MyGroup(ctx, a.ID, g.ID)
	noErr(t, err)
	if !mine.Muted {
		t.Errorf("MyGroup after muting: muted = false")
	}
	// Per membership: the other member and the other group are not muted.
	theirs, err := s.MyGroup(ctx, b.ID, g.ID)
	noErr(t, err)
	list, err := s.MyGroups(ctx, a.ID)
	noErr(t, err)
	muted := map[int64]bool{}
	for _, mg := range list {
		muted[mg.ID] = mg.Muted
	}
	if theirs.Muted || !muted[g.ID] || muted[h.ID] || len(list) != 2 {
		t.Errorf("muted: theirs %v, mine %v", theirs.Muted, muted)
	}
	noErr(t, s.SetMuted(ctx, g.ID, a.ID, false))
	if mine, err = s.MyGroup(ctx, a.ID, g.ID); err != nil || mine.Muted {
		t.Errorf("MyGroup after unmuting = %+v, %v", mine, err)
	}

	c := newUser(t, s, "outsider", "")
	wantErr(t, s.SetMuted(ctx, g.ID, c.ID, true), chat.ErrNotFound)
	wantErr(t, s.SetMuted(ctx, g.ID+1000, a.ID, true), chat.ErrNotFound)
	_, err = s.MyGroup(ctx, c.ID, g.ID)
	wantErr(t, err, chat.ErrNotFound)
}

func testReadReceipts(t *testing.T, s Store) {
	ctx := t.Context()
	base := baseTime()
	a := newUser(t, s, "reader_a", "")
	b := newUser(t, s, "reader_b", "")
	c := newUser(t, s, "reader_c", "")
	g := newGroup(t, s, a.ID, "receipts", chat.Public)
	for _, u := range []chat.User{b, c} {
		_, err := s.AddMember(ctx, g.ID, u.ID, chat.RoleMember)
		noErr(t, err)
	}
	for range 3 {
		send(t, s, g.ID, a.ID, "x", base)
	}
	_, err := s.MarkRead(ctx, g.ID, b.ID, 2)
	noErr(t, err)

	// Sharing is on by default, and only the user sees their setting.
	acct, err := s.Account(ctx, b.ID)
	noErr(t, err)
	if acct.ShareReadReceipts == nil || !*acct.ShareReadReceipts || acct.Username != "reader_b" {
		t.Fatalf("Account = %+v, want share_read_receipts true", acct)
	}
	if pub, err := s.UserByID(ctx, b.ID); err != nil || pub.ShareReadReceipts != nil {
		t.Errorf("UserByID = %+v, %v: the setting is the user's own", pub, err)
	}
	got, err := s.ReadReceipts(ctx, g.ID)
	noErr(t, err)
	want := []chat.ReadReceipt{{UserID: a.ID, LastReadSeq: 3}, {UserID: b.ID, LastReadSeq: 2}, {UserID: c.ID, LastReadSeq: 0}}
	if !slices.Equal(got, want) {
		t.Fatalf("ReadReceipts = %+v, want %+v", got, want)
	}

	// Hidden receipts are hidden; the other fields stay.
	off, err := s.UpdateUser(ctx, b.ID, chat.UserPatch{ShareReadReceipts: ptr(false)})
	noErr(t, err)
	if off.ShareReadReceipts == nil || *off.ShareReadReceipts || off.Username != "reader_b" {
		t.Fatalf("UpdateUser(share off) = %+v", off)
	}
	got, err = s.ReadReceipts(ctx, g.ID)
	noErr(t, err)
	if want := []chat.ReadReceipt{{UserID: a.ID, LastReadSeq: 3}, {UserID: c.ID, LastReadSeq: 0}}; !slices.Equal(got, want) {
		t.Errorf("ReadReceipts with b hidden = %+v, want %+v", got, want)
	}
	u, _, err := s.SessionUser(ctx, b.ID, "any")
	noErr(t, err)
	if u.ShareReadReceipts == nil || *u.ShareReadReceipts {
		t.Errorf("SessionUser = %+v, want share_read_receipts false", u)
	}
	on, err := s.UpdateUser(ctx, b.ID, chat.UserPatch{ShareReadReceipts: ptr(true)})
	noErr(t, err)
	if !*on.ShareReadReceipts {
		t.Errorf("UpdateUser(share on) = %+v", on)
	}
	if got, err = s.ReadReceipts(ctx, g.ID+1000); err != nil || len(got) != 0 || got == nil {
		t.Errorf("ReadReceipts of no group = %#v, %v; want an empty list", got, err)
	}
}

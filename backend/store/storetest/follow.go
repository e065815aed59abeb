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

func testMentions(t *testing.T, s Store) {
	ctx := t.Context()
	base := baseTime()
	alice := newUser(t, s, "alice_m", "")
	bob := newUser(t, s, "Bob_M", "")
	carol := newUser(t, s, "carol_m", "") // not a member
	dave := newUser(t, s, "dave.x", "")
	g := newGroup(t, s, alice.ID, "mentions", chat.Public)
	other := newGroup(t, s, carol.ID, "elsewhere", chat.Public)
	for _, u := range []chat.User{bob, dave} {
		_, err := s.AddMember(ctx, g.ID, u.ID, chat.RoleMember)
		noErr(t, err)
	}
	mentionCount := func(u chat.User) int64 {
		t.Helper()
		mg, err := s.MyGroup(ctx, u.ID, g.ID)
		noErr(t, err)
		list, err := s.MyGroups(ctx, u.ID)
		noErr(t, err)
		for _, l := range list {
			if l.ID == g.ID && l.MentionCount != mg.MentionCount {
				t.Errorf("MyGroups and MyGroup disagree: %d, %d", l.MentionCount, mg.MentionCount)
			}
		}
		return mg.MentionCount
	}

	plain := send(t, s, g.ID, alice.ID, "no one here, mail alice_m@x.org", base)
	if plain.Mentions == nil || len(plain.Mentions) != 0 {
		t.Fatalf("mentions of a plain message = %#v, want []", plain.Mentions)
	}
	m := send(t, s, g.ID, alice.ID, "hi @bob_m, @CAROL_M, @alice_m and @bob_M again; thanks @dave.x.", base)
	if want := []int64{bob.ID, alice.ID, dave.ID}; !slices.Equal(m.Mentions, want) {
		t.Fatalf("mentions = %v, want %v (members only, each once, in order)", m.Mentions, want)
	}
	got, err := s.MessageByID(ctx, m.ID)
	noErr(t, err)
	items, _, err := s.Messages(ctx, g.ID, chat.HistoryQuery{})
	noErr(t, err)
	if !slices.Equal(got.Mentions, m.Mentions) || !slices.Equal(items[1].Mentions, m.Mentions) || len(items[0].Mentions) != 0 {
		t.Fatalf("stored mentions: by id %v, history %v / %v", got.Mentions, items[0].Mentions, items[1].Mentions)
	}
	mine, err := s.MyGroup(ctx, bob.ID, g.ID)
	noErr(t, err)
	if mine.LastMessage == nil || !slices.Equal(mine.LastMessage.Mentions, m.Mentions) {
		t.Errorf("last message = %+v", mine.LastMessage)
	}
	// The sender read up to their own message: no mention of theirs counts.
	if a, b, d := mentionCount(alice), mentionCount(bob), mentionCount(dave); a != 0 || b != 1 || d != 1 {
		t.Errorf("mention counts alice %d bob %d dave %d, want 0 1 1", a, b, d)
	}

	// A batch: requests of several groups committed together, each
	// resolved against its own group's members.
	var waits []func() (chat.Message, bool, error)
	for i := range 6 {
		gid, sender, body := g.ID, dave.ID, "@bob_m look"
		if i%2 == 1 {
			gid, sender, body = other.ID, carol.ID, "@bob_m is not here, @carol_m is"
		}
		waits = append(waits, s.QueueMessage(ctx, chat.NewMessage{GroupID: gid, SenderID: sender, Body: body, At: base}))
	}
	for i, w := range waits {
		msg, _, err := w()
		noErr(t, err)
		want := []int64{bob.ID}
		if i%2 == 1 {
			want = []int64{carol.ID}
		}
		if !slices.Equal(msg.Mentions, want) {
			t.Errorf("batched message %d mentions %v, want %v", i, msg.Mentions, want)
		}
	}
	if n := mentionCount(bob); n != 4 {
		t.Errorf("bob's mention count = %d, want 4", n)
	}

	// Idempotent repeats answer the original's mentions.
	first := chat.NewMessage{GroupID: g.ID, SenderID: alice.ID, Body: "@dave.x once", ClientID: ptr("c1"), At: base}
	orig, created, err := s.InsertMessage(ctx, first)
	noErr(t, err)
	again, created2, err := s.InsertMessage(ctx, first)
	noErr(t, err)
	if !created || created2 || !slices.Equal(again.Mentions, []int64{dave.ID}) || again.ID != orig.ID {
		t.Errorf("repeat = %+v (created %v), want the original's mentions", again, created2)
	}

	// An edit resolves again; a read marker and a delete uncount.
	edited, err := s.EditMessage(ctx, m.ID, "only @carol_m now", base.Add(time.Minute))
	noErr(t, err)
	if len(edited.Mentions) != 0 || edited.Mentions == nil {
		t.Errorf("mentions after edit = %#v, want []", edited.Mentions)
	}
	if n := mentionCount(bob); n != 3 {
		t.Errorf("bob's mention count after the edit = %d, want 3", n)
	}
	edited, err = s.EditMessage(ctx, m.ID, "@BOB_M back", base.Add(2*time.Minute))
	noErr(t, err)
	if !slices.Equal(edited.Mentions, []int64{bob.ID}) || mentionCount(bob) != 4 || mentionCount(dave) != 1 {
		t.Errorf("after the second edit: mentions %v, bob %d, dave %d", edited.Mentions, mentionCount(bob), mentionCount(dave))
	}
	_, err = s.DeleteMessage(ctx, m.ID, base.Add(time.Hour))
	noErr(t, err)
	if n := mentionCount(bob); n != 3 {
		t.Errorf("bob's mention count after the delete = %d, want 3", n)
	}
	gone, err := s.MessageByID(ctx, m.ID)
	noErr(t, err)
	if len(gone.Mentions) != 0 {
		t.Errorf("a deleted message mentions %v", gone.Mentions)
	}
	last := send(t, s, g.ID, alice.ID, "@bob_m last", base)
	if n := mentionCount(bob); n != 4 {
		t.Errorf("bob's mention count = %d, want 4", n)
	}
	_, err = s.MarkRead(ctx, g.ID, bob.ID, last.Seq-1)
	noErr(t, err)
	if n := mentionCount(bob); n != 1 {
		t.Errorf("bob's mention count after reading all but the last = %d, want 1", n)
	}
	_, err = s.MarkRead(ctx, g.ID, bob.ID, last.Seq)
	noErr(t, err)
	if n := mentionCount(bob); n != 0 {
		t.Errorf("bob's mention count after reading all = %d, want 0", n)
	}
}

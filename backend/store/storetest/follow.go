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

package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/chatapp/chat/chat"
)

func newUpload(t *testing.T, s Store, gid, uid int64, name string, at time.Time) chat.Attachment {
	t.Helper()
	w, h := 640, 480
	a := chat.Attachment{
		GroupID: gid, UploaderID: uid, Filename: name, ContentType: "image/png", Size: 1234,
		SHA256: fmt.Sprintf("%064x", len(name)), Width: &w, Height: &h, Key: "k-" + name, ThumbKey: "k-" + name + ".thumb", CreatedAt: at,
	}
	noErr(t, s.CreateAttachment(t.Context(), &a))
	if a.ID == 0 {
		t.Fatal("CreateAttachment gave no id")
	}
	wantUTCMicros(t, "attachment CreatedAt", a.CreatedAt)
	return a
}

func attachmentIDs(as []chat.Attachment) []int64 {
	out := make([]int64, len(as))
	for i, a := range as {
		out[i] = a.ID
	}
	return out
}

func testAttachments(t *testing.T, s Store) {
	ctx := t.Context()
	base := baseTime()
	a := newUser(t, s, "uploader", "")
	b := newUser(t, s, "other", "")
	g := newGroup(t, s, a.ID, "files", chat.Public)
	_, err := s.AddMember(ctx, g.ID, b.ID, chat.RoleMember)
	noErr(t, err)
	g2 := newGroup(t, s, a.ID, "elsewhere", chat.Public)

	p1 := newUpload(t, s, g.ID, a.ID, "one.png", base)
	p2 := newUpload(t, s, g.ID, a.ID, "two.png", base)
	got, deleted, err := s.AttachmentByID(ctx, p1.ID)
	noErr(t, err)
	if deleted || got.MessageID != nil || got.Key != "k-one.png" || got.ThumbKey != "k-one.png.thumb" || *got.Width != 640 || got.Filename != "one.png" {
		t.Errorf("AttachmentByID = %+v", got)
	}
	_, _, err = s.AttachmentByID(ctx, p1.ID+1000)
	wantErr(t, err, chat.ErrNotFound)

	// A message with no body and two files.
	m, created, err := s.InsertMessage(ctx, chat.NewMessage{GroupID: g.ID, SenderID: a.ID, At: base, Attachments: []int64{p2.ID, p1.ID}, ClientID: ptr("f1")})
	noErr(t, err)
	if !created || !slices.Equal(attachmentIDs(m.Attachments), []int64{p1.ID, p2.ID}) || m.Attachments[0].Key != "k-one.png" {
		t.Fatalf("message = %+v", m)
	}
	again, created, err := s.InsertMessage(ctx, chat.NewMessage{GroupID: g.ID, SenderID: a.ID, At: base, Attachments: []int64{p2.ID, p1.ID}, ClientID: ptr("f1")})
	noErr(t, err)
	if created || again.ID != m.ID || len(again.Attachments) != 2 {
		t.Errorf("idempotent repeat = %+v", again)
	}
	page, _, err := s.Messages(ctx, g.ID, chat.HistoryQuery{Limit: 5})
	noErr(t, err)
	if len(page) != 1 || !slices.Equal(attachmentIDs(page[0].Attachments), []int64{p1.ID, p2.ID}) {
		t.Errorf("history = %+v", page)
	}

	// Refused, each alone and without a seq: an attachment in a message
	// already, another user's, another group's, a missing one, one named
	// twice in one batch.
	p3 := newUpload(t, s, g.ID, b.ID, "bobs.png", base)
	p4 := newUpload(t, s, g2.ID, a.ID, "elsewhere.png", base)
	p5 := newUpload(t, s, g.ID, a.ID, "five.png", base)
	for name, ids := range map[string][]int64{
		"reused": {p1.ID}, "another user's": {p3.ID}, "another group's": {p4.ID}, "missing": {p5.ID + 1000}, "mixed": {p5.ID, p1.ID},
	} {
		_, _, err := s.InsertMessage(ctx, chat.NewMessage{GroupID: g.ID, SenderID: a.ID, Body: name, At: base, Attachments: ids})
		wantErr(t, err, chat.ErrInvalid)
		if ce := (*chat.Error)(nil); !errors.As(err, &ce) || ce.Details["attachment_ids"] == "" {
			t.Errorf("%s: error %v does not name attachment_ids", name, err)
		}
	}
	w1 := s.QueueMessage(ctx, chat.NewMessage{GroupID: g.ID, SenderID: a.ID, Body: "first", At: base, Attachments: []int64{p5.ID}})
	w2 := s.QueueMessage(ctx, chat.NewMessage{GroupID: g.ID, SenderID: a.ID, Body: "second", At: base, Attachments: []int64{p5.ID}})
	first, _, err1 := w1()
	_, _, err2 := w2()
	noErr(t, err1)
	wantErr(t, err2, chat.ErrInvalid)
	if first.Seq != 2 || len(first.Attachments) != 1 {
		t.Errorf("first = %+v", first)
	}
	if next := send(t, s, g.ID, a.ID, "next", base); next.Seq != 3 {
		t.Errorf("seq after refused sends = %d, want 3", next.Seq)
	}

	// A deleted message shows no files; they become the sweeper's.
	_, err = s.DeleteMessage(ctx, m.ID, base)
	noErr(t, err)
	gone, err := s.MessageByID(ctx, m.ID)
	noErr(t, err)
	if len(gone.Attachments) != 0 {
		t.Errorf("deleted message's attachments = %+v", gone.Attachments)
	}
	if _, deleted, err := s.AttachmentByID(ctx, p1.ID); err != nil || !deleted {
		t.Errorf("AttachmentByID of a deleted message's file: deleted %v, %v", deleted, err)
	}
}

func testSweepAttachments(t *testing.T, s Store) {
	ctx := t.Context()
	now := time.Now().UTC()
	a := newUser(t, s, "sweeper", "")
	g := newGroup(t, s, a.ID, "sweep", chat.Public)
	doomedGroup := newGroup(t, s, a.ID, "doomed", chat.Public)
	old := newUpload(t, s, g.ID, a.ID, "old.png", now.Add(-25*time.Hour))
	recent := newUpload(t, s, g.ID, a.ID, "recent.png", now.Add(-time.Hour))
	sent := newUpload(t, s, g.ID, a.ID, "sent.png", now.Add(-48*time.Hour))
	ofDeleted := newUpload(t, s, g.ID, a.ID, "deleted.png", now.Add(-time.Hour))
	ofGone := newUpload(t, s, doomedGroup.ID, a.ID, "gone.png", now.Add(-time.Hour))
	_, _, err := s.InsertMessage(ctx, chat.NewMessage{GroupID: g.ID, SenderID: a.ID, Body: "kept", At: now, Attachments: []int64{sent.ID}})
	noErr(t, err)
	m, _, err := s.InsertMessage(ctx, chat.NewMessage{GroupID: g.ID, SenderID: a.ID, Body: "to delete", At: now, Attachments: []int64{ofDeleted.ID}})
	noErr(t, err)
	_, err = s.DeleteMessage(ctx, m.ID, now)
	noErr(t, err)
	noErr(t, s.DeleteGroup(ctx, doomedGroup.ID))

	cutoff := now.Add(-24 * time.Hour)
	claimed, err := s.ClaimSweepable(ctx, now, cutoff, time.Minute, 100)
	noErr(t, err)
	ids := attachmentIDs(claimed)
	slices.Sort(ids)
	if want := []int64{old.ID, ofDeleted.ID, ofGone.ID}; !slices.Equal(ids, want) {
		t.Fatalf("claimed %v, want %v (not %d recent, %d sent)", ids, want, recent.ID, sent.ID)
	}
	if claimed[0].Key == "" {
		t.Errorf("claimed rows carry no keys: %+v", claimed[0])
	}
	// Claimed: nobody else gets them, nor can a send take the old upload,
	// until the lease ends.
	again, err := s.ClaimSweepable(ctx, now, cutoff, time.Minute, 100)
	noErr(t, err)
	if len(again) != 0 {
		t.Errorf("claimed twice: %v", attachmentIDs(again))
	}
	_, _, err = s.InsertMessage(ctx, chat.NewMessage{GroupID: g.ID, SenderID: a.ID, Body: "late", At: now, Attachments: []int64{old.ID}})
	wantErr(t, err, chat.ErrInvalid)
	later, err := s.ClaimSweepable(ctx, now.Add(2*time.Minute), cutoff, time.Minute, 1)
	noErr(t, err)
	if len(later) != 1 {
		t.Errorf("after the lease, claimed %v, want one (the limit)", attachmentIDs(later))
	}
	noErr(t, s.DeleteAttachments(ctx, ids))
	for _, id := range ids {
		_, _, err := s.AttachmentByID(ctx, id)
		wantErr(t, err, chat.ErrNotFound)
	}
	for _, id := range []int64{recent.ID, sent.ID} {
		_, _, err := s.AttachmentByID(ctx, id)
		noErr(t, err)
	}
	none, err := s.ClaimSweepable(ctx, now.Add(time.Hour), cutoff, time.Minute, 100)
	noErr(t, err)
	if len(none) != 0 {
		t.Errorf("left to claim: %v", attachmentIDs(none))
	}
}

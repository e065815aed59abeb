package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chatapp/chat/chat"
)

func testInsertMessage(t *testing.T, s Store) {
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

	_, _, err = s.InsertMessage(ctx, chat.NewMessage{GroupID: g.ID + 1000, SenderID: a.ID, Body: "x", At: base})
	wantErr(t, err, chat.ErrNotFound)
	_, _, err = s.InsertMessage(ctx, chat.NewMessage{GroupID: g.ID, SenderID: a.ID + 1000, Body: "x", At: base})
	wantErr(t, err, chat.ErrNotFound)
	gg, err = s.GroupByID(ctx, g.ID, a.ID)
	noErr(t, err)
	if gg.LastSeq != 3 {
		t.Errorf("a failed insert moved last_seq to %d", gg.LastSeq)
	}
}

func testIdempotentSend(t *testing.T, s Store) {
	ctx := t.Context()
	base := baseTime()
	a := newUser(t, s, "ida", "")
	b := newUser(t, s, "ivo", "")
	g := newGroup(t, s, a.ID, "idem", chat.Public)
	g2 := newGroup(t, s, a.ID, "idem2", chat.Public)
	_, err := s.AddMember(ctx, g.ID, b.ID, chat.RoleMember)
	noErr(t, err)

	first, created, err := s.InsertMessage(ctx, chat.NewMessage{GroupID: g.ID, SenderID: a.ID, Body: "once", ClientID: ptr("c1"), At: base})
	noErr(t, err)
	if !created || first.ClientID == nil || *first.ClientID != "c1" {
		t.Fatalf("first send = %+v created=%v", first, created)
	}
	tests := []struct {
		name    string
		m       chat.NewMessage
		created bool
		seq     int64
	}{
		{"repeat", chat.NewMessage{GroupID: g.ID, SenderID: a.ID, Body: "changed", ClientID: ptr("c1"), At: base.Add(time.Hour)}, false, 1},
		{"other sender", chat.NewMessage{GroupID: g.ID, SenderID: b.ID, Body: "b", ClientID: ptr("c1"), At: base}, true, 2},
		{"other group", chat.NewMessage{GroupID: g2.ID, SenderID: a.ID, Body: "g2", ClientID: ptr("c1"), At: base}, true, 1},
		{"other client id", chat.NewMessage{GroupID: g.ID, SenderID: a.ID, Body: "c2", ClientID: ptr("c2"), At: base}, true, 3},
		{"no client id", chat.NewMessage{GroupID: g.ID, SenderID: a.ID, Body: "n1", At: base}, true, 4},
		{"no client id again", chat.NewMessage{GroupID: g.ID, SenderID: a.ID, Body: "n1", At: base}, true, 5},
		{"empty client id", chat.NewMessage{GroupID: g.ID, SenderID: a.ID, Body: "e1", ClientID: ptr(""), At: base}, true, 6},
		{"empty client id again", chat.NewMessage{GroupID: g.ID, SenderID: a.ID, Body: "e2", ClientID: ptr(""), At: base}, true, 7},
		{"repeat later", chat.NewMessage{GroupID: g.ID, SenderID: a.ID, Body: "again", ClientID: ptr("c1"), At: base}, false, 1},
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
	m, created, err := s.InsertMessage(ctx, chat.NewMessage{GroupID: g.ID, SenderID: a.ID, Body: "x", ClientID: ptr("c1"), At: base})
	noErr(t, err)
	if created || m.ID != first.ID || !m.Deleted {
		t.Errorf("retry of a deleted message = %+v created=%v", m, created)
	}
}

// testIdempotentSendNeedsMembership: a repeated client_id answers the
// stored message only to a sender who is still a member; one who was
// removed (or left) gets ErrNoMembership, alone or in a batch with others.
func testIdempotentSendNeedsMembership(t *testing.T, s Store) {
	ctx := t.Context()
	base := baseTime()
	owner := newUser(t, s, "keeper", "")
	gone := newUser(t, s, "goner", "")
	g := newGroup(t, s, owner.ID, "private", chat.Private)
	_, err := s.AddMember(ctx, g.ID, gone.ID, chat.RoleMember)
	noErr(t, err)
	old := chat.NewMessage{GroupID: g.ID, SenderID: gone.ID, Body: "secret plans", ClientID: ptr("k1"), At: base}
	_, created, err := s.InsertMessage(ctx, old)
	noErr(t, err)
	if !created {
		t.Fatal("first send not created")
	}
	noErr(t, s.RemoveMember(ctx, g.ID, gone.ID))

	m, _, err := s.InsertMessage(ctx, old)
	wantErr(t, err, chat.ErrNoMembership)
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
				m = chat.NewMessage{GroupID: g.ID, SenderID: owner.ID, Body: "hi", ClientID: ptr(fmt.Sprint("o", i)), At: base}
			}
			_, _, errs[i] = s.InsertMessage(ctx, m)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if i%2 == 1 {
			noErr(t, err)
		} else {
			wantErr(t, err, chat.ErrNoMembership)
		}
	}
}

func testHistory(t *testing.T, s Store) {
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
		q       chat.HistoryQuery
		want    []int64
		hasMore bool
	}{
		{"default is latest", g.ID, chat.HistoryQuery{}, span(1, 10), false},
		{"latest page", g.ID, chat.HistoryQuery{Limit: 3}, span(8, 10), true},
		{"latest exact", g.ID, chat.HistoryQuery{Limit: 10}, span(1, 10), false},
		{"before", g.ID, chat.HistoryQuery{BeforeSeq: 8, Limit: 3}, span(5, 7), true},
		{"before start", g.ID, chat.HistoryQuery{BeforeSeq: 4, Limit: 3}, span(1, 3), false},
		{"before 1", g.ID, chat.HistoryQuery{BeforeSeq: 1, Limit: 3}, nil, false},
		{"after", g.ID, chat.HistoryQuery{After: new(int64(2)), Limit: 3}, span(3, 5), true},
		{"after to end", g.ID, chat.HistoryQuery{After: new(int64(7)), Limit: 3}, span(8, 10), false},
		{"after end", g.ID, chat.HistoryQuery{After: new(int64(10)), Limit: 3}, nil, false},
		{"after wins over before", g.ID, chat.HistoryQuery{After: new(int64(8)), BeforeSeq: 3, Limit: 5}, span(9, 10), false},
		{"after 0 is the start", g.ID, chat.HistoryQuery{After: new(int64(0)), Limit: 2}, span(1, 2), true},
		{"after 0, all", g.ID, chat.HistoryQuery{After: new(int64(0)), Limit: 10}, span(1, 10), false},
		{"after 0, empty group", empty.ID, chat.HistoryQuery{After: new(int64(0)), Limit: 2}, nil, false},
		{"member, after 0", g.ID, chat.HistoryQuery{After: new(int64(0)), Limit: 3, Member: a.ID}, span(1, 3), true},
		{"empty group", empty.ID, chat.HistoryQuery{}, nil, false},
		{"unknown group", g.ID + 1000, chat.HistoryQuery{}, nil, false},
		{"member", g.ID, chat.HistoryQuery{Limit: 3, Member: a.ID}, span(8, 10), true},
		{"member, after", g.ID, chat.HistoryQuery{After: new(int64(7)), Limit: 3, Member: a.ID}, span(8, 10), false},
		{"member, before", g.ID, chat.HistoryQuery{BeforeSeq: 8, Limit: 3, Member: a.ID}, span(5, 7), true},
		{"member, empty page", g.ID, chat.HistoryQuery{After: new(int64(10)), Member: a.ID}, nil, false},
		{"member, empty group", empty.ID, chat.HistoryQuery{Member: a.ID}, nil, false},
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
		q    chat.HistoryQuery
	}{
		{"outsider", g.ID, chat.HistoryQuery{Member: outsider.ID}},
		{"outsider, after", g.ID, chat.HistoryQuery{After: new(int64(2)), Member: outsider.ID}},
		{"outsider, empty group", empty.ID, chat.HistoryQuery{Member: outsider.ID}},
		{"unknown group", g.ID + 1000, chat.HistoryQuery{Member: a.ID}},
		{"unknown user", g.ID, chat.HistoryQuery{Member: outsider.ID + 1000}},
	} {
		items, _, err := s.Messages(ctx, tc.gid, tc.q)
		if !errors.Is(err, chat.ErrNoMembership) || !errors.Is(err, chat.ErrNotFound) || len(items) != 0 {
			t.Errorf("%s: Messages = %d items, %v; want chat.ErrNoMembership", tc.name, len(items), err)
		}
	}
}

func testEditDeleteMessage(t *testing.T, s Store) {
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

	items, _, err := s.Messages(ctx, g.ID, chat.HistoryQuery{})
	noErr(t, err)
	if !slices.Equal(seqs(items), []int64{1, 2, 3}) || !items[1].Deleted || items[1].Body != "" || items[0].Body != "first!" {
		t.Errorf("history after edit and delete = %+v", items)
	}
	// The next message still takes the next seq.
	if m := send(t, s, g.ID, a.ID, "fourth", base); m.Seq != 4 {
		t.Errorf("seq after delete = %d, want 4", m.Seq)
	}
}

func testMarkRead(t *testing.T, s Store) {
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

func testMyGroups(t *testing.T, s Store) {
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

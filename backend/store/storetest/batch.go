package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/chatapp/chat/chat"
)

// The cases below check group commit: concurrent sends committed together
// in one transaction. To make a batch deterministic, holdCommits stalls the
// batcher on a transaction of the test's own; sends made meanwhile queue in
// a known order and become the next batch when it is released.

type sendResult struct {
	msg     chat.Message
	created bool
	err     error
}

// goSend starts InsertMessage in a goroutine and returns its answer.
func goSend(ctx context.Context, s Store, m chat.NewMessage) <-chan sendResult {
	out := make(chan sendResult, 1)
	go func() {
		msg, created, err := s.InsertMessage(ctx, m)
		out <- sendResult{msg, created, err}
	}()
	return out
}

// waitQueue waits until the store reports the given numbers of sends
// waiting for a batch and being committed.
func waitQueue(t *testing.T, s Store, waiting, committing int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		w, c := s.InsertQueue()
		if w == waiting && c == committing {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("insert queue = %d waiting, %d committing; want %d, %d", w, c, waiting, committing)
		}
		time.Sleep(time.Millisecond)
	}
}

// holdCommits stalls group commit: a transaction of its own writes group
// gid's row (on Postgres it holds the row lock; on SQLite the only write
// connection), and a "plug" send into gid is taken by the batcher and waits
// for it. release ends the transaction and returns the plug's answer.
func holdCommits(ctx context.Context, t *testing.T, s Store, gid, uid int64) (release func() sendResult) {
	t.Helper()
	tx, err := s.DB().BeginTx(t.Context(), nil)
	noErr(t, err)
	t.Cleanup(func() { _ = tx.Rollback() })
	_, err = tx.ExecContext(t.Context(), fmt.Sprintf("UPDATE groups SET last_seq = last_seq WHERE id = %d", gid))
	noErr(t, err)
	plug := goSend(ctx, s, chat.NewMessage{GroupID: gid, SenderID: uid, Body: "plug", At: baseTime()})
	waitQueue(t, s, 0, 1)
	return func() sendResult {
		t.Helper()
		noErr(t, tx.Commit())
		return <-plug
	}
}

// wantGapless checks that group gid holds exactly the seqs 1..n and that its
// last_seq is n (read as member uid): nothing lost, nothing stored twice,
// no seq taken by a failed request.
func wantGapless(t *testing.T, s Store, gid, uid, n int64) {
	t.Helper()
	items, _, err := s.Messages(t.Context(), gid, chat.HistoryQuery{Limit: 1000})
	noErr(t, err)
	if !slices.Equal(seqs(items), span(1, n)) {
		t.Errorf("group %d history = %v, want 1..%d", gid, seqs(items), n)
	}
	g, err := s.GroupByID(t.Context(), gid, uid)
	noErr(t, err)
	if g.LastSeq != n {
		t.Errorf("group %d last_seq = %d, want %d", gid, g.LastSeq, n)
	}
}

// queueSends enqueues the sends one after the other (so the batch holds
// them in this order) and returns their answers.
func queueSends(ctx context.Context, t *testing.T, s Store, ms []chat.NewMessage) []<-chan sendResult {
	t.Helper()
	out := make([]<-chan sendResult, len(ms))
	for i, m := range ms {
		out[i] = goSend(ctx, s, m)
		waitQueue(t, s, i+1, 1)
	}
	return out
}

func testBatchDuplicateClientID(t *testing.T, s Store) {
	ctx := t.Context()
	base := baseTime()
	a := newUser(t, s, "dupa", "")
	b := newUser(t, s, "dupb", "")
	g := newGroup(t, s, a.ID, "dups", chat.Public)
	_, err := s.AddMember(ctx, g.ID, b.ID, chat.RoleMember)
	noErr(t, err)
	old, _, err := s.InsertMessage(ctx, chat.NewMessage{GroupID: g.ID, SenderID: a.ID, Body: "old", ClientID: ptr("old"), At: base})
	noErr(t, err)

	release := holdCommits(ctx, t, s, g.ID, a.ID) // the plug takes seq 2
	answers := queueSends(ctx, t, s, []chat.NewMessage{
		{GroupID: g.ID, SenderID: a.ID, Body: "first", ClientID: ptr("c1"), At: base},
		{GroupID: g.ID, SenderID: a.ID, Body: "repeat", ClientID: ptr("c1"), At: base},
		{GroupID: g.ID, SenderID: a.ID, Body: "stored before", ClientID: ptr("old"), At: base},
		{GroupID: g.ID, SenderID: b.ID, Body: "other sender", ClientID: ptr("c1"), At: base},
		{GroupID: g.ID, SenderID: a.ID, Body: "repeat again", ClientID: ptr("c1"), At: base},
	})
	if p := release(); p.err != nil || p.msg.Seq != 2 {
		t.Fatalf("plug = seq %d, %v", p.msg.Seq, p.err)
	}
	got := make([]sendResult, len(answers))
	for i, ch := range answers {
		got[i] = <-ch
		noErr(t, got[i].err)
	}
	tests := []struct {
		name    string
		got     sendResult
		created bool
		seq     int64
		body    string
	}{
		{"first", got[0], true, 3, "first"},
		{"repeat in batch", got[1], false, 3, "first"},
		{"repeat of a stored one", got[2], false, 1, "old"},
		{"other sender", got[3], true, 4, "other sender"},
		{"second repeat in batch", got[4], false, 3, "first"},
	}
	for _, tc := range tests {
		if tc.got.created != tc.created || tc.got.msg.Seq != tc.seq || tc.got.msg.Body != tc.body {
			t.Errorf("%s: seq %d created %v body %q, want seq %d created %v body %q",
				tc.name, tc.got.msg.Seq, tc.got.created, tc.got.msg.Body, tc.seq, tc.created, tc.body)
		}
	}
	if got[1].msg.ID != got[0].msg.ID || got[4].msg.ID != got[0].msg.ID || got[2].msg.ID != old.ID {
		t.Errorf("repeats answered with ids %d %d %d, want %d %d %d", got[1].msg.ID, got[4].msg.ID, got[2].msg.ID, got[0].msg.ID, got[0].msg.ID, old.ID)
	}
	wantGapless(t, s, g.ID, a.ID, 4) // repeats store nothing
}

func testBatchMixedGroups(t *testing.T, s Store) {
	ctx := t.Context()
	a := newUser(t, s, "mixa", "Mix A")
	b := newUser(t, s, "mixb", "")
	plugGroup := newGroup(t, s, a.ID, "plug", chat.Public)
	g1 := newGroup(t, s, a.ID, "one", chat.Public)
	g2 := newGroup(t, s, a.ID, "two", chat.Public)
	g3 := newGroup(t, s, a.ID, "three", chat.Public)
	for _, g := range []chat.Group{g1, g2, g3} {
		_, err := s.AddMember(ctx, g.ID, b.ID, chat.RoleMember)
		noErr(t, err)
	}
	later := time.Now().Add(time.Hour)
	send(t, s, g1.ID, b.ID, "before 1", later)
	send(t, s, g1.ID, b.ID, "before 2", later)

	release := holdCommits(ctx, t, s, plugGroup.ID, a.ID)
	type req struct {
		g    chat.Group
		u    chat.User
		body string
		seq  int64
	}
	reqs := []req{
		{g1, a, "g1 a", 3}, {g2, b, "g2 b", 1}, {g1, b, "g1 b", 4}, {g2, a, "g2 a", 2}, {g3, a, "g3 a", 1}, {g1, a, "g1 a again", 5},
	}
	ms := make([]chat.NewMessage, len(reqs))
	for i, r := range reqs {
		ms[i] = chat.NewMessage{GroupID: r.g.ID, SenderID: r.u.ID, Body: r.body, At: later.Add(time.Duration(i+1) * time.Second)}
	}
	answers := queueSends(ctx, t, s, ms)
	if p := release(); p.err != nil || p.msg.Seq != 1 {
		t.Fatalf("plug = seq %d, %v", p.msg.Seq, p.err)
	}
	for i, ch := range answers {
		r, want := <-ch, reqs[i]
		noErr(t, r.err)
		m := r.msg
		if !r.created || m.GroupID != want.g.ID || m.Seq != want.seq || m.Body != want.body ||
			m.Sender.ID != want.u.ID || m.Sender.Username != want.u.Username || m.Sender.DisplayName != want.u.DisplayName {
			t.Errorf("send %d = %+v created %v, want %q in group %d seq %d by %s", i, m, r.created, want.body, want.g.ID, want.seq, want.u.Username)
		}
		wantUTCMicros(t, "CreatedAt", m.CreatedAt)
		if !m.CreatedAt.Equal(ms[i].At.Truncate(time.Microsecond)) {
			t.Errorf("send %d CreatedAt = %v, want %v", i, m.CreatedAt, ms[i].At)
		}
		stored, err := s.MessageByID(ctx, m.ID)
		noErr(t, err)
		if stored.Seq != m.Seq || stored.Body != m.Body || stored.GroupID != m.GroupID {
			t.Errorf("stored message %d = %+v, want %+v", m.ID, stored, m)
		}
	}
	for _, tc := range []struct {
		g       chat.Group
		lastSeq int64
		marks   map[int64]int64 // user → last_read_seq
	}{
		{g1, 5, map[int64]int64{a.ID: 5, b.ID: 4}},
		{g2, 2, map[int64]int64{a.ID: 2, b.ID: 1}},
		{g3, 1, map[int64]int64{a.ID: 1, b.ID: 0}},
	} {
		wantGapless(t, s, tc.g.ID, a.ID, tc.lastSeq)
		for uid, want := range tc.marks {
			m, err := s.Membership(ctx, tc.g.ID, uid)
			noErr(t, err)
			if m.LastReadSeq != want {
				t.Errorf("group %s user %d read marker = %d, want %d", *tc.g.Name, uid, m.LastReadSeq, want)
			}
		}
	}
	// Each group's activity time is its last message's: g1's came last.
	mine, err := s.MyGroups(ctx, b.ID)
	noErr(t, err)
	var order []string
	for _, g := range mine {
		order = append(order, *g.Name)
	}
	if want := []string{"one", "three", "two"}; !slices.Equal(order, want) {
		t.Errorf("MyGroups order = %v, want %v", order, want)
	}
}

// testBatchFailingRequest puts one request that must fail into a batch of
// good ones: only it fails, and the others keep gapless seqs.
func testBatchFailingRequest(t *testing.T, s Store) {
	ctx := t.Context()
	base := baseTime()
	a := newUser(t, s, "faila", "")
	plugGroup := newGroup(t, s, a.ID, "plug", chat.Public)
	tests := []struct {
		name string
		bad  func(good chat.Group) chat.NewMessage
	}{
		{"deleted group", func(chat.Group) chat.NewMessage {
			dead := newGroup(t, s, a.ID, "dead", chat.Public)
			noErr(t, s.DeleteGroup(ctx, dead.ID))
			return chat.NewMessage{GroupID: dead.ID, SenderID: a.ID, Body: "into the void", ClientID: ptr("void"), At: base}
		}},
		{"unknown group", func(good chat.Group) chat.NewMessage {
			return chat.NewMessage{GroupID: good.ID + 1000, SenderID: a.ID, Body: "nowhere", At: base}
		}},
		// A sender that does not exist breaks the batch's one INSERT (a
		// foreign key): the batch is retried one request at a time.
		{"unknown sender", func(good chat.Group) chat.NewMessage {
			return chat.NewMessage{GroupID: good.ID, SenderID: a.ID + 1000, Body: "ghost", At: base}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			good := newGroup(t, s, a.ID, "good "+tc.name, chat.Public)
			bad := tc.bad(good)
			release := holdCommits(ctx, t, s, plugGroup.ID, a.ID)
			answers := queueSends(ctx, t, s, []chat.NewMessage{
				{GroupID: good.ID, SenderID: a.ID, Body: "g1", At: base},
				bad,
				{GroupID: good.ID, SenderID: a.ID, Body: "g2", ClientID: ptr("k"), At: base},
				{GroupID: good.ID, SenderID: a.ID, Body: "g2 repeat", ClientID: ptr("k"), At: base},
				{GroupID: good.ID, SenderID: a.ID, Body: "g3", At: base},
			})
			noErr(t, release().err)
			got := make([]sendResult, len(answers))
			for i, ch := range answers {
				got[i] = <-ch
			}
			wantErr(t, got[1].err, chat.ErrNotFound)
			for i, want := range map[int]struct {
				seq     int64
				created bool
			}{0: {1, true}, 2: {2, true}, 3: {2, false}, 4: {3, true}} {
				if got[i].err != nil || got[i].msg.Seq != want.seq || got[i].created != want.created {
					t.Errorf("send %d = seq %d created %v err %v, want seq %d created %v", i, got[i].msg.Seq, got[i].created, got[i].err, want.seq, want.created)
				}
			}
			wantGapless(t, s, good.ID, a.ID, 3)
		})
	}
}

// testSendCanceled: a send whose context ends before a batch takes it
// returns the context's error and takes no seq; one already taken is
// decided by its commit.
func testSendCanceled(t *testing.T, s Store) {
	ctx := t.Context()
	base := baseTime()
	a := newUser(t, s, "cancel", "")
	g := newGroup(t, s, a.ID, "cancels", chat.Public)

	done, cancelDone := context.WithCancel(ctx)
	cancelDone()
	_, _, err := s.InsertMessage(done, chat.NewMessage{GroupID: g.ID, SenderID: a.ID, Body: "never", At: base})
	wantErr(t, err, context.Canceled)

	plugCtx, cancelPlug := context.WithCancel(ctx)
	release := holdCommits(plugCtx, t, s, g.ID, a.ID)
	waitCtx, cancelWait := context.WithCancel(ctx)
	answers := []<-chan sendResult{goSend(waitCtx, s, chat.NewMessage{GroupID: g.ID, SenderID: a.ID, Body: "gives up", At: base})}
	waitQueue(t, s, 1, 1)
	answers = append(answers, goSend(ctx, s, chat.NewMessage{GroupID: g.ID, SenderID: a.ID, Body: "stays", At: base}))
	waitQueue(t, s, 2, 1)
	cancelWait()
	cancelPlug()
	// The canceled send answers while the batch before it is still stalled.
	wantErr(t, (<-answers[0]).err, context.Canceled)
	waitQueue(t, s, 1, 1)

	if p := release(); p.err != nil || !p.created || p.msg.Seq != 1 {
		t.Errorf("plug (taken, then canceled) = seq %d created %v, %v; want it committed", p.msg.Seq, p.created, p.err)
	}
	if r := <-answers[1]; r.err != nil || r.msg.Seq != 2 {
		t.Errorf("send after the canceled one = seq %d, %v; want seq 2", r.msg.Seq, r.err)
	}
	wantGapless(t, s, g.ID, a.ID, 2) // a canceled send takes no seq
}

// testCloseWhileWaiting: Close answers waiting sends with ErrUnavailable at
// once and lets the batch being committed finish.
func testCloseWhileWaiting(t *testing.T, s Store) {
	ctx := t.Context()
	base := baseTime()
	a := newUser(t, s, "closer", "")
	g := newGroup(t, s, a.ID, "closing", chat.Public)

	release := holdCommits(ctx, t, s, g.ID, a.ID)
	answers := queueSends(ctx, t, s, []chat.NewMessage{
		{GroupID: g.ID, SenderID: a.ID, Body: "w1", At: base},
		{GroupID: g.ID, SenderID: a.ID, Body: "w2", At: base},
	})
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	for i, ch := range answers {
		if r := <-ch; !errors.Is(r.err, chat.ErrUnavailable) {
			t.Errorf("waiting send %d during Close = %+v, want ErrUnavailable", i, r)
		}
	}
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) before the batch being committed finished", err)
	default:
	}
	if p := release(); p.err != nil || !p.created {
		t.Errorf("batch being committed at Close = %+v, want it committed", p)
	}
	select {
	case err := <-closed:
		noErr(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Close hangs")
	}
	_, _, err := s.InsertMessage(ctx, chat.NewMessage{GroupID: g.ID, SenderID: a.ID, Body: "late", At: base})
	wantErr(t, err, chat.ErrUnavailable)
}

// testBatchNonMember: in one batch, a sender who is not a member, a group
// that does not exist and a repeat of a stored message by a member who has
// since left each fail alone; the members' sends around them take
// consecutive seqs (none is used by a failed request).
func testBatchNonMember(t *testing.T, s Store) {
	ctx := t.Context()
	base := baseTime()
	a := newUser(t, s, "nma", "")
	outsider := newUser(t, s, "nmb", "")
	leaver := newUser(t, s, "nmc", "")
	g := newGroup(t, s, a.ID, "members only", chat.Public)
	_, err := s.AddMember(ctx, g.ID, leaver.ID, chat.RoleMember)
	noErr(t, err)
	orig, _, err := s.InsertMessage(ctx, chat.NewMessage{GroupID: g.ID, SenderID: leaver.ID, Body: "before leaving", ClientID: ptr("l1"), At: base})
	noErr(t, err)
	noErr(t, s.RemoveMember(ctx, g.ID, leaver.ID))

	release := holdCommits(ctx, t, s, g.ID, a.ID) // the plug takes seq 2
	answers := queueSends(ctx, t, s, []chat.NewMessage{
		{GroupID: g.ID, SenderID: a.ID, Body: "one", At: base},
		{GroupID: g.ID, SenderID: outsider.ID, Body: "not a member", ClientID: ptr("o1"), At: base},
		{GroupID: g.ID + 1000, SenderID: a.ID, Body: "no such group", At: base},
		{GroupID: g.ID, SenderID: leaver.ID, Body: "left since", At: base},
		{GroupID: g.ID, SenderID: leaver.ID, Body: "retry", ClientID: ptr("l1"), At: base},
		{GroupID: g.ID, SenderID: outsider.ID, Body: "repeat", ClientID: ptr("o1"), At: base},
		{GroupID: g.ID, SenderID: a.ID, Body: "two", At: base},
	})
	if p := release(); p.err != nil || p.msg.Seq != 2 {
		t.Fatalf("plug = seq %d, %v", p.msg.Seq, p.err)
	}
	got := make([]sendResult, len(answers))
	for i, ch := range answers {
		got[i] = <-ch
	}
	// 4 repeats a message stored while its sender was a member: a removed
	// sender gets no stored message back.
	for _, i := range []int{1, 2, 3, 4, 5} {
		if !errors.Is(got[i].err, chat.ErrNoMembership) || !errors.Is(got[i].err, chat.ErrNotFound) {
			t.Errorf("send %d: err = %v, want chat.ErrNoMembership (a chat.ErrNotFound)", i, got[i].err)
		}
	}
	noErr(t, got[0].err)
	noErr(t, got[6].err)
	if got[0].msg.Seq != 3 || got[6].msg.Seq != 4 || !got[0].created || !got[6].created {
		t.Errorf("members' sends = seq %d, %d (created %v %v), want 3, 4", got[0].msg.Seq, got[6].msg.Seq, got[0].created, got[6].created)
	}
	if got[4].msg.ID == orig.ID || got[4].msg.Body != "" {
		t.Errorf("removed sender's repeat answered the original: %+v", got[4].msg)
	}
	// Alone (no batch to share), the same checks hold.
	_, _, err = s.InsertMessage(ctx, chat.NewMessage{GroupID: g.ID, SenderID: outsider.ID, Body: "alone", At: base})
	if !errors.Is(err, chat.ErrNoMembership) {
		t.Errorf("lone non-member send: err = %v, want chat.ErrNoMembership", err)
	}
	wantGapless(t, s, g.ID, a.ID, 4)
}

// testBatchClientIDRace: another instance stores a client_id while a batch
// holding the same one waits for the group's lock (Postgres) or the write
// connection (SQLite). The send answers with the other instance's message,
// stores nothing and leaves no gap in the seqs.
func testBatchClientIDRace(t *testing.T, s Store) {
	ctx := t.Context()
	base := baseTime()
	a := newUser(t, s, "racer", "")
	g := newGroup(t, s, a.ID, "race", chat.Public)

	other, err := s.DB().BeginTx(ctx, nil)
	noErr(t, err)
	t.Cleanup(func() { _ = other.Rollback() })
	_, err = other.ExecContext(ctx, fmt.Sprintf("UPDATE groups SET last_seq = last_seq + 1 WHERE id = %d", g.ID))
	noErr(t, err)
	_, err = other.ExecContext(ctx, `INSERT INTO messages (group_id, seq, sender_id, body, client_id, created_at) VALUES ($1, 1, $2, 'from the other instance', 'k1', $3)`,
		g.ID, a.ID, base)
	noErr(t, err)

	answer := goSend(ctx, s, chat.NewMessage{GroupID: g.ID, SenderID: a.ID, Body: "retry", ClientID: ptr("k1"), At: base})
	waitQueue(t, s, 0, 1) // taken by a batch, which now waits for the other instance
	if s.Dialect() == "postgres" {
		// It has read the originals (without the other instance's row)
		// and waits for the group's lock.
		deadline := time.Now().Add(10 * time.Second)
		for {
			var waiting int
			noErr(t, s.DB().QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting))
			if waiting > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the batch never waited for the group's lock")
			}
			time.Sleep(time.Millisecond)
		}
	}
	noErr(t, other.Commit())
	r := <-answer
	noErr(t, r.err)
	if r.created || r.msg.Seq != 1 || r.msg.Body != "from the other instance" {
		t.Errorf("send = seq %d created %v body %q, want the other instance's message", r.msg.Seq, r.created, r.msg.Body)
	}
	next := send(t, s, g.ID, a.ID, "next", base)
	if next.Seq != 2 {
		t.Errorf("next seq = %d, want 2 (no gap)", next.Seq)
	}
	wantGapless(t, s, g.ID, a.ID, 2)
}

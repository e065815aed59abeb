package realtime

import (
	"context"
	"sync"
	"testing"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/chat"
	"github.com/chatapp/chat/store/storetest"
)

// pausingStore holds one history read, chosen by a predicate, after the
// database has answered and before the answer reaches the hub, so that a
// test can make something happen in between.
type pausingStore struct {
	app.Store
	mu     sync.Mutex
	match  func(gid int64, q chat.HistoryQuery) bool // fires once, then disarms
	read   chan []chat.Message                       // the paused read's answer
	resume chan struct{}                             // lets the paused read return
}

func newPausingStore(inner app.Store) *pausingStore {
	return &pausingStore{Store: inner, read: make(chan []chat.Message), resume: make(chan struct{})}
}

func (s *pausingStore) arm(match func(gid int64, q chat.HistoryQuery) bool) {
	s.mu.Lock()
	s.match = match
	s.mu.Unlock()
}

func (s *pausingStore) Messages(ctx context.Context, gid int64, q chat.HistoryQuery) ([]chat.Message, bool, error) {
	items, more, err := s.Store.Messages(ctx, gid, q)
	s.mu.Lock()
	fire := s.match != nil && err == nil && s.match(gid, q)
	if fire {
		s.match = nil
	}
	s.mu.Unlock()
	if fire {
		s.read <- items
		<-s.resume
	}
	return items, more, err
}

// groupSettled tells the last seq the hub delivered for a group once the
// hub knows it and has no database read queued for the group.
func (h *Hub) groupSettled(gid int64) (int64, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.groups[gid]
	if st == nil || st.delivered < 0 || st.queued {
		return 0, false
	}
	return st.delivered, true
}

// A resume whose page read finds nothing new while a newer message is
// delivered live (which skips the resuming connection: it is replaying)
// must still send that message. The interleaving is driven, not timed: the
// replay's read is held after the database answered "nothing above 3",
// message 4 is stored and delivered to another connection, then the read
// returns its empty page.
func TestResumeSendsAMessageDeliveredLiveDuringAnEmptyPageRead(t *testing.T) {
	for _, how := range []string{"auth frame", "resume frame"} {
		t.Run(how, func(t *testing.T) {
			st := newPausingStore(storetest.SQLite(t))
			f := newFixtureOn(t, instanceConfig{store: st})
			ctx := t.Context()
			for range 3 {
				if _, _, err := f.inst.svc.Send(ctx, f.alice.ID, f.gid, app.Outgoing{Body: "before"}); err != nil {
					t.Fatal(err)
				}
			}
			// Alice's connection makes the group live on this instance.
			a := connect(t, f.inst, f.alice)
			eventually(t, "the hub knows the group up to seq 3", func() bool {
				d, ok := f.inst.hub.groupSettled(f.gid)
				return ok && d == 3
			})
			st.arm(func(gid int64, q chat.HistoryQuery) bool {
				return gid == f.gid && q.After != nil && *q.After == 3
			})
			cursors := map[string]int64{itoa(f.gid): 3}
			var b *client
			if how == "auth frame" {
				var err error
				b, _, err = dial(t, f.inst.url, dialOpt{authMsg: map[string]any{"type": "auth", "token": f.bob.token, "cursors": cursors}})
				if err != nil {
					t.Fatal(err)
				}
				b.name = "bob"
				if r := b.next(t); r.Type != "ready" {
					t.Fatalf("got %s, want ready", r.raw)
				}
			} else {
				b = connect(t, f.inst, f.bob)
				b.send(map[string]any{"type": "resume", "cursors": cursors, "ref": "r"})
			}
			if items := <-st.read; len(items) != 0 {
				t.Fatalf("the replay's read found %d messages, want none", len(items))
			}
			// Message 4 is stored and delivered live while the read is held.
			if _, _, err := f.inst.svc.Send(ctx, f.alice.ID, f.gid, app.Outgoing{Body: "during"}); err != nil {
				t.Fatal(err)
			}
			if m := a.until(t, "message"); m.Message.Seq != 4 {
				t.Fatalf("alice got %s, want seq 4", m.raw)
			}
			close(st.resume)

			var got []int64
			for fr := b.next(t); fr.Type != "resumed"; fr = b.next(t) {
				if fr.Type == "message" {
					got = append(got, fr.Message.Seq)
				}
			}
			for _, fr := range ofType(b.sync(t), "message") {
				got = append(got, fr.Message.Seq)
			}
			if len(got) != 1 || got[0] != 4 {
				t.Fatalf("bob got seqs %v, want [4]", got)
			}
		})
	}
}

// gatedStore holds the storing of messages whose body is gated until the
// test opens the gate.
type gatedStore struct {
	app.Store
	body string
	gate chan struct{}
}

func (s *gatedStore) QueueMessage(ctx context.Context, m chat.NewMessage) func() (chat.Message, bool, error) {
	wait := s.Store.QueueMessage(ctx, m)
	if m.Body != s.body {
		return wait
	}
	return func() (chat.Message, bool, error) {
		<-s.gate
		return wait()
	}
}

// A connection's sends do not wait for each other: while the first is still
// being stored, the second is stored and acknowledged; each is answered by
// its ref, the seqs follow the order the frames were sent in, and each ack
// comes before its message's event.
func TestSendsOfOneConnectionAreInFlightTogether(t *testing.T) {
	st := &gatedStore{Store: storetest.SQLite(t), body: "first", gate: make(chan struct{})}
	f := newFixtureOn(t, instanceConfig{store: st})
	a := connect(t, f.inst, f.alice)
	a.send(map[string]any{"type": "send", "group_id": f.gid, "body": "first", "ref": "1"})
	a.send(map[string]any{"type": "send", "group_id": f.gid, "body": "second", "ref": "2"})
	// The second is acknowledged while the first is held: it was not
	// waiting behind it. Its own event may not come before its ack.
	if ack := a.until(t, "ack", "message"); ack.Ref != "2" || ack.Message.Seq != 2 {
		t.Fatalf("first answer %s, want the ack of ref 2 with seq 2", ack.raw)
	}
	close(st.gate)
	var ack1 *frame
	seen := map[int64]bool{}
	for ack1 == nil || !seen[1] || !seen[2] {
		fr := a.next(t)
		switch fr.Type {
		case "ack":
			if fr.Ref != "1" || ack1 != nil {
				t.Fatalf("unexpected %s", fr.raw)
			}
			ack1 = &fr
		case "message":
			if fr.Message.Seq == 1 && ack1 == nil {
				t.Fatalf("message 1 before its ack: %s", fr.raw)
			}
			seen[fr.Message.Seq] = true
		}
	}
	if ack1.Message.Seq != 1 {
		t.Fatalf("ack of ref 1 has seq %d, want 1 (the order the frames were sent in)", ack1.Message.Seq)
	}
}

func TestResumeReplaysWhatWasMissedOnce(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	second := createGroup(t, f.inst.svc, f.alice, "second")
	join(t, f.inst.svc, f.bob, second)
	private := createGroup(t, f.inst.svc, f.carol, "carols")
	for i := range 250 { // more than one page
		if _, _, err := f.inst.svc.Send(ctx, f.alice.ID, f.gid, app.Outgoing{Body: "m" + itoa(int64(i))}); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		if _, _, err := f.inst.svc.Send(ctx, f.alice.ID, second, app.Outgoing{Body: "s"}); err != nil {
			t.Fatal(err)
		}
	}
	cursors := map[string]int64{itoa(f.gid): 40, itoa(second): 0, itoa(private): 0}
	b, _, err := dial(t, f.inst.url, dialOpt{authMsg: map[string]any{"type": "auth", "token": f.bob.token, "cursors": cursors}})
	if err != nil {
		t.Fatal(err)
	}
	if r := b.next(t); r.Type != "ready" {
		t.Fatalf("got %s", r.raw)
	}
	seen := map[int64][]int64{}
	var notMember bool
	for {
		fr := b.next(t)
		if fr.Type == "resumed" {
			break
		}
		switch fr.Type {
		case "message":
			seen[fr.Message.GroupID] = append(seen[fr.Message.GroupID], fr.Message.Seq)
		case "error":
			if fr.Error.Code != "not_member" {
				t.Fatalf("error %s", fr.raw)
			}
			notMember = true
		default:
			t.Fatalf("unexpected %s", fr.raw)
		}
	}
	if !notMember {
		t.Fatal("no not_member error for a group bob is not in")
	}
	checkSeqs(t, "general", seen[f.gid], 41, 250)
	checkSeqs(t, "second", seen[second], 1, 3)
	if len(seen[private]) != 0 {
		t.Fatalf("replayed a group bob is not in: %v", seen[private])
	}

	// Live messages continue after the replay; a later resume frame sends
	// nothing this connection already had.
	if _, _, err := f.inst.svc.Send(ctx, f.alice.ID, f.gid, app.Outgoing{Body: "live"}); err != nil {
		t.Fatal(err)
	}
	if m := b.until(t, "message"); m.Message.Seq != 251 {
		t.Fatalf("live = %s", m.raw)
	}
	b.send(map[string]any{"type": "resume", "cursors": map[string]int64{itoa(f.gid): 200}, "ref": "again"})
	r := b.next(t)
	if r.Type != "resumed" || r.Ref != "again" {
		t.Fatalf("got %s, want resumed with nothing before it", r.raw)
	}
}

func checkSeqs(t *testing.T, what string, got []int64, from, to int64) {
	t.Helper()
	if int64(len(got)) != to-from+1 {
		t.Fatalf("%s: got %d messages, want %d..%d", what, len(got), from, to)
	}
	for i, s := range got {
		if s != from+int64(i) {
			t.Fatalf("%s: message %d has seq %d, want %d", what, i, s, from+int64(i))
		}
	}
}

// A client resumes while others keep sending: it sees every message exactly
// once across the seam between replay and live delivery. With the cursors
// in the auth frame the whole group arrives in one increasing order; with a
// resume frame after live delivery began, the missing older messages are
// filled in once, and everything after "resumed" is in order.
func TestResumeSeamUnderConcurrentSending(t *testing.T) {
	for _, inAuth := range []bool{true, false} {
		name := "resume frame"
		if inAuth {
			name = "auth frame"
		}
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, nil)
			ctx := context.Background()
			const total = 300
			sent := make(chan error, 1)
			go func() {
				for i := range total {
					if _, _, err := f.inst.svc.Send(ctx, f.alice.ID, f.gid, app.Outgoing{Body: "m" + itoa(int64(i))}); err != nil {
						sent <- err
						return
					}
				}
				sent <- nil
			}()
			eventually(t, "some messages stored", func() bool {
				items, _, err := f.st.Messages(ctx, f.gid, chat.HistoryQuery{Limit: 1})
				return err == nil && len(items) == 1 && items[0].Seq >= 20
			})
			cursors := map[string]int64{itoa(f.gid): 5}
			var b *client
			if inAuth {
				var err error
				b, _, err = dial(t, f.inst.url, dialOpt{authMsg: map[string]any{"type": "auth", "token": f.bob.token, "cursors": cursors}})
				if err != nil {
					t.Fatal(err)
				}
				b.name = "bob"
				if r := b.next(t); r.Type != "ready" {
					t.Fatalf("got %s", r.raw)
				}
			}
			var seqs, afterResumed []int64
			if !inAuth {
				// Live delivery has begun before the resume frame.
				b = connect(t, f.inst, f.bob)
				seqs = append(seqs, b.until(t, "message").Message.Seq)
				b.send(map[string]any{"type": "resume", "cursors": cursors})
			}
			if err := <-sent; err != nil {
				t.Fatal(err)
			}
			resumed := false
			for len(seqs) < total-5 || !resumed {
				fr := b.next(t)
				switch fr.Type {
				case "message":
					seqs = append(seqs, fr.Message.Seq)
					if resumed {
						afterResumed = append(afterResumed, fr.Message.Seq)
					}
				case "resumed":
					resumed = true
				}
			}
			if extra := ofType(b.sync(t), "message"); len(extra) != 0 {
				t.Fatalf("duplicates after the seam: %v", extra)
			}
			if inAuth {
				checkSeqs(t, "seam", seqs, 6, total)
				return
			}
			seen := map[int64]bool{}
			for _, s := range seqs {
				if seen[s] || s < 6 || s > total {
					t.Fatalf("seq %d repeated or out of range: %v", s, seqs)
				}
				seen[s] = true
			}
			for i := 1; i < len(afterResumed); i++ {
				if afterResumed[i] != afterResumed[i-1]+1 {
					t.Fatalf("live order after resumed broken: %v", afterResumed)
				}
			}
		})
	}
}

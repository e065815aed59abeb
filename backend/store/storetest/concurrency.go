package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chatapp/chat/chat"
)

// testQueuedKeepOrder: messages queued one after another, without waiting,
// while other senders keep the batcher busy, get seqs in queue order.
func testQueuedKeepOrder(t *testing.T, s Store) {
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
			if _, _, err := s.InsertMessage(ctx, chat.NewMessage{GroupID: g.ID, SenderID: b.ID, Body: "noise", At: baseTime()}); err != nil {
				other <- err
				return
			}
		}
	}()
	var waits []func() (chat.Message, bool, error)
	for i := range 100 {
		waits = append(waits, s.QueueMessage(ctx, chat.NewMessage{GroupID: g.ID, SenderID: a.ID, Body: fmt.Sprint(i), At: baseTime()}))
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

func testConcurrentSenders(t *testing.T, s Store) {
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
			items, _, err := s.Messages(ctx, g.ID, chat.HistoryQuery{After: new(int64(0)), Limit: 1000})
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
				m, _, err := s.InsertMessage(ctx, chat.NewMessage{
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
	items, hasMore, err := s.Messages(ctx, g.ID, chat.HistoryQuery{Limit: 1000})
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

func testConcurrentRetries(t *testing.T, s Store) {
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
			m, created[i], errs[i] = s.InsertMessage(ctx, chat.NewMessage{
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
	items, _, err := s.Messages(ctx, g.ID, chat.HistoryQuery{})
	noErr(t, err)
	if len(items) != 1 || items[0].Seq != 1 {
		t.Errorf("stored %v, want one message with seq 1", seqs(items))
	}
}

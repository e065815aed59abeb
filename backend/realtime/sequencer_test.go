package realtime

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"testing"
)

// socketless is a connection whose frames go to a recorder instead of a
// socket, for testing the sequencer on its own.
func socketless(t *testing.T, h *Hub, uid int64) (*conn, *recordingWriter) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	w := &recordingWriter{}
	c := &conn{hub: h, id: "test-" + strconv.FormatInt(uid, 10), uid: uid, ctx: ctx, cancel: cancel}
	c.sendQueue = sendQueue{limit: 1024, uid: uid, out: w, m: h.metrics}
	t.Cleanup(func() {
		cancel()
		c.sendQueue.finish()
	})
	return c, w
}

// seqsWritten is the seqs of the message frames a connection got.
func seqsWritten(t *testing.T, c *conn, w *recordingWriter) []int64 {
	t.Helper()
	c.sendQueue.closeFlushing(1000, "")
	c.sendQueue.finish()
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []int64
	for _, f := range w.frames {
		var fr frame
		if err := json.Unmarshal([]byte(f), &fr); err != nil {
			t.Fatal(err)
		}
		if fr.Type == "message" {
			out = append(out, fr.Message.Seq)
		}
	}
	return out
}

func seqStore(gid int64, n int) *memStore {
	ms := &memStore{}
	for i := range n {
		ms.msgs = append(ms.msgs, benchMessage(gid, int64(i+1)))
	}
	return ms
}

func testHub(t *testing.T, st Store) *Hub {
	t.Helper()
	h, err := NewHub(Options{Broker: downBroker{}, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// In order, each message reaches every subscriber once; a repeat is dropped;
// an event that jumps ahead leaves a gap that a fill reads from the store, in
// order, before the later message.
func TestSequencerOrdersAndFillsGaps(t *testing.T) {
	const gid = 1
	ms := seqStore(gid, 6)
	h := testHub(t, ms)
	a, wa := socketless(t, h, 1)
	b, wb := socketless(t, h, 2)
	h.mu.Lock()
	h.subscribeLocked(a, gid, 0)
	h.subscribeLocked(b, gid, 0)
	h.fillQ, h.groups[gid].queued, h.groups[gid].target = nil, false, 0 // the start-up read is not needed here
	frame := func(seq int64) []byte { return messageFrame(ms.msgs[seq-1]) }
	h.sequence(gid, h.groups[gid], 1, 9, frame(1))
	h.sequence(gid, h.groups[gid], 2, 9, frame(2))
	h.sequence(gid, h.groups[gid], 2, 9, frame(2)) // a repeat
	h.sequence(gid, h.groups[gid], 5, 9, frame(5)) // 3 and 4 went missing
	queued := h.groups[gid].queued
	h.mu.Unlock()
	if !queued {
		t.Fatal("a gap did not queue a fill")
	}
	if err := h.fill(t.Context(), gid); err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	h.sequence(gid, h.groups[gid], 6, 9, frame(6))
	h.mu.Unlock()
	for name, got := range map[string][]int64{"a": seqsWritten(t, a, wa), "b": seqsWritten(t, b, wb)} {
		if !slices.Equal(got, []int64{1, 2, 3, 4, 5, 6}) {
			t.Errorf("%s got %v", name, got)
		}
	}
}

// A replay sends what the connection has not had above the cursor, in order,
// and a later replay from an older cursor sends only what is still missing:
// the connection has had exactly the seqs in (from, sent].
func TestSequencerReplaySendsEachMessageOnce(t *testing.T) {
	const gid = 1
	ms := seqStore(gid, 10)
	h := testHub(t, ms)
	c, w := socketless(t, h, 1)
	h.mu.Lock()
	h.subscribeLocked(c, gid, 10)
	h.fillQ, h.groups[gid].queued, h.groups[gid].target = nil, false, 0
	h.mu.Unlock()
	if err := h.replay(c, gid, 6); err != nil {
		t.Fatal(err)
	}
	if err := h.replay(c, gid, 3); err != nil { // 4..6 missing, 7..10 sent
		t.Fatal(err)
	}
	if err := h.replay(c, gid, 8); err != nil { // nothing new
		t.Fatal(err)
	}
	if got := seqsWritten(t, c, w); !slices.Equal(got, []int64{7, 8, 9, 10, 4, 5, 6}) {
		t.Fatalf("replays sent %v", got)
	}
}

// A replay of a group the connection does not receive is not_member.
func TestSequencerReplayOfAnotherGroup(t *testing.T) {
	h := testHub(t, seqStore(1, 1))
	c, _ := socketless(t, h, 1)
	if err := h.replay(c, 1, 0); err == nil || errorBody(err).Code != "not_member" {
		t.Fatalf("replay = %v, want not_member", err)
	}
}

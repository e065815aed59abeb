package realtime

import (
	"slices"
	"sync"
	"testing"

	"github.com/coder/websocket"
)

// recordingWriter is a socket that records what the writer puts on it.
type recordingWriter struct {
	mu     sync.Mutex
	frames []string
	code   websocket.StatusCode
}

func (w *recordingWriter) writeBatch(batch [][]byte, _ func(int)) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, f := range batch {
		w.frames = append(w.frames, string(f))
	}
	return nil
}

func (w *recordingWriter) closeSocket(code websocket.StatusCode, _ string) {
	w.mu.Lock()
	w.code = code
	w.mu.Unlock()
}

func newTestQueue(t *testing.T, limit int) (*sendQueue, *recordingWriter) {
	t.Helper()
	m, err := newMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	w := &recordingWriter{}
	q := &sendQueue{limit: limit, uid: 1, out: w, m: m}
	t.Cleanup(q.finish)
	return q, w
}

// written returns what reached the socket once the queue is written out.
func (q *sendQueue) writtenOut(t *testing.T, w *recordingWriter) []string {
	t.Helper()
	q.closeFlushing(websocket.StatusNormalClosure, "")
	q.finish()
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.frames)
}

func TestSendQueueKeepsOrder(t *testing.T) {
	q, w := newTestQueue(t, 16)
	for _, f := range []string{"a", "b", "c"} {
		q.push([]byte(f))
	}
	if got := q.writtenOut(t, w); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("written %v", got)
	}
}

// A queue that cannot take a frame closes the connection with 1013 and drops
// what it held; pushing never blocks, not even behind a stuck socket.
func TestSendQueueOverflowCloses1013(t *testing.T) {
	w := &gatedWriter{recordingWriter: &recordingWriter{}, taken: make(chan struct{}, 1), gate: make(chan struct{})}
	m, _ := newMetrics(nil)
	q := &sendQueue{limit: 3, uid: 1, out: w, m: m}
	q.push([]byte("first"))
	<-w.taken // the writer is stuck on it
	for range 3 {
		q.push([]byte("more"))
	}
	if !q.isClosing() {
		t.Fatal("not closing after overflow")
	}
	close(w.gate)
	q.finish()
	if w.code != websocket.StatusTryAgainLater || !slices.Equal(w.frames, []string{"first"}) {
		t.Fatalf("closed with %d after %v, want 1013 after [first]", w.code, w.frames)
	}
}

// gatedWriter takes a batch, says so, and writes it once the gate opens.
type gatedWriter struct {
	*recordingWriter
	taken chan struct{}
	gate  chan struct{}
}

func (w *gatedWriter) writeBatch(batch [][]byte, wrote func(int)) error {
	w.taken <- struct{}{}
	<-w.gate
	return w.recordingWriter.writeBatch(batch, wrote)
}

// While a send to a group is in flight, the event of the user's own message
// waits for its ack, and later events of that group wait behind it; other
// groups and other frames are not held.
func TestSendQueueHoldsOwnMessageUntilItsAck(t *testing.T) {
	q, w := newTestQueue(t, 64)
	q.startSend(7)
	q.pushMessage(7, 5, 1, []byte("own 5"))   // own message: before its ack
	q.pushMessage(7, 6, 2, []byte("other 6")) // behind it, in order
	q.pushMessage(8, 3, 1, []byte("g8 own 3"))
	q.push([]byte("typing"))
	q.endSend(7, 5, []byte("ack 5"))
	q.pushMessage(7, 7, 2, []byte("other 7"))
	want := []string{"g8 own 3", "typing", "ack 5", "own 5", "other 6", "other 7"}
	if got := q.writtenOut(t, w); !slices.Equal(got, want) {
		t.Fatalf("written %v\nwant    %v", got, want)
	}
}

// An ack that comes before its event lets the event through at once; an own
// message that no send of this connection stored (another device's) waits
// only until no send is in flight.
func TestSendQueueAckFirstAndOtherDevice(t *testing.T) {
	q, w := newTestQueue(t, 64)
	q.startSend(7)
	q.startSend(7)
	q.endSend(7, 5, []byte("ack 5"))
	q.pushMessage(7, 5, 1, []byte("own 5"))
	q.pushMessage(7, 6, 1, []byte("own 6 from another device"))
	q.pushMessage(7, 7, 2, []byte("other 7"))
	q.endSend(7, 0, []byte("error"))
	want := []string{"ack 5", "own 5", "error", "own 6 from another device", "other 7"}
	if got := q.writtenOut(t, w); !slices.Equal(got, want) {
		t.Fatalf("written %v\nwant    %v", got, want)
	}
}

package realtime

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// sendQueue is the bounded queue of frames for one connection and its
// writer. Pushing never blocks: the frames are shared byte slices, a writer
// goroutine runs only while there is something to write (it lingers a
// little for the next frames), and a connection whose unsent frames exceed
// the bound is closed with 1013 (it reconnects and resumes) so that it slows
// nobody else down.
//
// It also keeps one ordering promise: while the connection has sends in
// flight to a group, an event of the user's own message waits until the
// send that stored it is acked, and the group's later message events wait
// behind it, so a sender always has its ack before its message's event,
// however the event arrives (its own publish, another instance's, a gap
// fill), and every group keeps its order.
type sendQueue struct {
	limit int
	uid   int64 // the connection's user: whose messages wait for acks
	out   frameWriter
	m     *metrics
	// press hears how long each batch waited (nil: nobody listens).
	press *pressure
	// maxDelay cuts a connection whose oldest unsent frame has waited
	// longer (1013, like an overflow: it reconnects and resumes); 0: none.
	maxDelay time.Duration

	mu       sync.Mutex
	queue    [][]byte  // unsent frames, oldest first
	oldestAt time.Time // when queue[0] was queued
	inflight int       // frames taken by the writer and not yet written
	writing  bool      // a writer goroutine is running
	// lingering: the writer waits on wake for more frames before exiting.
	lingering bool
	wake      chan struct{}
	closing   bool // no more frames; closeCode (if any) is being sent
	closeCode websocket.StatusCode
	closeMsg  string
	flush     bool          // write what is queued before the close frame
	done      bool          // finished: no new writer
	drained   chan struct{} // told when the writer made room (waitRoom)
	// sends tracks, per group, the sends in flight and the message events
	// held until their acks are queued; nil while none.
	sends map[int64]*groupSends
	heldN int // events held in sends, counted against limit
	wg    sync.WaitGroup
}

// frameWriter is where the writer puts frames: the socket.
type frameWriter interface {
	// writeBatch writes the frames in order, calling wrote with how many
	// are written so far from time to time.
	writeBatch(batch [][]byte, wrote func(n int)) error
	// closeSocket sends a close frame with the code.
	closeSocket(code websocket.StatusCode, reason string)
}

// groupSends is one group's sends in flight on a connection.
type groupSends struct {
	n     int     // sends queued for storing and not answered yet
	acked []int64 // seqs of their messages acked before their events came
	held  []heldEvent
}

type heldEvent struct {
	seq, sender int64
	frame       []byte
}

// delayCheckEvery: the age of a queue's oldest frame is checked when the
// queue holds a multiple of this many frames, so a reader too far behind is
// cut within that many more frames at the most.
const delayCheckEvery = 16

// writerLinger is how long an idle writer waits for more frames.
const writerLinger = 200 * time.Millisecond

// reuseQueueCap bounds the queue slice a busy writer keeps between batches.
const reuseQueueCap = 64

var errQueueClosing = errors.New("realtime: connection closing")

// push queues a frame.
func (q *sendQueue) push(frame []byte) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closing {
		return
	}
	q.enqueueLocked(frame)
}

// startSend counts a send to gid that is being stored.
func (q *sendQueue) startSend(gid int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.sends == nil {
		q.sends = make(map[int64]*groupSends)
	}
	g := q.sends[gid]
	if g == nil {
		g = &groupSends{}
		q.sends[gid] = g
	}
	g.n++
}

// endSend queues a send's answer: the ack of message seq (0: an error),
// then the held events of the group that no longer wait for an ack.
func (q *sendQueue) endSend(gid, seq int64, answer []byte) {
	q.mu.Lock()
	defer q.mu.Unlock()
	g := q.sends[gid]
	if g == nil || q.closing {
		return
	}
	g.n--
	if seq > 0 {
		g.acked = append(g.acked, seq)
	}
	q.enqueueLocked(answer)
	q.flushHeldLocked(gid, g)
}

// pushMessage queues the event of message seq of group gid, by sender.
func (q *sendQueue) pushMessage(gid, seq, sender int64, frame []byte) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closing {
		return
	}
	g := q.sends[gid]
	if g == nil {
		q.enqueueLocked(frame)
		return
	}
	if len(q.queue)+q.inflight+q.heldN >= q.limit {
		q.overflowLocked()
		return
	}
	g.held = append(g.held, heldEvent{seq: seq, sender: sender, frame: frame})
	q.heldN++
	q.flushHeldLocked(gid, g)
}

// flushHeldLocked queues the group's held events up to the first own
// message that still waits for its ack; q.mu is held.
func (q *sendQueue) flushHeldLocked(gid int64, g *groupSends) {
	n := 0
	for ; n < len(g.held); n++ {
		h := g.held[n]
		if h.sender == q.uid && g.n > 0 {
			i := slices.Index(g.acked, h.seq)
			if i < 0 {
				break // its ack is not queued yet
			}
			g.acked = slices.Delete(g.acked, i, i+1)
		}
		q.heldN--
		q.enqueueLocked(h.frame)
		if q.closing {
			return // overflowed: everything is dropped
		}
	}
	clear(g.held[:n])
	g.held = g.held[n:]
	if g.n == 0 && len(g.held) == 0 {
		delete(q.sends, gid) // acks of repeats (no event) are forgotten too
		if len(q.sends) == 0 {
			q.sends = nil
		}
	}
}

func (q *sendQueue) enqueueLocked(frame []byte) {
	if len(q.queue)+q.inflight >= q.limit {
		q.overflowLocked()
		return
	}
	switch n := len(q.queue); {
	case n == 0:
		// One clock read per batch, not per frame (a busy group queues
		// a frame per member per message).
		q.oldestAt = time.Now()
	case q.maxDelay > 0 && n%delayCheckEvery == 0 && time.Since(q.oldestAt) > q.maxDelay:
		// Far behind: what it would get is already stale, and the
		// frames would pile up to the bound anyway. A resume brings it
		// back in step from the database.
		q.overflowLocked()
		return
	}
	q.queue = append(q.queue, frame)
	q.startWriterLocked()
}

func (q *sendQueue) overflowLocked() {
	if !q.closing {
		q.m.overflowCloses.Inc()
	}
	q.closeLocked(websocket.StatusTryAgainLater, "slow consumer")
}

func (q *sendQueue) startWriterLocked() {
	if q.writing {
		if q.lingering {
			select {
			case q.wake <- struct{}{}:
			default:
			}
		}
		return
	}
	if q.done {
		return
	}
	q.writing = true
	q.wg.Add(1)
	go q.writeLoop()
}

// closeWith closes the connection with a close code once the writer gets
// to it; queued frames are dropped.
func (q *sendQueue) closeWith(code websocket.StatusCode, reason string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closeLocked(code, reason)
}

// closeFlushing closes with a code after the frames already queued (the
// client should see why, e.g. its rate_limited errors).
func (q *sendQueue) closeFlushing(code websocket.StatusCode, reason string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closing {
		return
	}
	q.closing, q.flush = true, true
	q.closeCode, q.closeMsg = code, reason
	q.signalDrainedLocked()
	q.startWriterLocked()
}

func (q *sendQueue) closeLocked(code websocket.StatusCode, reason string) {
	if q.closing {
		return
	}
	q.closing = true
	q.closeCode, q.closeMsg = code, reason
	q.queue, q.sends, q.heldN = nil, nil, 0
	q.signalDrainedLocked()
	q.startWriterLocked()
}

func (q *sendQueue) isClosing() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.closing
}

// finish stops the queue for good once the connection has ended: no new
// writer starts, a lingering one exits, a requested close frame is still
// sent; it waits for the writer.
func (q *sendQueue) finish() {
	q.mu.Lock()
	q.done = true
	if !q.closing {
		q.closing = true
		q.queue, q.sends, q.heldN = nil, nil, 0
	}
	q.signalDrainedLocked()
	if q.lingering {
		select {
		case q.wake <- struct{}{}:
		default:
		}
	}
	q.mu.Unlock()
	q.wg.Wait()
}

func (q *sendQueue) signalDrainedLocked() {
	if q.drained != nil {
		select {
		case q.drained <- struct{}{}:
		default:
		}
	}
}

// waitRoom waits until n more frames fit into the queue, so that a long
// replay paces itself to the client instead of overflowing the queue.
func (q *sendQueue) waitRoom(ctx context.Context, n int) error {
	for {
		q.mu.Lock()
		if q.closing {
			q.mu.Unlock()
			return errQueueClosing
		}
		if q.drained == nil {
			q.drained = make(chan struct{}, 1)
		}
		free := q.limit - len(q.queue) - q.heldN - q.inflight
		drained := q.drained
		q.mu.Unlock()
		if free >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-drained:
		}
	}
}

func (q *sendQueue) writeLoop() {
	defer q.wg.Done()
	var linger *time.Timer
	defer func() {
		if linger != nil {
			linger.Stop()
		}
	}()
	lingered := false
	for {
		q.mu.Lock()
		if q.closing && (!q.flush || len(q.queue) == 0) {
			q.writing = false
			code, msg := q.closeCode, q.closeMsg
			q.mu.Unlock()
			if code != 0 {
				q.out.closeSocket(code, msg)
			}
			return
		}
		if len(q.queue) == 0 {
			q.signalDrainedLocked()
			if !lingered && !q.done {
				// Wait a little for the next frames before exiting: a
				// connection that receives a steady stream (a busy group)
				// then reuses this goroutine and its grown stack instead
				// of starting a new one per message, which was 15 % of
				// the fan-out profile at 10,000 deliveries/s. Idle
				// connections still keep no writer.
				q.lingering = true
				if q.wake == nil {
					q.wake = make(chan struct{}, 1)
				}
				wake := q.wake
				q.mu.Unlock()
				if linger == nil {
					linger = time.NewTimer(writerLinger)
				} else {
					linger.Reset(writerLinger)
				}
				select {
				case <-wake:
					lingered = false
				case <-linger.C:
					lingered = true // one more look at the queue, then exit
				}
				q.mu.Lock()
				q.lingering = false
				q.mu.Unlock()
				continue
			}
			q.writing = false
			q.queue = nil // an idle connection keeps no slice
			q.mu.Unlock()
			return
		}
		lingered = false
		batch := q.queue
		q.queue = nil
		q.inflight = len(batch)
		oldest := q.oldestAt
		q.mu.Unlock()
		if q.press != nil {
			q.press.wrote(time.Since(oldest))
		}

		err := q.out.writeBatch(batch, func(n int) {
			q.mu.Lock()
			q.inflight = len(batch) - n
			q.mu.Unlock()
		})
		if err != nil {
			// The socket is closed; the read loop ends too.
			q.mu.Lock()
			q.closing, q.queue = true, nil
			q.writing = false
			q.inflight = 0
			q.mu.Unlock()
			return
		}
		q.m.delivered.Add(float64(len(batch)))
		q.mu.Lock()
		q.inflight = 0
		if q.queue == nil && cap(batch) <= reuseQueueCap {
			// Reuse the slice for the next batch rather than growing a new
			// one from nothing; an idle writer drops it (above).
			q.queue = batch[:0]
		}
		q.signalDrainedLocked()
		q.mu.Unlock()
	}
}

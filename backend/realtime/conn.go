package realtime

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/chatapp/chat/chat"
)

// conn is one authenticated WebSocket connection. It is kept small (many
// thousands stay idle): no goroutine writes while there is nothing to write,
// the keepalive is a timer, and queued events are shared byte slices.
type conn struct {
	hub    *Hub
	ws     *websocket.Conn
	out    *corkWriter // the socket under ws's buffer
	id     string
	uid    int64
	ctx    context.Context // ends when the connection ends or the hub stops
	cancel context.CancelFunc

	groups []int64 // the groups it is subscribed to; guarded by hub.mu

	mu    sync.Mutex
	queue [][]byte // unsent frames, oldest first
	// sends tracks, per group, this connection's sends in flight and the
	// message events held back until their acks are queued (see
	// pushMessage); nil while none.
	sends    map[int64]*groupSends
	heldN    int  // events held in sends, counted against QueueSize
	inflight int  // frames taken by the writer and not yet written
	writing  bool // a writer goroutine is running
	// lingering: the writer waits on wake for more frames before exiting.
	lingering bool
	wake      chan struct{}
	closing   bool // no more frames; closeCode (if any) is being sent
	// batchActive: the writer is in writeBatch, under a socket deadline.
	batchActive bool
	// batchStart is when the batch being written began. The hub's write
	// watchdog cuts a batch that has taken WriteTimeout: a socket deadline
	// set and cleared around every batch cost two timer updates per batch
	// (5 % of the write benchmark's profile), one scan of every connection
	// per quarter timeout costs nothing.
	batchStart time.Time
	closeCode  websocket.StatusCode
	closeMsg   string
	flush      bool          // write what is queued before the close frame
	done       bool          // finished: no new goroutines
	drained    chan struct{} // told when the writer made room (resume waits on it)
	resumes    []resumeReq   // resume requests waiting for the resumer
	resuming   bool
	ping       *time.Timer
	wg         sync.WaitGroup // writer, pinger, resumer
}

type resumeReq struct {
	ref     string
	cursors map[int64]int64
}

// groupSends is one group's sends in flight on a connection.
type groupSends struct {
	n     int     // sends queued for storing and not answered yet
	acked []int64 // seqs of their messages acked before their events came
	held  []helds // message events waiting, in order
}

type helds struct {
	seq, sender int64
	frame       []byte
}

// startSend counts a send to gid that is being stored.
func (c *conn) startSend(gid int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sends == nil {
		c.sends = make(map[int64]*groupSends)
	}
	g := c.sends[gid]
	if g == nil {
		g = &groupSends{}
		c.sends[gid] = g
	}
	g.n++
}

// endSend queues a send's answer: the ack of message seq (0: an error),
// then the held events of the group that no longer wait for an ack.
func (c *conn) endSend(gid, seq int64, answer []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.sends[gid]
	if g == nil {
		return
	}
	g.n--
	if seq > 0 && !c.closing {
		g.acked = append(g.acked, seq)
	}
	if !c.closing {
		c.enqueueLocked(answer)
	}
	c.flushHeldLocked(gid, g)
}

// pushMessage queues the event of message seq of group gid. While this
// connection has sends to the group in flight, an event of the user's own
// message waits until the send that stored it is acked, and the group's
// later events wait behind it: a sender always has its ack before its
// message's event, however the event arrives (its own publish, another
// instance's, a gap fill), and every group keeps its order.
func (c *conn) pushMessage(gid, seq, sender int64, frame []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return
	}
	g := c.sends[gid]
	if g == nil {
		c.enqueueLocked(frame)
		return
	}
	if len(c.queue)+c.inflight+c.heldN >= c.hub.opt.QueueSize {
		c.overflowLocked()
		return
	}
	g.held = append(g.held, helds{seq: seq, sender: sender, frame: frame})
	c.heldN++
	c.flushHeldLocked(gid, g)
}

// flushHeldLocked queues the group's held events up to the first own
// message that still waits for its ack; c.mu is held.
func (c *conn) flushHeldLocked(gid int64, g *groupSends) {
	n := 0
	for ; n < len(g.held) && !c.closing; n++ {
		h := g.held[n]
		if h.sender == c.uid && g.n > 0 {
			i := slices.Index(g.acked, h.seq)
			if i < 0 {
				break // its ack is not queued yet
			}
			g.acked = slices.Delete(g.acked, i, i+1)
		}
		c.heldN--
		c.enqueueLocked(h.frame)
	}
	if c.closing {
		return
	}
	clear(g.held[:n])
	g.held = g.held[n:]
	if g.n == 0 && len(g.held) == 0 {
		delete(c.sends, gid) // acks of repeats (no event) are forgotten too
		if len(c.sends) == 0 {
			c.sends = nil
		}
	}
}

// push queues a frame without ever blocking; a connection whose queue is
// full is closed with 1013 (it will reconnect and resume) so that it slows
// nobody else down.
func (c *conn) push(frame []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return
	}
	c.enqueueLocked(frame)
}

func (c *conn) enqueueLocked(frame []byte) {
	if len(c.queue)+c.inflight >= c.hub.opt.QueueSize {
		c.overflowLocked()
		return
	}
	c.queue = append(c.queue, frame)
	c.startWriterLocked()
}

func (c *conn) overflowLocked() {
	if !c.closing {
		c.hub.metrics.overflowCloses.Inc()
	}
	c.closeLocked(websocket.StatusTryAgainLater, "slow consumer")
}

func (c *conn) startWriterLocked() {
	if c.writing {
		if c.lingering {
			select {
			case c.wake <- struct{}{}:
			default:
			}
		}
		return
	}
	if c.done {
		return
	}
	c.writing = true
	c.wg.Add(1)
	go c.writeLoop()
}

// closeWith closes the connection with a close code once the writer gets
// to it; queued frames are dropped.
func (c *conn) closeWith(code websocket.StatusCode, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closeLocked(code, reason)
}

// closeFlushing closes with a code after the frames already queued (the
// client should see why, e.g. its rate_limited errors).
func (c *conn) closeFlushing(code websocket.StatusCode, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return
	}
	c.closing, c.flush = true, true
	c.closeCode, c.closeMsg = code, reason
	c.signalDrainedLocked()
	c.startWriterLocked()
}

func (c *conn) closeLocked(code websocket.StatusCode, reason string) {
	if c.closing {
		return
	}
	c.closing = true
	c.closeCode, c.closeMsg = code, reason
	c.queue, c.sends, c.heldN = nil, nil, 0
	c.signalDrainedLocked()
	c.startWriterLocked()
}

func (c *conn) isClosing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closing
}

func (c *conn) signalDrainedLocked() {
	if c.drained != nil {
		select {
		case c.drained <- struct{}{}:
		default:
		}
	}
}

// writerLinger is how long an idle writer waits for more frames.
const writerLinger = 200 * time.Millisecond

func (c *conn) writeLoop() {
	defer c.wg.Done()
	var linger *time.Timer
	lingered := false
	for {
		c.mu.Lock()
		if c.closing && (!c.flush || len(c.queue) == 0) {
			c.writing = false
			code, msg := c.closeCode, c.closeMsg
			c.mu.Unlock()
			if linger != nil {
				linger.Stop()
			}
			if code != 0 {
				// Close is idempotent: finish may call it as well.
				_ = c.ws.Close(code, msg)
			}
			return
		}
		if len(c.queue) == 0 {
			c.signalDrainedLocked()
			if !lingered && !c.done {
				// Wait a little for the next frames before exiting: a
				// connection that receives a steady stream (a busy group)
				// then reuses this goroutine and its grown stack instead
				// of starting a new one per message, which was 15 % of
				// the fan-out profile at 10,000 deliveries/s. Idle
				// connections still keep no writer.
				c.lingering = true
				if c.wake == nil {
					c.wake = make(chan struct{}, 1)
				}
				wake := c.wake
				c.mu.Unlock()
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
				c.mu.Lock()
				c.lingering = false
				c.mu.Unlock()
				continue
			}
			c.writing = false
			c.queue = nil // an idle connection keeps no slice
			c.mu.Unlock()
			if linger != nil {
				linger.Stop()
			}
			return
		}
		lingered = false
		batch := c.queue
		c.queue = nil
		c.inflight = len(batch)
		c.mu.Unlock()

		if err := c.writeBatch(batch); err != nil {
			// The connection is closed (by the library or by writeBatch);
			// the read loop ends too.
			c.mu.Lock()
			c.closing, c.queue = true, nil
			c.writing = false
			c.inflight = 0
			c.mu.Unlock()
			return
		}
		c.hub.metrics.delivered.Add(float64(len(batch)))
		c.mu.Lock()
		c.inflight = 0
		if c.queue == nil && cap(batch) <= reuseQueueCap {
			// Reuse the slice for the next batch rather than growing a new
			// one from nothing; an idle writer drops it (below).
			c.queue = batch[:0]
		}
		c.signalDrainedLocked()
		c.mu.Unlock()
	}
}

// armWrite marks the batch about to be written: the hub's watchdog cuts
// it if it takes WriteTimeout, and the end of the connection's context (the
// hub stopping) cuts it short, as a write context would.
func (c *conn) armWrite() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.ctx.Err(); err != nil {
		return err
	}
	c.batchActive = true
	c.batchStart = time.Now()
	return nil
}

func (c *conn) disarmWrite() {
	c.mu.Lock()
	c.batchActive = false
	c.mu.Unlock()
}

// cutSlowWrite fails the batch being written if it began at least timeout
// before now: its write returns at once and the connection closes (the
// client reconnects and resumes).
func (c *conn) cutSlowWrite(now time.Time, timeout time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.batchActive || now.Sub(c.batchStart) < timeout {
		return false
	}
	_ = c.out.nc.SetWriteDeadline(time.Unix(1, 0))
	return true
}

// abortWrite runs when the connection's context ends (once per connection,
// through context.AfterFunc): a batch being written fails at once.
func (c *conn) abortWrite() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.batchActive {
		_ = c.out.nc.SetWriteDeadline(time.Unix(1, 0))
	}
}

// reuseQueueCap bounds the queue slice a busy writer keeps between batches.
const reuseQueueCap = 64

// writeBatch writes frames, each its own WebSocket message, under one write
// deadline, and (with several frames) in one write to the socket: the frames
// are corked below the library's buffer, which flushes after every message.
// The deadline is the socket's, set once per batch: a context per frame (or
// per batch) cost more CPU in the fan-out profile than the writes' own work.
func (c *conn) writeBatch(batch [][]byte) error {
	if err := c.armWrite(); err != nil {
		_ = c.ws.CloseNow() // as the library does for a write whose context ended
		return err
	}
	defer c.disarmWrite()
	// Even one frame is corked: the library's buffer is too small for most
	// frames (idle connections keep it), so uncorked it would write the
	// header and the payload separately.
	c.out.cork()
	for i, frame := range batch {
		// No context here: the socket deadline (armWrite) bounds the write.
		err := c.ws.Write(context.Background(), websocket.MessageText, frame)
		batch[i] = nil
		if err != nil {
			c.out.discard()
			_ = c.ws.CloseNow()
			return err
		}
		if i%16 == 15 {
			c.mu.Lock()
			c.inflight = len(batch) - i - 1
			c.mu.Unlock()
		}
	}
	if err := c.out.uncork(); err != nil {
		_ = c.ws.CloseNow()
		return err
	}
	return nil
}

// startPing arms the keepalive: a ping every PingInterval; no pong within
// PongTimeout means the peer is gone and the connection is dropped.
func (c *conn) startPing() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return
	}
	c.ping = time.AfterFunc(c.hub.opt.PingInterval, c.pingOnce)
}

func (c *conn) pingOnce() {
	c.mu.Lock()
	if c.done || c.closing {
		c.mu.Unlock()
		return
	}
	c.wg.Add(1)
	c.mu.Unlock()
	defer c.wg.Done()

	ctx, cancel := context.WithTimeout(c.ctx, c.hub.opt.PongTimeout)
	err := c.ws.Ping(ctx)
	cancel()
	if err != nil {
		// No pong in time: the peer is gone. (Unless we are closing anyway,
		// where cutting the close handshake short would lose the code.)
		if !c.isClosing() {
			_ = c.ws.CloseNow()
		}
		return
	}
	c.mu.Lock()
	if !c.done {
		c.ping.Reset(c.hub.opt.PingInterval)
	}
	c.mu.Unlock()
}

// finish runs once the read loop has ended: it unsubscribes the connection,
// lets the writer send a requested close frame and waits for the goroutines.
func (c *conn) finish() {
	c.hub.unregister(c)
	c.mu.Lock()
	c.done = true
	if c.ping != nil {
		c.ping.Stop()
	}
	if !c.closing {
		c.closing = true
		c.queue = nil
	}
	c.signalDrainedLocked()
	if c.lingering {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
	c.mu.Unlock()
	// A requested close code is sent by the writer (started when the close
	// was requested); its writes and the close handshake are bounded by
	// WriteTimeout and the library's own timeouts. Without a code the
	// connection is already closed by the library and nothing blocks.
	c.wg.Wait()
	_ = c.ws.CloseNow()
	c.cancel()
}

// ---- resume ----

// requestResume queues a replay; one resumer goroutine per connection works
// through the requests in order, each answered with "resumed".
func (c *conn) requestResume(r resumeReq) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done || c.closing {
		return
	}
	c.resumes = append(c.resumes, r)
	if c.resuming {
		return
	}
	c.resuming = true
	if c.drained == nil {
		c.drained = make(chan struct{}, 1)
	}
	c.wg.Add(1)
	go c.resumeLoop()
}

func (c *conn) resumeLoop() {
	defer c.wg.Done()
	for {
		c.mu.Lock()
		if len(c.resumes) == 0 || c.closing {
			c.resumes = nil
			c.resuming = false
			c.mu.Unlock()
			return
		}
		r := c.resumes[0]
		c.resumes = c.resumes[1:]
		c.mu.Unlock()

		gids := make([]int64, 0, len(r.cursors))
		for g := range r.cursors {
			gids = append(gids, g)
		}
		slices.Sort(gids)
		for _, g := range gids {
			err := c.replay(g, r.cursors[g])
			switch {
			case err == nil:
			case errors.Is(err, chat.ErrForbidden): // not a member: nothing to replay
				c.push(errFrame(r.ref, err))
			default:
				// Unavailable (or closing): ending the connection is the
				// only way to keep "each message once, in order"; the
				// client reconnects and resumes.
				if c.ctx.Err() == nil {
					c.hub.log.Warn("realtime: replay failed; closing the connection", "conn", c.id, "group", g, "err", err)
					c.closeWith(websocket.StatusTryAgainLater, "unavailable")
				}
				return
			}
		}
		c.push(encode(simpleFrame{Type: "resumed", Ref: r.ref}))
	}
}

// waitRoom waits until n more frames fit into the queue, so that a long
// replay paces itself to the client instead of overflowing the queue.
func (c *conn) waitRoom(n int) error {
	limit := c.hub.opt.QueueSize
	for {
		c.mu.Lock()
		if c.closing {
			c.mu.Unlock()
			return errors.New("realtime: connection closing")
		}
		free := limit - len(c.queue) - c.inflight - c.heldN
		c.mu.Unlock()
		if free >= n {
			return nil
		}
		select {
		case <-c.ctx.Done():
			return c.ctx.Err()
		case <-c.drained:
		}
	}
}

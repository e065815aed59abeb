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
// thousands stay idle): no goroutine writes while there is nothing to write
// (sendQueue), the keepalive is a timer, and queued events are shared byte
// slices.
type conn struct {
	sendQueue // what is waiting to be written, and the writer

	hub    *Hub
	ws     *websocket.Conn
	out    *corkWriter // the socket under ws's buffer
	in     *sockReader // the socket under ws's read buffer
	seq    uint64      // opening order on this instance
	id     string
	uid    int64
	ctx    context.Context // ends when the connection ends or the hub stops
	cancel context.CancelFunc

	groups []int64 // the groups it is subscribed to; guarded by hub.mu
	// session is its token's session (refresh-token family): it closes
	// when that ends. Guarded by hub.mu.
	session string

	// wmu guards the batch being written. The hub's write watchdog cuts a
	// batch that has taken WriteTimeout: a socket deadline set and cleared
	// around every batch cost two timer updates per batch (5 % of the write
	// benchmark's profile), one scan of every connection per quarter
	// timeout costs nothing.
	wmu         sync.Mutex
	batchActive bool
	batchStart  time.Time

	// smu guards the connection's own goroutines.
	smu      sync.Mutex
	done     bool        // finished: no new goroutines
	resumes  []resumeReq // resume requests waiting for the resumer
	resuming bool
	ping     *time.Timer
	// The connection closes (4401) when its token expires unless an
	// in-band auth moved the deadline: a timer, not a goroutine, so that
	// idle connections stay cheap.
	expiry  *time.Timer
	expires time.Time
	expired bool
	wg      sync.WaitGroup // pinger, resumer, sends in flight
}

func newConn(h *Hub, ws *websocket.Conn, out *corkWriter, in *sockReader, uid int64, session string, ctx context.Context, cancel context.CancelFunc) *conn {
	seq, id := h.newConnID()
	c := &conn{hub: h, ws: ws, out: out, in: in, seq: seq, id: id, uid: uid, session: session, ctx: ctx, cancel: cancel}
	c.sendQueue = sendQueue{limit: h.opt.QueueSize, uid: uid, out: c, m: h.metrics, press: h.press, maxDelay: h.opt.MaxQueueDelay}
	return c
}

type resumeReq struct {
	ref     string
	cursors map[int64]int64
}

// armWrite marks the batch about to be written: the hub's watchdog cuts
// it if it takes WriteTimeout, and the end of the connection's context (the
// hub stopping) cuts it short, as a write context would.
func (c *conn) armWrite() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.ctx.Err(); err != nil {
		return err
	}
	c.batchActive = true
	c.batchStart = time.Now()
	return nil
}

func (c *conn) disarmWrite() {
	c.wmu.Lock()
	c.batchActive = false
	c.wmu.Unlock()
}

// cutSlowWrite fails the batch being written if it began at least timeout
// before now: its write returns at once and the connection closes (the
// client reconnects and resumes).
func (c *conn) cutSlowWrite(now time.Time, timeout time.Duration) bool {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if !c.batchActive || now.Sub(c.batchStart) < timeout {
		return false
	}
	_ = c.out.nc.SetWriteDeadline(time.Unix(1, 0))
	return true
}

// abortWrite runs when the connection's context ends (once per connection,
// through context.AfterFunc): a batch being written fails at once.
func (c *conn) abortWrite() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.batchActive {
		_ = c.out.nc.SetWriteDeadline(time.Unix(1, 0))
	}
}

// writeBatch writes frames, each its own WebSocket message, under one write
// deadline, and (with several frames) in one write to the socket: the frames
// are corked below the library's buffer, which flushes after every message.
// The deadline is the socket's, set once per batch: a context per frame (or
// per batch) cost more CPU in the fan-out profile than the writes' own work.
func (c *conn) writeBatch(batch [][]byte, wrote func(n int)) error {
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
			wrote(i + 1)
		}
	}
	if err := c.out.uncork(); err != nil {
		_ = c.ws.CloseNow()
		return err
	}
	return nil
}

// closeSocket sends the close frame (idempotent: finish may close too).
func (c *conn) closeSocket(code websocket.StatusCode, reason string) {
	c.in.closing.Store(true) // the handshake reads the peer's close frame
	_ = c.ws.Close(code, reason)
}

// startPing arms the keepalive: a ping every PingInterval; no pong within
// PongTimeout means the peer is gone and the connection is dropped.
func (c *conn) startPing() {
	c.smu.Lock()
	defer c.smu.Unlock()
	if c.done {
		return
	}
	c.ping = time.AfterFunc(c.hub.opt.PingInterval, c.pingOnce)
}

func (c *conn) pingOnce() {
	c.smu.Lock()
	if c.done || c.isClosing() {
		c.smu.Unlock()
		return
	}
	c.wg.Add(1)
	c.smu.Unlock()
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
	c.smu.Lock()
	if !c.done {
		c.ping.Reset(c.hub.opt.PingInterval)
	}
	c.smu.Unlock()
}

// expireAt arms (or moves) the close at the token's expiry; false when the
// connection has ended or its token has already expired.
func (c *conn) expireAt(at time.Time) bool {
	c.smu.Lock()
	defer c.smu.Unlock()
	if c.done || c.expired {
		return false
	}
	c.expires = at
	d := time.Until(at)
	if c.expiry == nil {
		c.expiry = time.AfterFunc(d, c.expire)
	} else {
		c.expiry.Reset(d)
	}
	return true
}

func (c *conn) expire() {
	c.smu.Lock()
	// A deadline moved while this run was on its way is not reached yet.
	if c.done || time.Now().Before(c.expires) {
		c.smu.Unlock()
		return
	}
	c.expired = true
	c.smu.Unlock()
	c.closeWith(CloseUnauthorized, "token_expired")
}

// finish runs once the read loop has ended: it unsubscribes the connection,
// lets the writer send a requested close frame and waits for the goroutines.
func (c *conn) finish() {
	c.hub.unregister(c)
	c.smu.Lock()
	c.done = true
	if c.ping != nil {
		c.ping.Stop()
	}
	if c.expiry != nil {
		c.expiry.Stop()
	}
	c.smu.Unlock()
	// A requested close code is sent by the writer (started when the close
	// was requested); its writes and the close handshake are bounded by
	// WriteTimeout and the library's own timeouts. Without a code the
	// connection is already closed by the library and nothing blocks.
	c.sendQueue.finish()
	c.wg.Wait()
	_ = c.ws.CloseNow()
	c.cancel()
}

// ---- resume ----

// requestResume queues a replay; one resumer goroutine per connection works
// through the requests in order, each answered with "resumed".
func (c *conn) requestResume(r resumeReq) {
	c.smu.Lock()
	defer c.smu.Unlock()
	if c.done || c.isClosing() {
		return
	}
	c.resumes = append(c.resumes, r)
	if c.resuming {
		return
	}
	c.resuming = true
	c.wg.Add(1)
	go c.resumeLoop()
}

func (c *conn) resumeLoop() {
	defer c.wg.Done()
	for {
		c.smu.Lock()
		if len(c.resumes) == 0 || c.isClosing() {
			c.resumes = nil
			c.resuming = false
			c.smu.Unlock()
			return
		}
		r := c.resumes[0]
		c.resumes = c.resumes[1:]
		c.smu.Unlock()

		gids := make([]int64, 0, len(r.cursors))
		for g := range r.cursors {
			gids = append(gids, g)
		}
		slices.Sort(gids)
		for _, g := range gids {
			err := c.hub.replay(c, g, r.cursors[g])
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

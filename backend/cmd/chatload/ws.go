package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// pool owns the WebSocket sessions of one scenario and the counters they
// share. onFrame runs on the session's reader goroutine.
type pool struct {
	wsURL     string
	hc        *http.Client // no Client.Timeout: it would cut the upgraded connection
	log       *slog.Logger
	start     time.Time // origin of the send timestamps in message bodies
	runID     string
	reconnect bool // redial and resume after an unexpected close
	onFrame   func(s *session, f *frame)

	sessions []*session
	connStats
	wg sync.WaitGroup
}

// connStats are the counters every pool of connections keeps, ours or the
// peer's, so that both report them under the same names.
type connStats struct {
	connectH    histogram    // dial → ready (ours) or → subscribed (the peer)
	disconnects atomic.Int64 // unexpected closes
	reconnects  atomic.Int64 // successful resumes after one
	badFrames   atomic.Int64 // frames that were not JSON
	errFrames   atomic.Int64 // error frames or error replies
	rateLimited atomic.Int64 // of which rate_limited
	writeErrs   atomic.Int64
	frames      atomic.Int64 // every frame read, of any type
}

// session is one WebSocket connection of one account. Its reader goroutine
// owns tracker; the sender goroutine (if any) owns wbuf and counter.
type session struct {
	p       *pool
	idx     int
	acct    account
	c       atomic.Pointer[websocket.Conn]
	closing atomic.Bool
	done    chan struct{}

	group    int64
	tracker  *seqTracker
	received atomic.Int64 // distinct messages of group received

	inflight
	sent    atomic.Int64
	wbuf    []byte
	counter uint64
}

type authFrame struct {
	Type    string          `json:"type"`
	Token   string          `json:"token"`
	Cursors map[int64]int64 `json:"cursors,omitempty"`
}

// dial opens a connection, authenticates with the auth frame as the SPA does,
// and waits for ready (and, when resuming, lets the reader see "resumed").
func (p *pool) dial(ctx context.Context, acct account, cursors map[int64]int64) (*websocket.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, p.wsURL, &websocket.DialOptions{HTTPClient: p.hc})
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close() // a refused handshake's body; after a switch, an empty one
	}
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial %s: HTTP %d: %w", p.wsURL, resp.StatusCode, err)
		}
		return nil, fmt.Errorf("dial %s: %w", p.wsURL, err)
	}
	c.SetReadLimit(1 << 20)
	auth, err := json.Marshal(authFrame{Type: "auth", Token: acct.Token, Cursors: cursors})
	if err != nil {
		c.CloseNow()
		return nil, fmt.Errorf("encode auth: %w", err)
	}
	if err := c.Write(ctx, websocket.MessageText, auth); err != nil {
		c.CloseNow()
		return nil, fmt.Errorf("send auth: %w", err)
	}
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			c.CloseNow()
			return nil, fmt.Errorf("wait for ready: %w", err)
		}
		var f frame
		if err := parseFrame(data, &f); err != nil {
			c.CloseNow()
			return nil, fmt.Errorf("wait for ready: %w", err)
		}
		switch f.kind {
		case kindReady:
			return c, nil
		case kindError:
			c.CloseNow()
			return nil, fmt.Errorf("wait for ready: error frame %q", f.code)
		}
	}
}

// open connects n sessions (session i uses accts[i%len(accts)]) with at most
// conc handshakes at a time and starts their reader goroutines. setup, if not
// nil, prepares session i before its reader starts.
func (p *pool) open(ctx, runCtx context.Context, accts []account, n, conc int, setup func(s *session)) error {
	p.sessions = make([]*session, n)
	return forEach(ctx, n, conc, func(ctx context.Context, i int) error {
		s := &session{p: p, idx: i, acct: accts[i%len(accts)], done: make(chan struct{})}
		if setup != nil {
			setup(s)
		}
		t0 := time.Now()
		c, err := p.dial(ctx, s.acct, nil)
		if err != nil {
			return fmt.Errorf("connection %d: %w", i, err)
		}
		p.connectH.record(time.Since(t0))
		s.c.Store(c)
		p.sessions[i] = s
		p.wg.Go(func() { s.readLoop(runCtx) })
		return nil
	})
}

func (s *session) readLoop(ctx context.Context) {
	defer close(s.done)
	var buf bytes.Buffer
	var f frame
	for {
		c := s.c.Load()
		_, r, err := c.Reader(ctx)
		if err == nil {
			buf.Reset()
			_, err = buf.ReadFrom(r)
		}
		if err == nil {
			s.p.frames.Add(1)
		}
		if err != nil {
			if s.closing.Load() || ctx.Err() != nil {
				return
			}
			s.p.disconnects.Add(1)
			s.p.log.Debug("connection lost", "conn", s.idx, "status", int(websocket.CloseStatus(err)), "err", err)
			if !s.p.reconnect || !s.redial(ctx) {
				return
			}
			continue
		}
		if err := parseFrame(buf.Bytes(), &f); err != nil {
			s.p.badFrames.Add(1)
			continue
		}
		if f.kind == kindError {
			s.p.errFrames.Add(1)
			if f.code == "rate_limited" {
				s.p.rateLimited.Add(1)
			}
		}
		s.p.onFrame(s, &f)
	}
}

// redial reconnects after an unexpected close (e.g. 1013, queue overflow)
// and resumes from the last seq this session saw, as a real client must.
func (s *session) redial(ctx context.Context) bool {
	var cursors map[int64]int64
	if s.tracker != nil && s.group != 0 {
		cursors = map[int64]int64{s.group: s.tracker.last}
	}
	for attempt := range 5 {
		backoff := time.Duration(100<<attempt)*time.Millisecond + rand.N(100*time.Millisecond)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(backoff):
		}
		if s.closing.Load() {
			return false
		}
		c, err := s.p.dial(ctx, s.acct, cursors)
		if err != nil {
			s.p.log.Debug("reconnect failed", "conn", s.idx, "err", err)
			continue
		}
		old := s.c.Swap(c)
		old.CloseNow()
		// Sends in flight on the old connection will never be acknowledged.
		for len(s.permits) > 0 {
			select {
			case <-s.permits:
			default:
			}
		}
		s.p.reconnects.Add(1)
		return true
	}
	return false
}

// inflight bounds a sender's unacknowledged sends and counts its acks.
type inflight struct {
	permits chan struct{} // in-flight sends, bounded by its capacity
	acked   atomic.Int64
}

func (f *inflight) slots() chan struct{} { return f.permits }

func (f *inflight) ackCount() int64 { return f.acked.Load() }

// releasePermit returns one in-flight slot (on an ack or an error answer).
func (f *inflight) releasePermit() {
	select {
	case <-f.permits:
	default:
	}
}

// send writes one send frame whose body carries the send time. The caller
// holds a permit; only the session's sender goroutine calls send.
func (s *session) send(ctx context.Context, bodySize int) error {
	s.counter++
	b := s.wbuf[:0]
	b = append(b, `{"type":"send","group_id":`...)
	b = strconv.AppendInt(b, s.group, 10)
	b = append(b, `,"client_id":"`...)
	id := len(b)
	b = append(b, s.p.runID...)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(s.idx), 36)
	b = append(b, '-')
	b = strconv.AppendUint(b, s.counter, 36)
	idEnd := len(b)
	b = append(b, `","ref":"`...)
	b = append(b, b[id:idEnd]...)
	b = append(b, `","body":"`...)
	b = sendBody(b, time.Since(s.p.start), bodySize)
	b = append(b, `"}`...)
	s.wbuf = b
	if err := s.c.Load().Write(ctx, websocket.MessageText, b); err != nil {
		s.p.writeErrs.Add(1)
		return fmt.Errorf("send: %w", err)
	}
	s.sent.Add(1)
	return nil
}

// latency returns how long ago a body stamped sentAt was sent.
func (p *pool) latency(sentAt int64) time.Duration {
	return time.Since(p.start) - time.Duration(sentAt)
}

// closeAll ends every session with a normal close, many at a time, and
// waits for the reader goroutines.
func (p *pool) closeAll(conc int) {
	closeConns(p.log, p.sessions, conc)
	p.wg.Wait()
}

func (s *session) markClosing() *websocket.Conn {
	s.closing.Store(true)
	return s.c.Load()
}

// closable is a connection of either protocol.
type closable interface {
	comparable
	// markClosing tells the reader that the close to come is ours, not a
	// loss, and returns the connection.
	markClosing() *websocket.Conn
}

// closeConns closes every connection of ss (nil ones are those that never
// opened) normally, conc at a time.
func closeConns[S closable](log *slog.Logger, ss []S, conc int) {
	var none S
	var live []*websocket.Conn
	for _, s := range ss {
		if s != none {
			live = append(live, s.markClosing())
		}
	}
	_ = forEach(context.Background(), len(live), conc, func(_ context.Context, i int) error {
		if err := live[i].Close(websocket.StatusNormalClosure, "load run over"); err != nil && !errors.Is(err, context.Canceled) {
			log.Debug("close", "err", err)
		}
		return nil
	})
}

package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/chat"
	"github.com/coder/websocket"
)

// limiter is a token bucket: rate frames per second, bursts of twice that.
type limiter struct {
	rate    float64
	tokens  float64
	last    time.Time
	strikes int // refused frames since the last accepted one
}

func (l *limiter) allow(now time.Time) bool {
	if l.rate <= 0 {
		return true
	}
	burst := 2 * l.rate
	if l.last.IsZero() {
		l.tokens = burst
	} else {
		l.tokens = min(burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	}
	l.last = now
	if l.tokens >= 1 {
		l.tokens--
		l.strikes = 0
		return true
	}
	l.strikes++
	return false
}

// session is the read-loop state of one connection (only the read loop
// touches it).
type session struct {
	c        *conn
	lim      limiter
	typingG  int64
	typingAt time.Time
	// sends bounds the sends in flight (sendsInFlight); made on the first.
	sends chan struct{}
}

// sendsInFlight is how many sends one connection may have waiting for their
// commit; the next send frame is read once one of them is answered.
const sendsInFlight = 16

func (hd *Endpoint) newSession(c *conn) *session {
	return &session{c: c, lim: limiter{rate: float64(hd.hub.opt.FrameRate)}}
}

// readOn runs on a goroutine of its own that owns one count of the hub's
// handlers: it reads and handles what the client has sent, then waits on
// the socket for more (sockReader.wait, a few hundred bytes deep). Reading
// grows the stack to 4-8 KiB, and the GC halves a stack at most once per
// cycle: where nothing but control frames came (the handshake's end, a
// keepalive pong), the connection is likely to stay idle, and a fresh
// goroutine waits on 2 KiB instead. After data frames this one waits
// itself: a new goroutine per frame cost the write benchmark throughput.
func (hd *Endpoint) readOn(c *conn, s *session) {
	for {
		idle, handled := hd.readUntilIdle(c, s)
		if !idle {
			c.finish()
			hd.hub.handlers.Done()
			return
		}
		if !handled {
			go hd.awaitFrames(c, s)
			return
		}
		// An error (the socket closed) is the next read's to report.
		_ = c.in.wait()
	}
}

func (hd *Endpoint) awaitFrames(c *conn, s *session) {
	_ = c.in.wait() // as in readOn
	hd.readOn(c, s)
}

// readUntilIdle reads and handles frames until the client has sent nothing
// more (idle; only where sockReader can wait) or the connection has ended;
// handled says whether any data frame came.
func (hd *Endpoint) readUntilIdle(c *conn, s *session) (idle, handled bool) {
	h := hd.hub
	maxStrikes := max(2*h.opt.FrameRate, 5)
	// Reads are not bounded by a context: keepalive pings find dead peers,
	// and closing the connection ends the read.
	readCtx := context.WithoutCancel(c.ctx)
	for {
		typ, data, err := c.ws.Read(readCtx)
		if err != nil {
			return errors.Is(err, errIdle), handled
		}
		handled = true
		h.metrics.received.Inc()
		if c.isClosing() {
			continue // a close is under way; the peer's answer ends the loop
		}
		var f inFrame
		decodeErr := json.Unmarshal(data, &f)
		if !s.lim.allow(h.opt.Clock()) {
			if s.lim.strikes > maxStrikes {
				c.closeFlushing(CloseRateLimited, "rate limited")
				return false, handled
			}
			slow := chat.Fail(chat.ErrRateLimited, "Too many frames; slow down.")
			slow.RetryAfter = 1
			c.push(errFrame(f.Ref, slow))
			continue
		}
		if typ != websocket.MessageText || decodeErr != nil {
			c.push(errFrame(f.Ref, chat.InvalidJSON("The frame is not a JSON object.")))
			continue
		}
		hd.handle(s, f)
	}
}

func (hd *Endpoint) handle(s *session, f inFrame) {
	c := s.c
	switch f.Type {
	case "ping":
		c.push(encode(simpleFrame{Type: "pong", Ref: f.Ref}))
	case "send":
		if f.GroupID <= 0 {
			c.push(errFrame(f.Ref, chat.Invalid(map[string]string{"group_id": "required"})))
			return
		}
		// Several sends may be in flight, each answered by ref when it is
		// stored; they are queued for storing here, in frame order, so
		// that each group gets them in the order they were sent. The ack
		// is queued before the message's own event exists.
		if s.sends == nil {
			s.sends = make(chan struct{}, sendsInFlight)
		}
		select {
		case s.sends <- struct{}{}:
		case <-c.ctx.Done():
			return
		}
		gid := f.GroupID
		c.startSend(gid)
		wait := hd.svc.StartSend(c.ctx, c.uid, gid, app.Outgoing{
			Body: f.Body, ClientID: f.ClientID, ReplyTo: f.ReplyToID, Attachments: f.AttachmentIDs,
		})
		c.wg.Go(func() {
			defer func() { <-s.sends }()
			err := wait(func(m chat.Message, _ bool) { c.endSend(gid, m.Seq, ackFrame(f.Ref, &m)) })
			if err != nil {
				hd.logFrameError("send", err)
				c.endSend(gid, 0, errFrame(f.Ref, err))
			}
		})
	case "typing":
		if f.GroupID <= 0 {
			c.push(errFrame(f.Ref, chat.Invalid(map[string]string{"group_id": "required"})))
			return
		}
		now := hd.hub.opt.Clock()
		if f.GroupID == s.typingG && now.Sub(s.typingAt) < hd.hub.opt.TypingInterval {
			return // throttled: the others already know
		}
		if err := hd.svc.Typing(c.ctx, c.uid, f.GroupID, c.id); err != nil {
			hd.logFrameError("typing", err)
			c.push(errFrame(f.Ref, err))
			return
		}
		s.typingG, s.typingAt = f.GroupID, now
	case "read":
		if f.GroupID <= 0 || f.Seq < 0 {
			c.push(errFrame(f.Ref, chat.Invalid(map[string]string{"group_id": "required", "seq": "must not be negative"})))
			return
		}
		if err := hd.svc.MarkRead(c.ctx, c.uid, f.GroupID, f.Seq, c.id); err != nil {
			hd.logFrameError("read", err)
			c.push(errFrame(f.Ref, err))
		}
	case "resume":
		cursors, err := parseCursors(f.Cursors)
		if err != nil {
			c.push(errFrame(f.Ref, err))
			return
		}
		c.requestResume(resumeReq{ref: f.Ref, cursors: cursors})
	case "auth":
		hd.reauth(c, f)
	default:
		c.push(errFrame(f.Ref, chat.Invalid(map[string]string{"type": "unknown frame type"})))
	}
}

// reauth is an auth frame on an open connection: a fresh token of the same
// user moves the connection's expiry (and adopts its session, which may be
// a new login's); any other token closes it. The client refreshes its
// token before it expires and says so here, without reconnecting.
func (hd *Endpoint) reauth(c *conn, f inFrame) {
	user, claims, err := hd.svc.AuthenticateSocket(c.ctx, f.Token)
	if err != nil {
		code, reason := hd.authClose(err)
		if code != CloseUnauthorized {
			// The database is unreachable: nothing is decided; the
			// deadline stays and the client may try again.
			c.push(errFrame(f.Ref, err))
			return
		}
		c.closeWith(code, reason)
		return
	}
	if user.ID != c.uid {
		c.closeWith(CloseUnauthorized, "unauthorized")
		return
	}
	if !hd.hub.adoptSession(c, claims.Session) {
		c.closeWith(CloseUnauthorized, "session ended")
		return
	}
	if !c.expireAt(claims.Expires) {
		return // expired meanwhile: it is closing
	}
	c.push(encode(reauthedFrame{Type: "reauthed", Ref: f.Ref, ExpiresIn: max(0, int64(time.Until(claims.Expires)/time.Second))}))
}

func (hd *Endpoint) logFrameError(frame string, err error) {
	// The client's mistakes are answered with their code; only our own
	// failures are worth a log line (with the cause the client never sees).
	switch errorBody(err).Code {
	case "internal":
		hd.hub.log.Warn("realtime: frame failed", "frame", frame, "err", err)
	case "unavailable":
		// The outage is logged once by the store, not once per frame.
		hd.hub.log.Debug("realtime: frame failed", "frame", frame, "err", err)
	}
}

func parseCursors(in map[string]int64) (map[int64]int64, error) {
	if in == nil {
		return nil, nil
	}
	out := make(map[int64]int64, len(in))
	for k, v := range in {
		g, err := strconv.ParseInt(k, 10, 64)
		if err != nil || g <= 0 || v < 0 {
			return nil, chat.Invalid(map[string]string{"cursors": "group ids map to seqs ≥ 0"})
		}
		out[g] = v
	}
	return out, nil
}

package main

// The peer of issue 13: Centrifugo v6, spoken to for the fan-out scenario
// only, so that one load generator measures both servers the same way.
// Learnt from centrifugal/protocol (client.proto, the JSON codec) and
// centrifugal/centrifuge (client.go, handler_websocket.go) as used by
// Centrifugo v6.9.1:
//
//   - WebSocket at /connection/websocket, JSON protocol: every command and
//     reply is one JSON object; a frame may carry several, one per line.
//   - {"id":1,"connect":{"token":JWT}} → {"id":1,"connect":{...}}; the token
//     is an HS256 JWT whose "sub" is the user, signed with
//     client.token.hmac_secret_key.
//   - {"id":2,"subscribe":{"channel":C}} → {"id":2,"subscribe":{}}.
//   - A failed command is answered {"id":N,"error":{"code":…,"message":…}}.
//   - Publications arrive as {"push":{"channel":C,"pub":{"data":D}}}, D being
//     the JSON the publisher sent; "offset" only with history, which the
//     peer runs without, so the data carries a sequence number of ours.
//   - The server pings with {} and closes a connection that does not answer
//     {} within client.pong_timeout.
//   - Server API: POST /api/publish {"channel":C,"data":D} with the header
//     X-API-Key; the answer is {"result":{}} or {"error":{…}}, with HTTP 200
//     either way.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"
)

// peerTarget is a running Centrifugo and what it takes to use it.
type peerTarget struct {
	wsURL      string // ws://host:port/connection/websocket
	publishURL string // http://host:port/api/publish
	apiKey     string // http_api.key
	secret     []byte // client.token.hmac_secret_key
	channel    string
	hc         *http.Client // no Client.Timeout for WebSocket dials
	apiHC      *http.Client
}

// token is a connection JWT for user. It has no "exp": the peer then never
// expects a refresh, as ours never does within a run.
func (t *peerTarget) token(user string) (string, error) {
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{Subject: user}).SignedString(t.secret)
	if err != nil {
		return "", fmt.Errorf("sign connection token: %w", err)
	}
	return s, nil
}

type peerKind uint8

const (
	peerOther      peerKind = iota
	peerPing                // {}: answer {}
	peerPub                 // a publication
	peerReply               // the answer to a command of ours (id > 0)
	peerDisconnect          // the server is closing the connection
)

// peerFrame is what the load generator needs from one line of a frame.
type peerFrame struct {
	kind    peerKind
	id      uint32 // of a reply
	code    uint32 // error code of a reply, disconnect code of a disconnect; 0 if none
	message string // error message or disconnect reason
	channel string
	src     int64 // publisher index, from the data
	seq     int64 // publisher's sequence number, from the data
	sentAt  int64 // from the body (sendBody); -1 if none
}

var (
	// pingFrame is the peer's ping and the client's pong alike.
	pingFrame      = []byte("{}")
	peerPushPrefix = []byte(`{"push":{"channel":"`)
	peerKeyData    = []byte(`"pub":{"data":{"src":`)
	peerKeySeq     = []byte(`,"seq":`)
	peerKeyBody    = []byte(`,"body":"` + bodyMarker)
)

// eachLine calls fn with every line of a JSON-protocol frame (the peer
// joins replies and pushes with '\n'; JSON strings never hold a raw one).
func eachLine(frame []byte, fn func(line []byte)) {
	for len(frame) > 0 {
		line := frame
		if i := bytes.IndexByte(frame, '\n'); i >= 0 {
			line, frame = frame[:i], frame[i+1:]
		} else {
			frame = nil
		}
		if len(line) > 0 {
			fn(line)
		}
	}
}

// parsePeerLine fills f from one line. Publications, nearly all of the
// traffic, are read by scanning for the keys in the order the peer writes
// them and the publisher wrote the data; anything else, or a publication the
// scan does not recognise, is decoded with encoding/json.
func parsePeerLine(b []byte, f *peerFrame) error {
	*f = peerFrame{sentAt: -1}
	if bytes.Equal(b, pingFrame) {
		f.kind = peerPing
		return nil
	}
	if scanPeerPub(b, f) {
		return nil
	}
	*f = peerFrame{sentAt: -1}
	return decodePeerLine(b, f)
}

func scanPeerPub(b []byte, f *peerFrame) bool {
	rest, ok := bytes.CutPrefix(b, peerPushPrefix)
	if !ok {
		return false
	}
	end := bytes.IndexByte(rest, '"')
	if end < 0 || bytes.IndexByte(rest[:end], '\\') >= 0 {
		return false
	}
	f.channel = string(rest[:end])
	rest = rest[end:]
	if !bytes.HasPrefix(rest, []byte(`",`)) {
		return false
	}
	if f.src, ok = intAfter(rest, peerKeyData); !ok {
		return false
	}
	if f.seq, ok = intAfter(rest, peerKeySeq); !ok {
		return false
	}
	if f.sentAt, ok = intAfter(rest, peerKeyBody); !ok {
		return false
	}
	f.kind = peerPub
	return true
}

type peerWire struct {
	ID    uint32 `json:"id"`
	Error *struct {
		Code    uint32 `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	Push *struct {
		Channel string `json:"channel"`
		Pub     *struct {
			Data json.RawMessage `json:"data"`
		} `json:"pub"`
		Disconnect *struct {
			Code   uint32 `json:"code"`
			Reason string `json:"reason"`
		} `json:"disconnect"`
	} `json:"push"`
}

// peerData is the publication data the load generator publishes.
type peerData struct {
	Src  *int64 `json:"src"`
	Seq  *int64 `json:"seq"`
	Body string `json:"body"`
}

func decodePeerLine(b []byte, f *peerFrame) error {
	var w peerWire
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("decode peer frame: %w", err)
	}
	switch {
	case w.ID > 0:
		f.kind, f.id = peerReply, w.ID
		if w.Error != nil {
			f.code, f.message = w.Error.Code, w.Error.Message
		}
	case w.Push != nil && w.Push.Disconnect != nil:
		f.kind, f.code, f.message = peerDisconnect, w.Push.Disconnect.Code, w.Push.Disconnect.Reason
	case w.Push != nil && w.Push.Pub != nil:
		var d peerData
		if err := json.Unmarshal(w.Push.Pub.Data, &d); err != nil || d.Src == nil || d.Seq == nil {
			return fmt.Errorf("decode peer publication: not data of ours: %s", w.Push.Pub.Data)
		}
		f.kind, f.channel, f.src, f.seq = peerPub, w.Push.Channel, *d.Src, *d.Seq
		f.sentAt = bodySentAt(d.Body)
	}
	return nil
}

// peerPool owns the subscriber connections of one run against the peer.
type peerPool struct {
	t       *peerTarget
	log     *slog.Logger
	start   time.Time // origin of the send timestamps in bodies
	runID   string
	sources int // publisher lanes, each numbering its own data
	d       *deliveryStats

	sessions []*peerSession
	connStats
	wg sync.WaitGroup
}

// peerSession is one subscriber. Its reader goroutine owns trackers.
type peerSession struct {
	p        *peerPool
	idx      int
	c        *websocket.Conn
	closing  atomic.Bool
	trackers []*seqTracker // one per publisher lane
	received atomic.Int64  // distinct publications over all publishers
}

// command sends one command and reads until its reply, answering pings on
// the way; an error reply is an error.
func command(ctx context.Context, c *websocket.Conn, id uint32, cmd []byte) error {
	if err := c.Write(ctx, websocket.MessageText, cmd); err != nil {
		return fmt.Errorf("write command %d: %w", id, err)
	}
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			return fmt.Errorf("wait for reply %d: %w", id, err)
		}
		var answered bool
		var lineErr error
		eachLine(data, func(line []byte) {
			var f peerFrame
			if err := parsePeerLine(line, &f); err != nil {
				lineErr = err
				return
			}
			switch {
			case f.kind == peerPing:
				lineErr = c.Write(ctx, websocket.MessageText, pingFrame)
			case f.kind == peerDisconnect:
				lineErr = fmt.Errorf("disconnected: %d %s", f.code, f.message)
			case f.kind == peerReply && f.id == id:
				answered = true
				if f.code != 0 {
					lineErr = fmt.Errorf("error %d: %s", f.code, f.message)
				}
			}
		})
		if lineErr != nil {
			return fmt.Errorf("command %d: %w", id, lineErr)
		}
		if answered {
			return nil
		}
	}
}

// dial connects one subscriber as its own user and subscribes it.
func (p *peerPool) dial(ctx context.Context, idx int) (*websocket.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	token, err := p.t.token("cl" + p.runID + "_" + strconv.Itoa(idx))
	if err != nil {
		return nil, err
	}
	c, resp, err := websocket.Dial(ctx, p.t.wsURL, &websocket.DialOptions{HTTPClient: p.t.hc})
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", p.t.wsURL, err)
	}
	c.SetReadLimit(1 << 20)
	connect, err := json.Marshal(map[string]any{"id": 1, "connect": map[string]any{"token": token, "name": "chatload"}})
	if err == nil {
		err = command(ctx, c, 1, connect)
	}
	if err != nil {
		c.CloseNow()
		return nil, fmt.Errorf("connect: %w", err)
	}
	subscribe, err := json.Marshal(map[string]any{"id": 2, "subscribe": map[string]any{"channel": p.t.channel}})
	if err == nil {
		err = command(ctx, c, 2, subscribe)
	}
	if err != nil {
		c.CloseNow()
		return nil, fmt.Errorf("subscribe to %s: %w", p.t.channel, err)
	}
	return c, nil
}

// open connects n subscribers, conc at a time, and starts their readers.
func (p *peerPool) open(ctx, runCtx context.Context, n, conc int, opened func()) error {
	p.sessions = make([]*peerSession, n)
	return forEach(ctx, n, conc, func(ctx context.Context, i int) error {
		t0 := time.Now()
		c, err := p.dial(ctx, i)
		if err != nil {
			return fmt.Errorf("connection %d: %w", i, err)
		}
		p.connectH.record(time.Since(t0))
		s := &peerSession{p: p, idx: i, c: c, trackers: make([]*seqTracker, p.sources)}
		for j := range s.trackers {
			s.trackers[j] = newSeqTracker(0)
		}
		p.sessions[i] = s
		opened()
		p.wg.Go(func() { s.readLoop(runCtx) })
		return nil
	})
}

// readLoop reads until the connection ends. A connection the server closes
// stays closed: without history the peer has nothing to resume from, so
// what it would have carried counts as lost.
func (s *peerSession) readLoop(ctx context.Context) {
	var buf bytes.Buffer
	var f peerFrame
	for {
		_, r, err := s.c.Reader(ctx)
		if err == nil {
			buf.Reset()
			_, err = buf.ReadFrom(r)
		}
		if err != nil {
			if !s.closing.Load() && ctx.Err() == nil {
				s.p.disconnects.Add(1)
				s.p.log.Debug("connection lost", "conn", s.idx, "status", int(websocket.CloseStatus(err)), "err", err)
			}
			return
		}
		// Pings are not traffic: counting them would keep settle from ever
		// seeing the connections quiet.
		if !bytes.Equal(buf.Bytes(), pingFrame) {
			s.p.frames.Add(1)
		}
		eachLine(buf.Bytes(), func(line []byte) {
			if err := parsePeerLine(line, &f); err != nil {
				s.p.badFrames.Add(1)
				return
			}
			s.onFrame(ctx, &f)
		})
	}
}

func (s *peerSession) onFrame(ctx context.Context, f *peerFrame) {
	switch f.kind {
	case peerPing:
		// A ping read just as the run closes its connections finds the
		// socket closing: that answer failing is no write error, as a
		// read failing then is no disconnect.
		if err := s.c.Write(ctx, websocket.MessageText, pingFrame); err != nil && !s.closing.Load() && ctx.Err() == nil {
			s.p.writeErrs.Add(1)
		}
	case peerReply:
		if f.code != 0 {
			s.p.errFrames.Add(1)
		}
	case peerDisconnect:
		s.p.log.Debug("disconnect push", "conn", s.idx, "code", f.code, "reason", f.message)
	case peerPub:
		if f.channel != s.p.t.channel || f.src < 0 || f.src >= int64(len(s.trackers)) {
			s.p.badFrames.Add(1)
			return
		}
		tr := s.trackers[f.src]
		before := tr.distinct
		tr.observe(f.seq)
		s.received.Add(tr.distinct - before)
		d := s.p.d
		d.total.Add(1)
		if f.sentAt >= 0 {
			d.lat.record(time.Since(s.p.start) - time.Duration(f.sentAt))
		}
		d.lastRecv.Store(int64(time.Since(s.p.start)))
	}
}

// closeAll closes every subscriber normally, conc at a time, and waits for
// the readers.
func (p *peerPool) closeAll(conc int) {
	closeConns(p.log, p.sessions, conc)
	p.wg.Wait()
}

func (s *peerSession) markClosing() *websocket.Conn {
	s.closing.Store(true)
	return s.c
}

// errPeerRefused is a publish the peer answered with an error.
var errPeerRefused = errors.New("the peer refused the publish")

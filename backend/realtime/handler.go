package realtime

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"sync"

	"github.com/coder/websocket"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/auth"
	"github.com/chatapp/chat/chat"
)

// Service is what the endpoint needs of the use cases (*app.Service). A
// frame goes through the same use case as the REST call it mirrors.
type Service interface {
	// AuthenticateSocket returns the token's user and claims; it refuses
	// a token whose session has ended.
	AuthenticateSocket(ctx context.Context, accessToken string) (chat.User, auth.Claims, error)
	GroupIDs(ctx context.Context, uid int64) ([]int64, error)
	// StartSend queues a message for storing and returns the wait, which
	// hands over the stored message before anyone is notified of it; sends
	// started one after another are stored in that order.
	StartSend(ctx context.Context, uid, gid int64, in app.Outgoing) (wait func(stored func(chat.Message, bool)) error)
	Typing(ctx context.Context, uid, gid int64, conn string) error
	MarkRead(ctx context.Context, uid, gid, seq int64, conn string) error
}

var _ Service = (*app.Service)(nil)

// Close codes of the protocol (API.md, WebSocket).
const (
	CloseUnauthorized websocket.StatusCode = 4401 // bad or expired token, or its session ended
	CloseAuthTimeout  websocket.StatusCode = 4408 // no auth frame in time
	CloseRateLimited  websocket.StatusCode = 4429 // kept flooding, or too many connections
)

// Endpoint returns the GET /api/v1/ws endpoint. The service is passed here
// rather than to NewHub because the service itself needs the hub (as its
// Notifier and Presence).
func (h *Hub) Endpoint(svc Service) *Endpoint {
	return &Endpoint{hub: h, svc: svc, origins: auth.NewOrigins(h.opt.AllowedOrigins)}
}

// Endpoint upgrades requests to WebSocket connections and runs them.
type Endpoint struct {
	hub     *Hub
	svc     Service
	origins auth.Origins
}

// Open upgrades the request and hands the connection to its own goroutine.
// A request refused before the upgrade (a foreign origin, a stopping
// server, too many sockets authenticating from one address) returns the
// error unanswered: the HTTP layer answers it, like every other error.
func (hd *Endpoint) Open(w http.ResponseWriter, r *http.Request) error {
	h := hd.hub
	if !hd.origins.Allowed(r.Header.Get("Origin"), r.Host) {
		return chat.Fail(chat.ErrForbidden, "This origin may not open a WebSocket here.")
	}
	h.mu.Lock()
	runCtx := h.runCtx
	if runCtx == nil || h.stopped {
		h.mu.Unlock()
		return chat.Fail(chat.ErrUnavailable, "")
	}
	h.handlers.Add(1)
	h.mu.Unlock()
	handed := false // the connection's own goroutine took over h.handlers
	defer func() {
		if !handed {
			h.handlers.Done()
		}
	}()
	// Until it is registered the connection counts against its address:
	// unauthenticated sockets cost a goroutine each and prove nothing.
	addr := auth.ClientKey(clientAddr(r))
	if !h.beginPending(addr) {
		e := chat.Fail(chat.ErrRateLimited, "Too many connections from your address are authenticating.")
		e.RetryAfter = 1
		return e
	}
	defer h.endPending(addr)

	headerToken, hasHeader := auth.BearerToken(r.Header.Get("Authorization"))
	sb := &smallBuffers{ResponseWriter: w, pool: &h.corkPool}
	ws, err := websocket.Accept(sb, r, &websocket.AcceptOptions{
		// The origin was checked above, with the configured origins.
		InsecureSkipVerify: true,
		// Chat frames are small; per-connection deflate state would cost
		// tens of KiB per connection and CPU on every frame.
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		h.log.Debug("realtime: upgrade failed", "err", err)
		return nil
	}
	ws.SetReadLimit(readLimit)

	ctx, cancel := context.WithCancel(runCtx)
	defer func() {
		if !handed {
			cancel()
		}
	}()

	token, cursors, ref := headerToken, map[int64]int64(nil), ""
	if !hasHeader {
		f, ok := hd.readAuthFrame(ctx, ws)
		if !ok {
			return nil
		}
		token, ref = f.Token, f.Ref
		if cursors, err = parseCursors(f.Cursors); err != nil {
			_ = ws.Close(websocket.StatusPolicyViolation, "invalid cursors")
			return nil
		}
	}

	user, claims, err := hd.svc.AuthenticateSocket(ctx, token)
	if err != nil {
		hd.closeAuthError(ws, err)
		return nil
	}
	uid := user.ID
	groups, err := hd.svc.GroupIDs(ctx, uid)
	if err != nil {
		hd.closeAuthError(ws, err)
		return nil
	}

	c := newConn(h, ws, sb.out, sb.in, uid, claims.Session, ctx, cancel)
	// Ends with the connection (cancel runs in finish) or the hub.
	context.AfterFunc(ctx, c.abortWrite)
	// The groups are read a second time once their topics are live (the
	// first read only says which topics to join): a join or a removal
	// committed before this read is in it, and one committed after it is
	// heard, and recorded until register applies it, or routed to the
	// registered connection. Nothing of a group the user has left reaches
	// the connection, even in the instant after its ready frame.
	release := h.awaitTopics(ctx, uid, groups)
	h.beginJoining(c)
	if groups, err = hd.svc.GroupIDs(ctx, uid); err != nil {
		h.endJoining(c)
		release()
		hd.closeAuthError(ws, err)
		return nil
	}
	err = h.register(ctx, c, groups, cursors, encode(simpleFrame{Type: "ready", User: &user}))
	release()
	if err != nil {
		h.endJoining(c)
		if errors.Is(err, errStopped) {
			_ = ws.Close(websocket.StatusGoingAway, "server shutting down")
			return nil
		}
		h.log.Warn("realtime: registering a connection", "err", err)
		_ = ws.Close(websocket.StatusTryAgainLater, "unavailable")
		return nil
	}
	c.expireAt(claims.Expires)
	c.startPing()
	if cursors != nil {
		c.requestResume(resumeReq{ref: ref, cursors: cursors})
	}
	// The reads get a goroutine of their own and this one returns: the
	// HTTP server's goroutine has grown a deep stack during authentication
	// and still holds the request and response, which an idle connection
	// should not keep for hours.
	handed = true
	c.in.idleOK.Store(true)
	go hd.readOn(c, hd.newSession(c))
	return nil
}

// smallBuffers makes the hijacked connection use small read and write
// buffers instead of net/http's 4 KiB ones: thousands of connections sit
// idle, chat frames are small, and larger frames bypass the buffers.
type smallBuffers struct {
	http.ResponseWriter
	pool *sync.Pool  // cork buffers (corkWriter)
	out  *corkWriter // set by Hijack
	in   *sockReader // set by Hijack
}

// connReadBufferSize holds a typical client frame (a send is a few hundred
// bytes) in one read. The write buffer only has to take a frame header: the
// writer corks every batch (corkWriter), which is where frames collect for
// their one write to the socket, from a pool shared by all connections.
const (
	connReadBufferSize  = 512
	connWriteBufferSize = 64
)

func (s *smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := s.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("realtime: response writer cannot hijack")
	}
	nc, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	// Bytes the client sent right behind the handshake were read with the
	// request: the new reader hands them over first.
	var early []byte
	if n := brw.Reader.Buffered(); n > 0 {
		b, _ := brw.Peek(n)
		early = bytes.Clone(b)
	}
	s.in = newSockReader(nc, early)
	br := bufio.NewReaderSize(s.in, connReadBufferSize)
	s.out = &corkWriter{nc: nc, pool: s.pool}
	return s.in, bufio.NewReadWriter(br, bufio.NewWriterSize(s.out, connWriteBufferSize)), nil
}

// WriteHeaderNow is forwarded for Gin, whose WriteHeader only records the
// status (the library calls it before hijacking).
func (s *smallBuffers) WriteHeaderNow() {
	if w, ok := s.ResponseWriter.(interface{ WriteHeaderNow() }); ok {
		w.WriteHeaderNow()
	}
}

// Unwrap lets http.ResponseController reach the original writer.
func (s *smallBuffers) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// readAuthFrame waits up to AuthTimeout for the first frame, which must be
// an auth frame; anything else closes the connection.
func (hd *Endpoint) readAuthFrame(ctx context.Context, ws *websocket.Conn) (inFrame, bool) {
	actx, cancel := context.WithTimeout(ctx, hd.hub.opt.AuthTimeout)
	defer cancel()
	// The library would close without a code on a read deadline, so the
	// timeout closes the connection itself, with the protocol's code.
	var once sync.WaitGroup
	once.Add(1)
	stop := context.AfterFunc(actx, func() {
		defer once.Done()
		if errors.Is(actx.Err(), context.DeadlineExceeded) {
			_ = ws.Close(CloseAuthTimeout, "authentication timeout")
		} else {
			_ = ws.Close(websocket.StatusGoingAway, "server shutting down")
		}
	})
	typ, data, err := ws.Read(context.WithoutCancel(ctx))
	if !stop() {
		once.Wait()
		return inFrame{}, false
	}
	if err != nil {
		return inFrame{}, false
	}
	var f inFrame
	if typ != websocket.MessageText || json.Unmarshal(data, &f) != nil || f.Type != "auth" || f.Token == "" {
		_ = ws.Close(CloseUnauthorized, "unauthorized")
		return inFrame{}, false
	}
	return f, true
}

func (hd *Endpoint) closeAuthError(ws *websocket.Conn, err error) {
	code, reason := hd.authClose(err)
	_ = ws.Close(code, reason)
}

// authClose is the close code and reason of a failed authentication.
func (hd *Endpoint) authClose(err error) (websocket.StatusCode, string) {
	switch {
	case errors.Is(err, chat.ErrUnauthorized), errors.Is(err, chat.ErrNotFound):
		code := "unauthorized"
		var ce *chat.Error
		if errors.As(err, &ce) && ce.Code != "" {
			code = ce.Code
		}
		return CloseUnauthorized, code
	case errors.Is(err, chat.ErrUnavailable):
		return websocket.StatusTryAgainLater, "unavailable"
	default:
		hd.hub.log.Error("realtime: authenticating a connection", "err", err)
		return websocket.StatusInternalError, "internal error"
	}
}

// clientAddr is the client's IP address: as the HTTP layer found it
// (app.WithClient, which trusts the configured proxies), else the peer.
func clientAddr(r *http.Request) string {
	if a := app.ClientAddr(r.Context()); a != "" {
		return a
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

package realtime

import (
	"encoding/binary"
	"errors"
	"math"
	"net"
	"sync/atomic"
	"syscall"
)

// errIdle ends a read when the client has sent nothing more: the read loop
// then waits for the socket outside the library (sockReader.wait).
var errIdle = errors.New("realtime: nothing more to read")

// sockReader is the connection's socket as the library reads it (the
// library's read buffer reads from the net.Conn that Hijack returns).
//
// Waiting inside the library's Read parks the read goroutine about 2 KiB
// deep (readLoop, reader, readFrameHeader, bufio, net and poll frames), so
// its stack is 4 KiB, and the GC only halves a stack whose used part is
// under a quarter of it. Instead, once every byte read makes whole messages
// and control frames (the library is about to read the next header and has
// nothing buffered), a read that would block returns errIdle; the read
// loop, on a fresh goroutine, waits on the socket itself (wait), a few
// hundred bytes deep, on a 2 KiB stack.
type sockReader struct {
	net.Conn
	raw syscall.RawConn // nil where the platform has no idle wait: reads block in the library
	// early holds what the client sent right behind the handshake (read
	// by net/http with the request): it comes first.
	early  []byte
	frames frameTracker
	// idleOK: the read loop runs and takes errIdle (the handshake's own
	// read of the auth frame does not).
	idleOK atomic.Bool
	// closing: a close handshake reads the peer's close frame inside the
	// library's Close, which would fail on errIdle; its reads block.
	closing atomic.Bool
}

func newSockReader(nc net.Conn, early []byte) *sockReader {
	return &sockReader{Conn: nc, raw: idleRawConn(nc), early: early}
}

func (r *sockReader) Read(p []byte) (int, error) {
	if len(r.early) > 0 {
		n := copy(p, r.early)
		r.early = r.early[n:]
		if len(r.early) == 0 {
			r.early = nil
		}
		r.frames.track(p[:n])
		return n, nil
	}
	var n int
	var err error
	// The buffer above only reads from here once it is empty, so at a
	// frame boundary outside a message the library holds no partial frame:
	// failing this read leaves it ready to read the next header.
	if r.raw != nil && !r.closing.Load() && r.idleOK.Load() && r.frames.atRest() {
		n, err = readNow(r.raw, p)
	} else {
		n, err = r.Conn.Read(p)
	}
	r.frames.track(p[:max(n, 0)])
	return n, err
}

// canWait reports whether reads end with errIdle when there is nothing to
// read (else they block in the library, as on platforms without raw fds).
func (r *sockReader) canWait() bool { return r.raw != nil }

// wait blocks until the client has sent something or the connection has
// ended (then the next read reports why).
func (r *sockReader) wait() error { return waitReadable(r.raw) }

// frameTracker follows the client's frames through the bytes read, so that
// the reader knows when what it has read makes whole messages.
type frameTracker struct {
	hdr     [14]byte
	hn      int   // header bytes read of the frame now coming
	payload int64 // payload bytes of the current frame still to come
	inMsg   bool  // a data message's final frame has not come yet
}

func (t *frameTracker) atRest() bool { return t.hn == 0 && t.payload == 0 && !t.inMsg }

func (t *frameTracker) track(b []byte) {
	for len(b) > 0 {
		if t.payload > 0 {
			k := int(min(t.payload, int64(len(b))))
			t.payload -= int64(k)
			b = b[k:]
			continue
		}
		t.hdr[t.hn] = b[0]
		t.hn++
		b = b[1:]
		if t.hn < 2 || t.hn < frameHeaderLen(t.hdr[1]) {
			continue
		}
		t.payload = framePayloadLen(t.hdr[:t.hn])
		if op := t.hdr[0] & 0x0f; op < 8 { // data or continuation, not control
			t.inMsg = t.hdr[0]&0x80 == 0
		}
		t.hn = 0
	}
}

// frameHeaderLen is the length of a frame header (RFC 6455 5.2) from its
// second byte: the extended length and the mask key follow it.
func frameHeaderLen(b1 byte) int {
	n := 2
	switch b1 & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&0x80 != 0 {
		n += 4
	}
	return n
}

func framePayloadLen(h []byte) int64 {
	switch l := h[1] & 0x7f; l {
	case 126:
		return int64(binary.BigEndian.Uint16(h[2:4]))
	case 127:
		v := binary.BigEndian.Uint64(h[2:10])
		if v > math.MaxInt64 { // the library refuses the frame and closes
			return math.MaxInt64
		}
		return int64(v)
	default:
		return int64(l)
	}
}

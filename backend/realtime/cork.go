package realtime

import (
	"net"
	"sync"
)

// corkWriter sits between the library's buffered writer and the socket. The
// library flushes after every message; while corked, those flushes collect
// here and uncork writes them with one system call, so a writer that has
// several frames queued pays for one write, not one per frame. Uncorked it
// writes straight through. The buffer exists only while corked and comes from
// the hub's pool, so idle connections hold none.
type corkWriter struct {
	nc   net.Conn
	pool *sync.Pool // of *[]byte

	mu     sync.Mutex
	corked bool
	buf    *[]byte
}

// corkLimit bounds what one cork collects before it writes anyway.
const corkLimit = 32 << 10

func (w *corkWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.corked {
		return w.nc.Write(p)
	}
	if len(*w.buf)+len(p) > corkLimit {
		if err := w.flushLocked(); err != nil {
			return 0, err
		}
		if len(p) > corkLimit {
			return w.nc.Write(p)
		}
	}
	*w.buf = append(*w.buf, p...)
	return len(p), nil
}

func (w *corkWriter) cork() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.corked {
		return
	}
	w.corked = true
	w.buf, _ = w.pool.Get().(*[]byte)
	if w.buf == nil {
		b := make([]byte, 0, 4<<10)
		w.buf = &b
	}
}

// uncork writes what was collected and goes back to writing through.
func (w *corkWriter) uncork() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.corked {
		return nil
	}
	err := w.flushLocked()
	w.releaseLocked()
	return err
}

// discard drops what was collected (the connection failed).
func (w *corkWriter) discard() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.corked {
		w.releaseLocked()
	}
}

func (w *corkWriter) flushLocked() error {
	if len(*w.buf) == 0 {
		return nil
	}
	_, err := w.nc.Write(*w.buf)
	*w.buf = (*w.buf)[:0]
	return err
}

func (w *corkWriter) releaseLocked() {
	w.corked = false
	*w.buf = (*w.buf)[:0]
	if cap(*w.buf) <= 2*corkLimit {
		w.pool.Put(w.buf)
	}
	w.buf = nil
}

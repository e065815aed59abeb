package realtime

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatapp/chat/chat"
)

// pressure tells whether this instance delivers what it is asked to
// deliver. Beyond what the cores can write, every connection's queue grows
// and every delivery waits longer; letting senders go on would only turn
// the queues into seconds of delay (BENCHMARKS.md "Against Centrifugo":
// 6 s at 200,000 deliveries/s offered before this). Two signals:
//
//   - the writers: each batch a connection's writer takes reports how long
//     its oldest frame waited in the queue. The instance is behind when at
//     least a quarter of the batches of the last window waited longer than
//     lateAfter. One slow client, whose writer sits in a blocked write,
//     reports one batch now and then and cannot make everyone look late
//     (its own queue cuts it: sendQueue.maxDelay);
//   - the router: how long the latest events waited before being handed to
//     the connections (a router that cannot keep up leaves the queues short).
//
// The verdict is computed at most once per window, by whichever send asks.
type pressure struct {
	lateAfter time.Duration
	window    time.Duration

	batches atomic.Int64
	late    atomic.Int64
	// routeLate is when the router last handed out events that had waited
	// longer than lateAfter (UnixNano; 0: never).
	routeLate atomic.Int64

	// The verdict, read by every send without a lock; mu serialises its
	// revision once per window.
	evalAt atomic.Int64 // UnixNano of the last revision
	behind atomic.Bool
	mu     sync.Mutex
}

const (
	// pressureLateAfter: a delivery that waits this long in a queue of this
	// instance is late (p99 at 100,000 deliveries/s is ~50 ms here).
	pressureLateAfter = 100 * time.Millisecond
	// pressureWindow is how often the verdict is revised.
	pressureWindow = 50 * time.Millisecond
	// pressureMinBatches: fewer batches in a window say nothing.
	pressureMinBatches = 16
	// admitPoll is how often a held send looks again.
	admitPoll = 5 * time.Millisecond
)

func newPressure() *pressure {
	return &pressure{lateAfter: pressureLateAfter, window: pressureWindow}
}

// wrote records one batch taken by a connection's writer, whose oldest
// frame had waited wait.
func (p *pressure) wrote(wait time.Duration) {
	if p == nil {
		return
	}
	p.batches.Add(1)
	if wait > p.lateAfter {
		p.late.Add(1)
	}
}

// routed records that the router handed out events the oldest of which had
// waited wait.
func (p *pressure) routed(now time.Time, wait time.Duration) {
	if wait > p.lateAfter {
		p.routeLate.Store(now.UnixNano())
	}
}

// overloaded is the verdict at now.
func (p *pressure) overloaded(now time.Time) bool {
	if now.Sub(time.Unix(0, p.evalAt.Load())) < p.window {
		return p.behind.Load()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	elapsed := now.Sub(time.Unix(0, p.evalAt.Load()))
	if elapsed < p.window {
		return p.behind.Load() // revised meanwhile by another send
	}
	b, l := p.batches.Swap(0), p.late.Swap(0)
	// Counted over a recent window only: after a quiet spell the counts
	// are old news.
	behind := elapsed <= 4*p.window && b >= pressureMinBatches && 4*l >= b
	if at := p.routeLate.Load(); at != 0 && now.Sub(time.Unix(0, at)) < p.window {
		behind = true
	}
	p.behind.Store(behind)
	p.evalAt.Store(now.UnixNano())
	return behind
}

// Admit holds a send while this instance is behind on its deliveries, up
// to Options.MaxSendDelay, and then refuses it with rate_limited: senders
// are slowed (their acks come later, and a client with a bounded number of
// sends in flight sends less) instead of the queues growing into seconds.
// A refused send took no seq and is stored by nothing: the client sends it
// again (same client_id) after Retry-After. It implements app.Admission.
func (h *Hub) Admit(ctx context.Context) error {
	if !h.press.overloaded(time.Now()) {
		return nil
	}
	h.metrics.sendsHeld.Inc()
	deadline := time.Now().Add(h.opt.MaxSendDelay)
	t := time.NewTicker(admitPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case now := <-t.C:
			if !h.press.overloaded(now) {
				return nil
			}
			if now.After(deadline) {
				h.metrics.sendsRefused.Inc()
				e := chat.Fail(chat.ErrRateLimited, "The server is busy delivering messages; send again in a moment.")
				e.RetryAfter = 1
				return e
			}
		}
	}
}

package store

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/chatapp/chat/chat"
)

// availability turns the database's outages into two log lines, one WARN
// when it becomes unreachable and one INFO when it answers again, instead of
// one line per failed request: during an outage every request fails alike,
// and an operator needs the transitions. While the database is down a
// prober pings it; the first answer ends the outage.
type availability struct {
	log   *slog.Logger
	ping  func(ctx context.Context) error
	every time.Duration

	mu    sync.Mutex
	down  bool
	since time.Time
	stop  chan struct{} // closed by close: no more probers
	wg    sync.WaitGroup
}

func newAvailability(log *slog.Logger, ping func(ctx context.Context) error) *availability {
	return &availability{log: log, ping: ping, every: 250 * time.Millisecond, stop: make(chan struct{})}
}

// observe looks at the outcome of a database call; an unavailable error
// starts an outage.
func (a *availability) observe(err error) {
	if a == nil || !errors.Is(err, chat.ErrUnavailable) {
		// nil: the store is still being opened (its errors go to the caller)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.down {
		return
	}
	select {
	case <-a.stop:
		return // closed: not an outage
	default:
	}
	a.down, a.since = true, time.Now()
	a.log.Warn("database unavailable; requests answer 503 until it is back", "err", err)
	a.wg.Add(1)
	go a.probe()
}

// isDown reports whether an outage is under way.
func (a *availability) isDown() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.down
}

func (a *availability) probe() {
	defer a.wg.Done()
	t := time.NewTicker(a.every)
	defer t.Stop()
	for {
		select {
		case <-a.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := a.ping(ctx)
		cancel()
		if err != nil {
			continue
		}
		a.mu.Lock()
		a.down = false
		a.log.Info("database available again", "after", time.Since(a.since).Round(time.Millisecond).String())
		a.mu.Unlock()
		return
	}
}

// close stops the prober.
func (a *availability) close() {
	a.mu.Lock()
	select {
	case <-a.stop:
	default:
		close(a.stop)
	}
	a.mu.Unlock()
	a.wg.Wait()
}

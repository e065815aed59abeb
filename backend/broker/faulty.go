package broker

import (
	"context"
	"sync"
)

// Inner is the broker a Faulty wraps.
type Inner interface {
	Publish(ctx context.Context, msgs ...Message) error
	Subscribe(ctx context.Context, topics *Topics, deliver func(Message), connected func([]string)) error
	Ping(ctx context.Context) error
	Close() error
}

// Faulty wraps a broker and silently loses a fixed fraction of publishes,
// spread evenly and deterministically (no randomness, so failures repeat),
// the way Redis pub/sub loses messages: Publish still reports success. It
// exists for tests of the consumer's gap repair.
type Faulty struct {
	inner    Inner
	num, den int

	mu      sync.Mutex
	n       int // publishes seen
	dropped int
}

var _ Inner = (*Faulty)(nil)

// NewFaulty drops num of every den publishes (e.g. 1, 5: every fifth).
func NewFaulty(inner Inner, num, den int) *Faulty {
	if den < 1 {
		den = 1
	}
	num = max(0, min(num, den))
	return &Faulty{inner: inner, num: num, den: den}
}

// Publish forwards the messages except the chosen losses.
func (f *Faulty) Publish(ctx context.Context, msgs ...Message) error {
	kept := make([]Message, 0, len(msgs))
	f.mu.Lock()
	for _, p := range msgs {
		f.n++
		// Drop publish k when k·num/den crosses an integer: exactly num of
		// every den consecutive publishes, evenly spaced.
		if f.n*f.num/f.den > (f.n-1)*f.num/f.den {
			f.dropped++
			continue
		}
		kept = append(kept, p)
	}
	f.mu.Unlock()
	if len(kept) == 0 {
		return nil
	}
	return f.inner.Publish(ctx, kept...)
}

// Dropped tells how many publishes were lost so far.
func (f *Faulty) Dropped() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dropped
}

// Subscribe subscribes to the wrapped broker.
func (f *Faulty) Subscribe(ctx context.Context, topics *Topics, deliver func(Message), connected func([]string)) error {
	return f.inner.Subscribe(ctx, topics, deliver, connected)
}

// Ping pings the wrapped broker.
func (f *Faulty) Ping(ctx context.Context) error { return f.inner.Ping(ctx) }

// Close closes the wrapped broker.
func (f *Faulty) Close() error { return f.inner.Close() }

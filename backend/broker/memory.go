// Package broker carries encoded events between the server instances: an
// in-process implementation (the default, one instance) and a Redis pub/sub
// implementation (many instances). Both only carry hints: the database is
// the truth and the consumer (package realtime) re-reads it after a gap or a
// reconnect. The package also keeps cross-instance presence.
//
// Both brokers have the same shape: Publish sends one payload to every
// subscriber; Subscribe runs ONE subscription that hands every payload, in
// the order a publisher published it, to a callback and calls a second
// callback each time the subscription is (re)established, so the consumer can
// re-sync what it may have missed meanwhile.
package broker

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// ErrClosed is returned by a broker that was closed.
var ErrClosed = errors.New("broker: closed")

// DefaultMemoryBuffer is how many payloads one in-process subscriber may lag
// behind before it loses some and is told to re-sync.
const DefaultMemoryBuffer = 1 << 16

// Memory is the in-process broker. Every subscription of one Memory gets
// every payload published on it, in publish order. Publish never blocks on a
// slow subscriber: a subscriber that falls more than its buffer behind drops
// the backlog and gets a re-sync signal instead, the same contract as a
// Redis subscription that reconnects.
type Memory struct {
	buffer int

	mu     sync.Mutex
	subs   map[*memSub]struct{}
	closed bool
	done   chan struct{}
}

type memSub struct {
	mu      sync.Mutex
	queue   [][]byte
	lost    bool // the backlog overflowed: the subscriber must re-sync
	wake    chan struct{}
	maxSize int
}

// NewMemory returns an in-process broker.
func NewMemory() *Memory { return NewMemorySize(DefaultMemoryBuffer) }

// NewMemorySize returns an in-process broker whose subscribers may lag at
// most buffer payloads behind.
func NewMemorySize(buffer int) *Memory {
	if buffer < 1 {
		buffer = 1
	}
	return &Memory{buffer: buffer, subs: make(map[*memSub]struct{}), done: make(chan struct{})}
}

// Publish hands the payloads, in order, to every current subscriber. They
// must not be changed afterwards (they are shared, not copied).
func (m *Memory) Publish(ctx context.Context, payloads ...[]byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("broker: publish: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	// Enqueueing under m.mu gives every subscriber one total order, which
	// includes the order of each publisher.
	for s := range m.subs {
		s.mu.Lock()
		if len(s.queue)+len(payloads) > s.maxSize {
			s.queue = nil
			s.lost = true
		} else {
			s.queue = append(s.queue, payloads...)
		}
		s.mu.Unlock()
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// Subscribe delivers every payload published from now on to deliver, one at
// a time and in order, until ctx ends or the broker is closed. connected is
// called once the subscription is in place and again whenever payloads were
// lost, before the payloads that follow the loss.
func (m *Memory) Subscribe(ctx context.Context, deliver func([]byte), connected func()) error {
	s := &memSub{wake: make(chan struct{}, 1), maxSize: m.buffer}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	m.subs[s] = struct{}{}
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.subs, s)
		m.mu.Unlock()
	}()

	connected()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-m.done:
			return nil
		case <-s.wake:
		}
		s.mu.Lock()
		batch, lost := s.queue, s.lost
		s.queue, s.lost = nil, false
		s.mu.Unlock()
		if lost {
			connected()
		}
		for _, p := range batch {
			deliver(p)
		}
	}
}

// Ping reports whether the broker is usable.
func (m *Memory) Ping(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	return ctx.Err()
}

// Close ends every subscription; later calls fail with ErrClosed.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	close(m.done)
	return nil
}

// Package broker carries encoded events between the server instances: an
// in-process implementation (the default, one instance) and a Redis pub/sub
// implementation (many instances). Both only carry hints: the database is
// the truth and the consumer (package realtime) re-reads it after a gap or a
// reconnect. The package also keeps cross-instance presence.
//
// Both brokers have the same shape: Publish sends each payload to the
// subscribers of its topic; Subscribe runs ONE subscription that follows a
// changing set of topics (Topics), hands every payload of those topics, in
// the order a publisher published them, to a callback, and calls a second
// callback with the topics that became active (newly subscribed, or again
// after a loss), so the consumer can re-sync what it may have missed
// before.
package broker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// ErrClosed is returned by a broker that was closed.
var ErrClosed = errors.New("broker: closed")

// DefaultMemoryBuffer is how many payloads one in-process subscriber may lag
// behind before it loses some and is told to re-sync.
const DefaultMemoryBuffer = 1 << 16

// Memory is the in-process broker. Every subscription of one Memory gets
// every payload published on its topics, in publish order. Publish never blocks on a
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
	topics map[string]struct{} // guarded by Memory.mu

	mu      sync.Mutex
	queue   []Message
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

// Publish hands the messages, in order, to every current subscriber of
// their topics. The payloads must not be changed afterwards (they are
// shared, not copied).
func (m *Memory) Publish(ctx context.Context, msgs ...Message) error {
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
		n := 0
		for _, msg := range msgs {
			if _, ok := s.topics[msg.Topic]; ok {
				n++
			}
		}
		if n == 0 {
			continue
		}
		s.mu.Lock()
		if len(s.queue)+n > s.maxSize {
			s.queue = nil
			s.lost = true
		} else {
			for _, msg := range msgs {
				if _, ok := s.topics[msg.Topic]; ok {
					s.queue = append(s.queue, msg)
				}
			}
		}
		s.mu.Unlock()
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// Subscribe delivers every message published from now on to the topics of
// topics, to deliver, one at a time and in order, until ctx ends or the
// broker is closed. connected is called once the subscription is in place
// (with no topic), with the topics joined each time some are (from then on
// their messages arrive), and with all of them whenever messages were lost,
// before the messages that follow the loss.
func (m *Memory) Subscribe(ctx context.Context, topics *Topics, deliver func(Message), connected func([]string)) error {
	s := &memSub{topics: make(map[string]struct{}), wake: make(chan struct{}, 1), maxSize: m.buffer}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	m.subs[s] = struct{}{}
	m.mu.Unlock()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer func() {
		close(stop)
		wg.Wait()
		m.mu.Lock()
		delete(m.subs, s)
		m.mu.Unlock()
	}()

	connected(nil)
	wg.Go(func() {
		follow(stop, topics, func(added, removed []string) {
			m.mu.Lock()
			for _, name := range added {
				s.topics[name] = struct{}{}
			}
			for _, name := range removed {
				delete(s.topics, name)
			}
			m.mu.Unlock()
			if len(added) > 0 {
				topics.activate(added)
				connected(added)
			}
		})
	})
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
			connected(m.topicsOf(s))
		}
		for _, msg := range batch {
			deliver(msg)
		}
	}
}

func (m *Memory) topicsOf(s *memSub) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	names := make([]string, 0, len(s.topics))
	for name := range s.topics {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
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

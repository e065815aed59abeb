package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"time"
)

// changed wakes a test waiting for state that other goroutines change: they
// call notify after each change; await checks the state again on each.
type changed struct {
	mu sync.Mutex
	ch chan struct{} // closed by the next notify
}

func (c *changed) next() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ch == nil {
		c.ch = make(chan struct{})
	}
	return c.ch
}

func (c *changed) notify() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ch != nil {
		close(c.ch)
		c.ch = nil
	}
}

// await waits until done reports true, for at most timeout, and returns
// its last answer.
func (c *changed) await(timeout time.Duration, done func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		// Taken before the check: a change after it still wakes us.
		next := c.next()
		if done() {
			return true
		}
		select {
		case <-next:
		case <-deadline.C:
			return done()
		}
	}
}

// syncBuffer is a log sink that the server goroutine and the test share.
type syncBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	written changed
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	n, err := s.b.Write(p)
	s.mu.Unlock()
	s.written.notify()
	return n, err
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// addrs waits for the log records "<name> listening" of the given names
// ("" is the API's "listening") and returns their addresses by name.
func (s *syncBuffer) addrs(timeout time.Duration, names ...string) (map[string]string, bool) {
	found := map[string]string{}
	ok := s.written.await(timeout, func() bool {
		for line := range strings.Lines(s.String()) {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) != nil {
				continue
			}
			for _, name := range names {
				if rec.Msg == strings.TrimSpace(name+" listening") {
					found[name] = rec.Addr
				}
			}
		}
		return len(found) == len(names)
	})
	return found, ok
}

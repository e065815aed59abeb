// Package brokertest is the conformance suite every broker and every
// presence implementation passes (the in-process ones and the Redis ones).
package brokertest

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Broker is the shape under test (package broker; consumed by realtime).
type Broker interface {
	Publish(ctx context.Context, payloads ...[]byte) error
	Subscribe(ctx context.Context, deliver func([]byte), connected func()) error
	Ping(ctx context.Context) error
	Close() error
}

// Bus gives brokers that are attached to one shared bus: like the brokers of
// several server instances (for the in-process broker, the same value).
type Bus func() Broker

// Options adapt the suite to an implementation.
type Options struct {
	// Disconnect, when set, cuts the subscription of b from the outside (a
	// network failure); the broker must reconnect and signal it.
	Disconnect func(t *testing.T, b Broker)
}

// Run runs the broker suite; newBus is called once per test.
func Run(t *testing.T, newBus func(t *testing.T) Bus, opt Options) {
	t.Run("PingAnswers", func(t *testing.T) {
		b := newBus(t)()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := b.Ping(ctx); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	})

	t.Run("OrderPerPublisherAndEverySubscriberGetsEverything", func(t *testing.T) {
		bus := newBus(t)
		pub := bus()
		subs := []*recorder{subscribe(t, bus()), subscribe(t, bus()), subscribe(t, bus())}
		const n = 300
		for i := range n {
			if err := pub.Publish(context.Background(), []byte(strconv.Itoa(i))); err != nil {
				t.Fatalf("Publish %d: %v", i, err)
			}
		}
		for si, s := range subs {
			got := s.waitN(t, n)
			for i, p := range got {
				if p != strconv.Itoa(i) {
					t.Fatalf("subscriber %d: payload %d is %q, want %d (order lost)", si, i, p, i)
				}
			}
		}
	})

	t.Run("ABatchArrivesInOrder", func(t *testing.T) {
		bus := newBus(t)
		subs := []*recorder{subscribe(t, bus()), subscribe(t, bus())}
		var batch [][]byte
		var want []string
		for i := range 1200 { // more than one pipeline
			batch = append(batch, []byte(strconv.Itoa(i)))
			want = append(want, strconv.Itoa(i))
		}
		pub := bus()
		if err := pub.Publish(context.Background(), batch[:1]...); err != nil {
			t.Fatalf("Publish one: %v", err)
		}
		if err := pub.Publish(context.Background(), batch[1:]...); err != nil {
			t.Fatalf("Publish batch: %v", err)
		}
		for si, s := range subs {
			if got := s.waitN(t, len(want)); !slices.Equal(got, want) {
				t.Fatalf("subscriber %d: batch arrived out of order or incomplete", si)
			}
		}
	})

	t.Run("ConcurrentPublishersKeepTheirOwnOrder", func(t *testing.T) {
		bus := newBus(t)
		subs := []*recorder{subscribe(t, bus()), subscribe(t, bus())}
		const pubs, each = 4, 60
		var wg sync.WaitGroup
		for p := range pubs {
			b := bus()
			wg.Go(func() {
				for i := range each {
					if err := b.Publish(context.Background(), fmt.Appendf(nil, "%d:%d", p, i)); err != nil {
						t.Errorf("Publish: %v", err)
						return
					}
				}
			})
		}
		wg.Wait()
		for si, s := range subs {
			got := s.waitN(t, pubs*each)
			next := make([]int, pubs)
			for _, m := range got {
				var p, i int
				if _, err := fmt.Sscanf(m, "%d:%d", &p, &i); err != nil {
					t.Fatalf("subscriber %d: bad payload %q", si, m)
				}
				if i != next[p] {
					t.Fatalf("subscriber %d: publisher %d: got %d, want %d", si, p, i, next[p])
				}
				next[p]++
			}
		}
	})

	t.Run("PayloadBytesArriveUnchanged", func(t *testing.T) {
		bus := newBus(t)
		s := subscribe(t, bus())
		payloads := []string{`{"t":"message","e":{"body":"héllo \u2028 <b>"}}`, strings.Repeat("x", 64<<10), "\x00\x01binary"}
		for _, p := range payloads {
			if err := bus().Publish(context.Background(), []byte(p)); err != nil {
				t.Fatalf("Publish: %v", err)
			}
		}
		got := s.waitN(t, len(payloads))
		if !slices.Equal(got, payloads) {
			t.Fatalf("payloads changed in transit")
		}
	})

	t.Run("SubscribeEndsWithItsContext", func(t *testing.T) {
		b := newBus(t)()
		ctx, cancel := context.WithCancel(context.Background())
		connected := make(chan struct{}, 1)
		done := make(chan error, 1)
		go func() {
			done <- b.Subscribe(ctx, func([]byte) {}, func() {
				select {
				case connected <- struct{}{}:
				default:
				}
			})
		}()
		select {
		case <-connected:
		case <-time.After(5 * time.Second):
			t.Fatal("never connected")
		}
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Subscribe returned %v after its context ended, want nil", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Subscribe did not return after its context ended")
		}
	})

	if opt.Disconnect != nil {
		t.Run("ReconnectsAndSignalsIt", func(t *testing.T) {
			bus := newBus(t)
			b := bus()
			s := subscribe(t, b)
			if err := bus().Publish(context.Background(), []byte("before")); err != nil {
				t.Fatal(err)
			}
			s.waitN(t, 1)
			opt.Disconnect(t, b)
			s.waitConnects(t, 2)
			if err := bus().Publish(context.Background(), []byte("after")); err != nil {
				t.Fatal(err)
			}
			got := s.waitN(t, 2)
			if got[1] != "after" {
				t.Fatalf("after reconnect got %q", got)
			}
		})
	}
}

// recorder is a running subscription that records what it receives.
type recorder struct {
	mu       sync.Mutex
	got      []string
	connects int
	changed  chan struct{}
}

func subscribe(t *testing.T, b Broker) *recorder {
	t.Helper()
	r := &recorder{changed: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = b.Subscribe(ctx, func(p []byte) {
			r.mu.Lock()
			r.got = append(r.got, string(p))
			r.mu.Unlock()
			r.kick()
		}, func() {
			r.mu.Lock()
			r.connects++
			r.mu.Unlock()
			r.kick()
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	r.waitConnects(t, 1)
	return r
}

func (r *recorder) kick() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

func (r *recorder) waitConnects(t *testing.T, n int) {
	t.Helper()
	r.wait(t, func() bool { return r.connects >= n }, fmt.Sprintf("%d connects", n))
}

func (r *recorder) waitN(t *testing.T, n int) []string {
	t.Helper()
	r.wait(t, func() bool { return len(r.got) >= n }, fmt.Sprintf("%d payloads", n))
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.got) != n {
		t.Fatalf("got %d payloads, want exactly %d", len(r.got), n)
	}
	return slices.Clone(r.got)
}

func (r *recorder) wait(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		ok := cond()
		got := len(r.got)
		r.mu.Unlock()
		if ok {
			// Give stray extra deliveries a moment to show up.
			return
		}
		select {
		case <-r.changed:
		case <-deadline:
			t.Fatalf("timed out waiting for %s (have %d payloads)", what, got)
		}
	}
}

// Presence is the presence shape under test.
type Presence interface {
	Connect(ctx context.Context, uid int64) (bool, error)
	Disconnect(ctx context.Context, uid int64) (bool, error)
	Online(ctx context.Context, uid int64) (bool, error)
	Heartbeat(ctx context.Context, uids []int64) error
	Sweep(ctx context.Context) ([]int64, error)
}

// RunPresence runs the presence suite; instances returns presences of
// different server instances sharing one store.
func RunPresence(t *testing.T, instances func(t *testing.T) func() Presence) {
	ctx := context.Background()
	t.Run("FirstAndLastConnectionAcrossInstances", func(t *testing.T) {
		newInst := instances(t)
		a, b := newInst(), newInst()
		const u = 42
		steps := []struct {
			name string
			do   func() (bool, error)
			want bool
		}{
			{"a connects: came online", func() (bool, error) { return a.Connect(ctx, u) }, true},
			{"b connects: already online", func() (bool, error) { return b.Connect(ctx, u) }, false},
			{"a disconnects: still online on b", func() (bool, error) { return a.Disconnect(ctx, u) }, false},
			{"online", func() (bool, error) { return a.Online(ctx, u) }, true},
			{"b disconnects: went offline", func() (bool, error) { return b.Disconnect(ctx, u) }, true},
			{"offline", func() (bool, error) { return b.Online(ctx, u) }, false},
			{"heartbeat of an offline user is harmless", func() (bool, error) { return false, a.Heartbeat(ctx, nil) }, false},
			{"nothing expired", func() (bool, error) { gone, err := a.Sweep(ctx); return len(gone) > 0, err }, false},
		}
		for _, s := range steps {
			got, err := s.do()
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			if got != s.want {
				t.Fatalf("%s: got %v, want %v", s.name, got, s.want)
			}
		}
	})
	t.Run("UsersAreIndependent", func(t *testing.T) {
		p := instances(t)()
		for _, u := range []int64{1, 2, 3} {
			if first, err := p.Connect(ctx, u); err != nil || !first {
				t.Fatalf("Connect(%d) = %v, %v", u, first, err)
			}
		}
		if last, err := p.Disconnect(ctx, 2); err != nil || !last {
			t.Fatalf("Disconnect(2) = %v, %v", last, err)
		}
		for u, want := range map[int64]bool{1: true, 2: false, 3: true, 4: false} {
			if got, err := p.Online(ctx, u); err != nil || got != want {
				t.Fatalf("Online(%d) = %v, %v; want %v", u, got, err, want)
			}
		}
	})
}

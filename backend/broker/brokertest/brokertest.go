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

	"github.com/chatapp/chat/broker"
)

// Broker is the shape under test (package broker; consumed by realtime).
type Broker interface {
	Publish(ctx context.Context, msgs ...broker.Message) error
	Subscribe(ctx context.Context, topics *broker.Topics, deliver func(broker.Message), connected func([]string)) error
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
	// Subscribes, when set, counts the subscribe commands b has sent to its
	// server so far.
	Subscribes func(b Broker) int
	// Lines is how many connections one subscription holds (0: one), each
	// reporting itself connected and each taking its own subscribe command
	// per batch of joins: a Cluster's sharded subscription holds one per
	// shard.
	Lines int
	// OrderPerTopic says that the order of one publisher's messages holds
	// within each topic only, not across topics (a Cluster: each topic's
	// channel lives on its own node).
	OrderPerTopic bool
}

// msgs makes one message per payload, all on topic.
func msgs(topic string, payloads ...string) []broker.Message {
	out := make([]broker.Message, len(payloads))
	for i, p := range payloads {
		out[i] = broker.Message{Topic: topic, Payload: []byte(p)}
	}
	return out
}

func publish(t *testing.T, b Broker, topic string, payloads ...string) {
	t.Helper()
	if err := b.Publish(context.Background(), msgs(topic, payloads...)...); err != nil {
		t.Fatalf("Publish on %s: %v", topic, err)
	}
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
		subs := []*recorder{subscribe(t, bus(), "t"), subscribe(t, bus(), "t"), subscribe(t, bus(), "t")}
		const n = 300
		for i := range n {
			publish(t, pub, "t", strconv.Itoa(i))
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
		subs := []*recorder{subscribe(t, bus(), "t"), subscribe(t, bus(), "t")}
		var want []string
		for i := range 1200 { // more than one pipeline
			want = append(want, strconv.Itoa(i))
		}
		pub := bus()
		publish(t, pub, "t", want[:1]...)
		publish(t, pub, "t", want[1:]...)
		for si, s := range subs {
			if got := s.waitN(t, len(want)); !slices.Equal(got, want) {
				t.Fatalf("subscriber %d: batch arrived out of order or incomplete", si)
			}
		}
	})

	t.Run("ConcurrentPublishersKeepTheirOwnOrder", func(t *testing.T) {
		bus := newBus(t)
		subs := []*recorder{subscribe(t, bus(), "t"), subscribe(t, bus(), "t")}
		const pubs, each = 4, 60
		var wg sync.WaitGroup
		for p := range pubs {
			b := bus()
			wg.Go(func() {
				for i := range each {
					if err := b.Publish(context.Background(), msgs("t", fmt.Sprintf("%d:%d", p, i))...); err != nil {
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
		s := subscribe(t, bus(), "t")
		payloads := []string{`{"t":"message","e":{"body":"héllo \u2028 <b>"}}`, strings.Repeat("x", 64<<10), "\x00\x01binary"}
		publish(t, bus(), "t", payloads...)
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
			done <- b.Subscribe(ctx, broker.NewTopics(0), func(broker.Message) {}, func([]string) {
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

	t.Run("ASubscriberGetsOnlyTheTopicsItJoined", func(t *testing.T) {
		bus := newBus(t)
		a, b := subscribe(t, bus(), "a"), subscribe(t, bus(), "b", "c")
		pub := bus()
		for i := range 20 {
			for _, topic := range []string{"a", "b", "c", "d"} {
				publish(t, pub, topic, fmt.Sprintf("%s%d", topic, i))
			}
		}
		// The markers come last from one publisher, one per topic: once
		// they are in, anything else would be too (with OrderPerTopic, each
		// topic's marker vouches for its own topic only).
		for _, topic := range []string{"a", "b", "c"} {
			publish(t, pub, topic, "end")
		}
		for _, c := range []struct {
			r      *recorder
			topics string
		}{{a, "a"}, {b, "bc"}} {
			got := c.r.waitCount(t, "end", len(c.topics), len(c.topics)*21)
			var want []string
			for i := range 20 {
				for _, topic := range c.topics {
					want = append(want, fmt.Sprintf("%c%d", topic, i))
				}
			}
			for range c.topics {
				want = append(want, "end")
			}
			if !opt.OrderPerTopic && !slices.Equal(got, want) {
				t.Fatalf("subscriber of %q got %q, want %q", c.topics, got, want)
			}
			for _, topic := range c.topics {
				var want []string
				for i := range 20 {
					want = append(want, fmt.Sprintf("%c%d", topic, i))
				}
				want = append(want, "end")
				if got := c.r.on(string(topic)); !slices.Equal(got, want) {
					t.Fatalf("subscriber of %q got on %c %q, want %q", c.topics, topic, got, want)
				}
			}
			if wrong := c.r.wrongTopics(); wrong != "" {
				t.Fatalf("subscriber of %q: %s", c.topics, wrong)
			}
		}
	})

	t.Run("LeaveStopsDelivery", func(t *testing.T) {
		bus := newBus(t)
		s := subscribe(t, bus(), "x", "y")
		pub := bus()
		publish(t, pub, "x", "x1")
		publish(t, pub, "y", "y1")
		s.waitN(t, 2)
		s.topics.Leave("x")
		// Changes are applied in order: once z is active, x is gone.
		s.topics.Join("z")
		s.waitActive(t, "z", 1)
		publish(t, pub, "x", "x2")
		publish(t, pub, "y", "y2")
		if got := s.waitN(t, 3); got[2] != "y2" {
			t.Fatalf("after leaving x got %q", got)
		}
		// Joining again delivers again, and is reported.
		s.topics.Join("x")
		s.waitActive(t, "x", 2)
		publish(t, pub, "x", "x3")
		if got := s.waitN(t, 4); got[3] != "x3" {
			t.Fatalf("after joining x again got %q", got)
		}
	})

	t.Run("AwaitReturnsOnceTopicsAreActive", func(t *testing.T) {
		bus := newBus(t)
		s := subscribe(t, bus())
		s.topics.Join("p", "q")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.topics.Await(ctx, "p", "q"); err != nil {
			t.Fatalf("Await: %v", err)
		}
		publish(t, bus(), "q", "q1") // no waiting for connected: active means delivered
		if got := s.waitN(t, 1); got[0] != "q1" {
			t.Fatalf("got %q", got)
		}
		short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		if err := s.topics.Await(short, "never joined"); err == nil {
			t.Fatal("Await of a topic never joined returned nil")
		}
	})

	t.Run("ALeftTopicLingers", func(t *testing.T) {
		bus := newBus(t)
		topics := broker.NewTopics(time.Hour)
		topics.Join("x")
		s := subscribeTo(t, bus(), topics)
		topics.Leave("x")
		topics.Join("y")
		s.waitActive(t, "y", 1)
		publish(t, bus(), "x", "still")
		if got := s.waitN(t, 1); got[0] != "still" {
			t.Fatalf("got %q", got)
		}
	})

	t.Run("JoinsAreBatched", func(t *testing.T) {
		bus := newBus(t)
		s := subscribe(t, bus())
		b := s.b
		lines := max(opt.Lines, 1)
		s.waitConnects(t, lines) // every connection is up: what follows is joins only
		before := 0
		if opt.Subscribes != nil {
			before = opt.Subscribes(b)
		}
		const n = 300
		for i := range n {
			s.topics.Join("t" + strconv.Itoa(i)) // one at a time, as connections arrive
		}
		for i := range n {
			s.waitActive(t, "t"+strconv.Itoa(i), 1)
		}
		if opt.Subscribes != nil {
			if cmds := opt.Subscribes(b) - before; cmds > 3*lines {
				t.Fatalf("%d joins took %d subscribe commands, want at most %d", n, cmds, 3*lines)
			}
		}
		pub := bus()
		for i := range n {
			publish(t, pub, "t"+strconv.Itoa(i), strconv.Itoa(i))
		}
		s.waitN(t, n)
	})

	if opt.Disconnect != nil {
		t.Run("ReconnectsAndResubscribesEveryTopic", func(t *testing.T) {
			bus := newBus(t)
			b := bus()
			s := subscribe(t, b, "a", "b")
			publish(t, bus(), "a", "before")
			s.waitN(t, 1)
			opt.Disconnect(t, b)
			s.waitConnects(t, 2)
			s.waitActive(t, "a", 2)
			s.waitActive(t, "b", 2)
			publish(t, bus(), "a", "after a")
			publish(t, bus(), "b", "after b")
			got := s.waitN(t, 3)
			if opt.OrderPerTopic && got[1] == "after b" {
				got[1], got[2] = got[2], got[1]
			}
			if got[1] != "after a" || got[2] != "after b" {
				t.Fatalf("after reconnect got %q", got)
			}
		})
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

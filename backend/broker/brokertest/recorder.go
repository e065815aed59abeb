package brokertest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chatapp/chat/broker"
)

// recorder is a running subscription that records what it receives.
type recorder struct {
	b      Broker
	topics *broker.Topics

	mu       sync.Mutex
	got      []string
	gotOn    []string // the topic of each
	connects int
	active   map[string]int // topic → times reported active
	changed  chan struct{}
}

// subscribe subscribes b to topics (left topics do not linger) and waits
// until they are active.
func subscribe(t *testing.T, b Broker, topics ...string) *recorder {
	t.Helper()
	set := broker.NewTopics(0)
	set.Join(topics...)
	r := subscribeTo(t, b, set)
	for _, topic := range topics {
		r.waitActive(t, topic, 1)
	}
	return r
}

func subscribeTo(t *testing.T, b Broker, topics *broker.Topics) *recorder {
	t.Helper()
	r := &recorder{b: b, topics: topics, active: make(map[string]int), changed: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = b.Subscribe(ctx, topics, func(m broker.Message) {
			r.mu.Lock()
			r.got = append(r.got, string(m.Payload))
			r.gotOn = append(r.gotOn, m.Topic)
			r.mu.Unlock()
			r.kick()
		}, func(topics []string) {
			r.mu.Lock()
			if len(topics) == 0 {
				r.connects++
			}
			for _, topic := range topics {
				r.active[topic]++
			}
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

// waitConnects waits for the subscription to be (re)established n times.
func (r *recorder) waitConnects(t *testing.T, n int) {
	t.Helper()
	r.wait(t, func() bool { return r.connects >= n }, fmt.Sprintf("%d connects", n))
}

// waitActive waits until topic was reported active n times.
func (r *recorder) waitActive(t *testing.T, topic string, n int) {
	t.Helper()
	r.wait(t, func() bool { return r.active[topic] >= n }, fmt.Sprintf("topic %s active %d times", topic, n))
}

func (r *recorder) waitN(t *testing.T, n int) []string {
	t.Helper()
	r.wait(t, func() bool { return len(r.got) >= n }, fmt.Sprintf("%d payloads", n))
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.got) != n {
		t.Fatalf("got %d payloads, want exactly %d: %q", len(r.got), n, r.got)
	}
	return slices.Clone(r.got)
}

// waitFor waits for a payload equal to last (at most max payloads).
func (r *recorder) waitFor(t *testing.T, last string, max int) []string {
	t.Helper()
	r.wait(t, func() bool { return slices.Contains(r.got, last) || len(r.got) > max }, fmt.Sprintf("payload %q", last))
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// waitCount waits for n payloads equal to last (at most max payloads).
func (r *recorder) waitCount(t *testing.T, last string, n, max int) []string {
	t.Helper()
	count := func() int {
		k := 0
		for _, p := range r.got {
			if p == last {
				k++
			}
		}
		return k
	}
	r.wait(t, func() bool { return count() >= n || len(r.got) > max }, fmt.Sprintf("%d payloads %q", n, last))
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// on returns the payloads that arrived on topic, in order.
func (r *recorder) on(topic string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for i, p := range r.got {
		if r.gotOn[i] == topic {
			out = append(out, p)
		}
	}
	return out
}

// wrongTopics describes payloads whose topic is not their first letter's.
func (r *recorder) wrongTopics() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, p := range r.got {
		if p != "end" && r.gotOn[i] != p[:1] {
			return fmt.Sprintf("payload %q arrived on topic %q", p, r.gotOn[i])
		}
	}
	return ""
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
			return
		}
		select {
		case <-r.changed:
		case <-deadline:
			t.Fatalf("timed out waiting for %s (have %d payloads)", what, got)
		}
	}
}

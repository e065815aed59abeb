package broker

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Message is one payload published on one topic. A payload that several
// topics need is published once per topic; a subscriber holding several of
// them receives it once per topic (the consumer decides what each delivery
// is for).
type Message struct {
	Topic   string
	Payload []byte
}

// Topics is the set of topics one subscription wants, changed by its owner
// at any time from any goroutine. The subscription follows it in batches:
// every change made while it is applying the previous batch (or within
// Batch of the first change) goes out as one SUBSCRIBE and one
// UNSUBSCRIBE. A topic left is held Linger longer, so that a user who
// reconnects at once, or a group whose last member on the instance hops
// between connections, does not cost two commands and a re-sync.
//
// One subscription follows one Topics at a time. It reports the topics it
// has in place (Await waits for them).
type Topics struct {
	linger time.Duration

	mu      sync.Mutex
	refs    map[string]int       // joined topics, with their join count
	leaving map[string]time.Time // topics no longer joined: held until then
	changed chan struct{}        // capacity 1: a change is waiting
	// active are the topics the subscription reported in place; activated
	// is closed (and replaced) whenever some become active.
	active    map[string]struct{}
	activated chan struct{}
	// broken counts the subscription's connections that are lost (their
	// topics carry nothing until they are back): one, or a Cluster's
	// shards (which topics each carries is not tracked: any lost one
	// makes every topic not active).
	broken int
}

// DefaultLinger is how long a topic left stays subscribed.
const DefaultLinger = 5 * time.Second

// Batch is how long a subscription waits after a change for more, so that
// many joins (a burst of connections) cost one command.
const Batch = 2 * time.Millisecond

// NewTopics returns an empty set whose left topics linger for linger
// (0: at once).
func NewTopics(linger time.Duration) *Topics {
	return &Topics{
		linger: max(linger, 0), refs: make(map[string]int), leaving: make(map[string]time.Time), changed: make(chan struct{}, 1),
		active: make(map[string]struct{}), activated: make(chan struct{}),
	}
}

// Await waits until every one of topics is active (their messages reach
// the subscription), or ctx ends. The caller has joined them.
func (t *Topics) Await(ctx context.Context, topics ...string) error {
	for {
		t.mu.Lock()
		missing := slices.ContainsFunc(topics, func(name string) bool {
			_, ok := t.active[name]
			return !ok
		})
		ch := t.activated
		t.mu.Unlock()
		if !missing {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("broker: waiting for topics: %w", ctx.Err())
		case <-ch:
		}
	}
}

// Active tells whether the subscription has topic in place now and its
// connection is not known to be lost: what is published on it reaches the
// subscriber.
func (t *Topics) Active(topic string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.active[topic]
	return ok && t.broken == 0
}

// setBroken records that one of the subscription's connections is lost
// (true) or established again (false).
func (t *Topics) setBroken(v bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if v {
		t.broken++
	} else if t.broken > 0 {
		t.broken--
	}
}

// activate records topics the subscription has in place (a topic no longer
// wanted is not: its confirmation came late).
func (t *Topics) activate(topics []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, name := range topics {
		_, joined := t.refs[name]
		_, lingers := t.leaving[name]
		if joined || lingers {
			t.active[name] = struct{}{}
		}
	}
	close(t.activated)
	t.activated = make(chan struct{})
}

// deactivate records topics the subscription is dropping.
func (t *Topics) deactivate(topics []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, name := range topics {
		delete(t.active, name)
	}
}

// Join adds one reference to each topic.
func (t *Topics) Join(topics ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, name := range topics {
		t.refs[name]++
		delete(t.leaving, name)
	}
	t.kick()
}

// Leave drops one reference to each topic; a topic with none left is
// unsubscribed after the linger.
func (t *Topics) Leave(topics ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	for _, name := range topics {
		n, ok := t.refs[name]
		if !ok {
			continue
		}
		if n > 1 {
			t.refs[name] = n - 1
			continue
		}
		delete(t.refs, name)
		t.leaving[name] = now.Add(t.linger)
	}
	t.kick()
}

func (t *Topics) kick() {
	select {
	case t.changed <- struct{}{}:
	default:
	}
}

// Changed receives a value after a change (the subscription then reads
// Wanted).
func (t *Topics) Changed() <-chan struct{} { return t.changed }

// Wanted returns the topics to hold now, sorted, and when the next lingering
// one runs out (zero: none lingers).
func (t *Topics) Wanted() ([]string, time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	want := make([]string, 0, len(t.refs)+len(t.leaving))
	for name := range t.refs {
		want = append(want, name)
	}
	var next time.Time
	for name, until := range t.leaving {
		if !until.After(now) {
			delete(t.leaving, name)
			continue
		}
		want = append(want, name)
		if next.IsZero() || until.Before(next) {
			next = until
		}
	}
	slices.Sort(want)
	return want, next
}

// diff returns the topics of want missing from have and those of have
// missing from want.
func diff(have map[string]struct{}, want []string) (added, removed []string) {
	keep := make(map[string]struct{}, len(want))
	for _, name := range want {
		keep[name] = struct{}{}
		if _, ok := have[name]; !ok {
			added = append(added, name)
		}
	}
	for name := range have {
		if _, ok := keep[name]; !ok {
			removed = append(removed, name)
		}
	}
	slices.Sort(removed)
	return added, removed
}

// follow runs apply with the topic changes of t until ctx's done closes:
// once at the start (with every wanted topic), then after each change, after
// waiting Batch for more, and whenever a lingering topic runs out.
func follow(done <-chan struct{}, t *Topics, apply func(added, removed []string)) {
	have := make(map[string]struct{})
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	defer linger.Stop()
	batch := time.NewTimer(time.Hour)
	batch.Stop()
	defer batch.Stop()
	step := func() {
		want, next := t.Wanted()
		added, removed := diff(have, want)
		for _, name := range added {
			have[name] = struct{}{}
		}
		for _, name := range removed {
			delete(have, name)
		}
		if len(removed) > 0 {
			t.deactivate(removed)
		}
		if len(added) > 0 || len(removed) > 0 {
			apply(added, removed)
		}
		linger.Stop()
		if !next.IsZero() {
			linger.Reset(time.Until(next))
		}
	}
	// A new subscription has nothing in place yet, whatever an earlier
	// one had.
	t.mu.Lock()
	clear(t.active)
	t.mu.Unlock()
	step()
	for {
		select {
		case <-done:
			return
		case <-t.Changed():
			batch.Reset(Batch)
			select {
			case <-done:
				return
			case <-batch.C:
			}
		case <-linger.C:
		}
		step()
	}
}

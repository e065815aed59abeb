package broker_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/chatapp/chat/broker"
)

// liveSub is a subscription of a test, recording what it receives.
type liveSub struct {
	mu     sync.Mutex
	got    []string
	active map[string]int
	kick   chan struct{}
}

func subscribeLive(t *testing.T, b *broker.Redis, topics ...string) *liveSub {
	t.Helper()
	s := &liveSub{active: make(map[string]int), kick: make(chan struct{}, 1)}
	set := broker.NewTopics(0)
	set.Join(topics...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = b.Subscribe(ctx, set, func(m broker.Message) {
			s.mu.Lock()
			s.got = append(s.got, string(m.Payload))
			s.mu.Unlock()
			s.signal()
		}, func(active []string) {
			s.mu.Lock()
			for _, topic := range active {
				s.active[topic]++
			}
			s.mu.Unlock()
			s.signal()
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	for _, topic := range topics {
		s.wait(t, fmt.Sprintf("%s active", topic), func() bool { return s.active[topic] >= 1 })
	}
	return s
}

func (s *liveSub) signal() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *liveSub) wait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		s.mu.Lock()
		ok := cond()
		s.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-s.kick:
		case <-deadline:
			s.mu.Lock()
			defer s.mu.Unlock()
			t.Fatalf("timed out waiting for %s (got %q, active %v)", what, s.got, s.active)
		}
	}
}

// clusterNodes maps each master's node id to its client.
func clusterNodes(t *testing.T, c *redis.ClusterClient) map[string]*redis.Client {
	t.Helper()
	ctx := context.Background()
	var mu sync.Mutex
	nodes := map[string]*redis.Client{}
	err := c.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
		id, err := n.Do(ctx, "CLUSTER", "MYID").Text()
		mu.Lock()
		nodes[id] = n
		mu.Unlock()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return nodes
}

// moveSlot gives slot (with its keys) from node from to node to, as a
// resharding does.
func moveSlot(ctx context.Context, nodes map[string]*redis.Client, slot int, from, to string) error {
	src, dst := nodes[from], nodes[to]
	if err := dst.Do(ctx, "CLUSTER", "SETSLOT", slot, "IMPORTING", from).Err(); err != nil {
		return fmt.Errorf("importing: %w", err)
	}
	if err := src.Do(ctx, "CLUSTER", "SETSLOT", slot, "MIGRATING", to).Err(); err != nil {
		return fmt.Errorf("migrating: %w", err)
	}
	host, port, _ := strings.Cut(dst.Options().Addr, ":")
	for {
		keys, err := src.ClusterGetKeysInSlot(ctx, slot, 100).Result()
		if err != nil {
			return fmt.Errorf("keys in slot: %w", err)
		}
		if len(keys) == 0 {
			break
		}
		args := []any{"MIGRATE", host, port, "", 0, 5000, "KEYS"}
		for _, k := range keys {
			args = append(args, k)
		}
		if err := src.Do(ctx, args...).Err(); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	// The new owner first, then the old one, then the others (the order
	// redis-cli --cluster reshard uses).
	order := []string{to, from}
	for id := range nodes {
		if id != to && id != from {
			order = append(order, id)
		}
	}
	for _, id := range order {
		if err := nodes[id].Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", to).Err(); err != nil {
			return fmt.Errorf("setslot node on %s: %w", id, err)
		}
	}
	return nil
}

// When the slot of a shard's channels moves to another master (a
// resharding), Redis drops those sharded subscriptions on the old owner;
// the subscription subscribes them again on the new owner and reports the
// topic active again (the consumer re-reads what it missed), and messages
// flow again.
func TestRedisClusterShardFollowsItsSlotToAnotherNode(t *testing.T) {
	url := redisURLOf(t, "TEST_REDIS_CLUSTER_URL")
	ctx := context.Background()
	admin := newSetupClient(t, url, "", nil).(*redis.ClusterClient)
	prefix := "clustertest:" + unique(t)
	pub := broker.NewRedis(newSetupClient(t, url, "", nil), prefix, nil)
	sub := broker.NewRedis(newSetupClient(t, url, "", nil), prefix, nil)
	s := subscribeLive(t, sub, "t")
	if err := pub.Publish(ctx, broker.Message{Topic: "t", Payload: []byte("before")}); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "before", func() bool { return slices.Contains(s.got, "before") })

	nodes := clusterNodes(t, admin)
	owner, slot := shardOfTopic(t, nodes, prefix, "t")
	target := moveSlotAway(t, nodes, slot, owner)

	s.wait(t, "t active again", func() bool { return s.active["t"] >= 2 })
	if now, _ := shardOfTopic(t, nodes, prefix, "t"); now != target {
		t.Fatalf("the channel of t is on %s, want the new owner %s", now, target)
	}
	// The publisher's client learns the move from a MOVED reply.
	if err := pub.Publish(ctx, broker.Message{Topic: "t", Payload: []byte("after")}); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "after", func() bool { return slices.Contains(s.got, "after") })
}

// A subscription whose client still believes the old owner holds the slot
// gets MOVED for its SSUBSCRIBE: it subscribes again on the new owner.
func TestRedisClusterSubscribeFollowsAMovedReply(t *testing.T) {
	url := redisURLOf(t, "TEST_REDIS_CLUSTER_URL")
	ctx := context.Background()
	admin := newSetupClient(t, url, "", nil).(*redis.ClusterClient)
	prefix := "clustertest:" + unique(t)
	nodes := clusterNodes(t, admin)
	owner, slot := shardOfTopic(t, nodes, prefix, "t")
	// The subscriber's client reads the slot map now, before the move.
	stale := newSetupClient(t, url, "", nil)
	if err := stale.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	target := moveSlotAway(t, nodes, slot, owner)
	s := subscribeLive(t, broker.NewRedis(stale, prefix, nil), "t")
	pub := broker.NewRedis(newSetupClient(t, url, "", nil), prefix, nil)
	if err := pub.Publish(ctx, broker.Message{Topic: "t", Payload: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "x", func() bool { return slices.Contains(s.got, "x") })
	if now, _ := shardOfTopic(t, nodes, prefix, "t"); now != target {
		t.Fatalf("the channel of t is on %s, want the new owner %s", now, target)
	}
}

// shardOfTopic returns the master holding the channel of topic (under
// prefix) and its slot, found by subscribing to it for a moment.
func shardOfTopic(t *testing.T, nodes map[string]*redis.Client, prefix, topic string) (string, int) {
	t.Helper()
	ctx := context.Background()
	url := redisURLOf(t, "TEST_REDIS_CLUSTER_URL")
	probe := broker.NewRedis(newSetupClient(t, url, "", nil), prefix, nil)
	set := broker.NewTopics(0)
	set.Join(topic)
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = probe.Subscribe(sctx, set, func(broker.Message) {}, func([]string) {})
	}()
	defer func() {
		cancel()
		<-done
	}()
	actx, acancel := context.WithTimeout(ctx, 10*time.Second)
	defer acancel()
	if err := set.Await(actx, topic); err != nil {
		t.Fatal(err)
	}
	for id, n := range nodes {
		chs, err := n.PubSubShardChannels(ctx, "*"+prefix+"*").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range chs {
			if strings.HasSuffix(ch, "}:"+topic) {
				slot, err := n.ClusterKeySlot(ctx, ch).Result()
				if err != nil {
					t.Fatal(err)
				}
				return id, int(slot)
			}
		}
	}
	t.Fatalf("no master lists the channel of %s", topic)
	return "", 0
}

// moveSlotAway moves slot from owner to another master, which it returns,
// and back when the test ends.
func moveSlotAway(t *testing.T, nodes map[string]*redis.Client, slot int, owner string) string {
	t.Helper()
	var target string
	for id := range nodes {
		if id != owner {
			target = id
			break
		}
	}
	if err := moveSlot(context.Background(), nodes, slot, owner, target); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := moveSlot(context.Background(), nodes, slot, target, owner); err != nil {
			t.Errorf("moving slot %d back: %v", slot, err)
		}
	})
	return target
}

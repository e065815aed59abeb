package broker_test

import (
	"context"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/chatapp/chat/broker"
)

// After a Sentinel failover (the replica promoted, the old master made its
// replica, its pub/sub clients cut by the sentinel), the subscription
// follows the new master: it reports the topic active again (the consumer
// re-reads what it missed), and a publish through the failover client
// reaches it.
func TestRedisSentinelFailoverKeepsPublishAndSubscribeWorking(t *testing.T) {
	raw := redisURLOf(t, "TEST_REDIS_SENTINEL_URL")
	ctx := context.Background()
	cfg, err := broker.ParseRedisURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	sentinel := redis.NewSentinelClient(&redis.Options{Addr: u.Host})
	t.Cleanup(func() { _ = sentinel.Close() })
	master := func() string {
		addr, err := sentinel.GetMasterAddrByName(ctx, cfg.Sentinel.MasterName).Result()
		if err != nil {
			t.Fatal(err)
		}
		return addr[0] + ":" + addr[1]
	}
	prefix := "sentineltest:" + unique(t)
	pub := broker.NewRedis(newSetupClient(t, raw, "", nil), prefix, nil)
	sub := broker.NewRedis(newSetupClient(t, raw, "", nil), prefix, nil)
	s := subscribeLive(t, sub, "t")
	if err := pub.Publish(ctx, broker.Message{Topic: "t", Payload: []byte("before")}); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "before", func() bool { return slices.Contains(s.got, "before") })

	start := time.Now()
	old := master()
	// The replica must have caught up, or the sentinel refuses ("NOGOODSLAVE").
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := sentinel.Failover(ctx, cfg.Sentinel.MasterName).Err()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("SENTINEL FAILOVER: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for master() == old {
		if time.Now().After(deadline) {
			t.Fatalf("the master is still %s", old)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("new master after %v", time.Since(start))
	s.wait(t, "t active again", func() bool { return s.active["t"] >= 2 })
	t.Logf("subscribed again after %v", time.Since(start))
	// A publish may fail while the clients switch over; the caller retries
	// (package realtime does), and the first that succeeds arrives.
	for {
		err := pub.Publish(ctx, broker.Message{Topic: "t", Payload: []byte("after")})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("publish after the failover: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.wait(t, "after", func() bool { return slices.Contains(s.got, "after") })
	t.Logf("delivered after %v", time.Since(start))
}

package broker_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/chatapp/chat/broker"
	"github.com/chatapp/chat/broker/brokertest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestMemoryBroker(t *testing.T) {
	brokertest.Run(t, func(t *testing.T) brokertest.Bus {
		m := broker.NewMemory()
		t.Cleanup(func() { _ = m.Close() })
		return func() brokertest.Broker { return m }
	}, brokertest.Options{})
}

// The Redis broker passes the suite on each Redis setup REDIS_URL can name:
// one node (classic pub/sub), a Sentinel master (classic pub/sub through
// the failover client) and a Cluster (sharded pub/sub).
func TestRedisBroker(t *testing.T) {
	for _, setup := range redisSetups {
		t.Run(setup.name, func(t *testing.T) {
			url := redisURLOf(t, setup.env)
			var mu sync.Mutex
			clients := map[brokertest.Broker]*countingClient{}
			of := func(b brokertest.Broker) *countingClient {
				mu.Lock()
				defer mu.Unlock()
				return clients[b]
			}
			opt := brokertest.Options{
				Disconnect: func(t *testing.T, b brokertest.Broker) { killSubscriptions(t, url, of(b).name) },
				Subscribes: func(b brokertest.Broker) int { return int(of(b).subscribes.Load()) },
			}
			if setup.sharded {
				opt.Lines, opt.OrderPerTopic = broker.ClusterShards, true
			}
			brokertest.Run(t, func(t *testing.T) brokertest.Bus {
				prefix := "brokertest:" + unique(t)
				return func() brokertest.Broker {
					c := newCountingClient(t, url, "brokertest-"+unique(t))
					b := broker.NewRedis(c.UniversalClient, prefix, nil)
					mu.Lock()
					clients[b] = c
					mu.Unlock()
					return b
				}
			}, opt)
		})
	}
}

// redisSetups are the Redis setups the tests run on, each named by its
// environment variable (scripts/redis-topologies.sh starts the last two).
var redisSetups = []struct {
	name, env string
	sharded   bool
}{
	{"Node", "TEST_REDIS_URL", false},
	{"Sentinel", "TEST_REDIS_SENTINEL_URL", false},
	{"Cluster", "TEST_REDIS_CLUSTER_URL", true},
}

func TestFaultyBrokerPassesTheSuiteWhenDroppingNothing(t *testing.T) {
	brokertest.Run(t, func(t *testing.T) brokertest.Bus {
		m := broker.NewMemory()
		t.Cleanup(func() { _ = m.Close() })
		f := broker.NewFaulty(m, 0, 1)
		return func() brokertest.Broker { return f }
	}, brokertest.Options{})
}

func TestFaultyDropsTheChosenFractionDeterministically(t *testing.T) {
	tests := []struct {
		num, den, publishes, wantDropped int
	}{
		{1, 5, 100, 20},
		{1, 3, 10, 3},
		{2, 7, 70, 20},
		{0, 4, 50, 0},
		{4, 4, 12, 12},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d_of_%d", tc.num, tc.den), func(t *testing.T) {
			run := func() []string {
				m := broker.NewMemory()
				defer func() { _ = m.Close() }()
				f := broker.NewFaulty(m, tc.num, tc.den)
				var got []string // the subscriber's until end is closed
				end := make(chan struct{})
				ctx, cancel := context.WithCancel(context.Background())
				connected := make(chan struct{})
				done := make(chan struct{})
				topics := broker.NewTopics(0)
				topics.Join("t")
				go func() {
					defer close(done)
					_ = f.Subscribe(ctx, topics, func(m broker.Message) {
						if string(m.Payload) == "end" {
							close(end)
							return
						}
						got = append(got, string(m.Payload))
					}, func(active []string) {
						if slices.Contains(active, "t") {
							close(connected)
						}
					})
				}()
				<-connected
				for i := range tc.publishes {
					if err := f.Publish(context.Background(), broker.Message{Topic: "t", Payload: fmt.Appendf(nil, "%d", i)}); err != nil {
						t.Fatalf("Publish: %v", err)
					}
				}
				if f.Dropped() != tc.wantDropped {
					t.Fatalf("Dropped() = %d, want %d", f.Dropped(), tc.wantDropped)
				}
				// The memory broker delivers in order: once a marker
				// published past the faulty one arrives, every payload
				// that was not dropped has arrived too.
				if err := m.Publish(context.Background(), broker.Message{Topic: "t", Payload: []byte("end")}); err != nil {
					t.Fatal(err)
				}
				select {
				case <-end:
				case <-time.After(5 * time.Second):
					t.Fatal("the end marker never arrived")
				}
				cancel()
				<-done
				if want := tc.publishes - tc.wantDropped; len(got) != want {
					t.Fatalf("delivered %d, want %d", len(got), want)
				}
				return got
			}
			first, second := run(), run()
			if strings.Join(first, ",") != strings.Join(second, ",") {
				t.Fatalf("drops are not deterministic:\n%v\n%v", first, second)
			}
		})
	}
}

func TestMemoryBrokerSignalsLossWhenASubscriberFallsBehind(t *testing.T) {
	m := broker.NewMemorySize(4)
	defer func() { _ = m.Close() }()
	release := make(chan struct{})
	taken := make(chan struct{}, 1) // the subscriber holds a payload
	after := make(chan struct{})    // the payload published after the loss arrived
	var mu sync.Mutex
	var got []string
	connects := 0
	connected := make(chan struct{}, 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	topics := broker.NewTopics(0)
	topics.Join("t")
	go func() {
		defer close(done)
		_ = m.Subscribe(ctx, topics, func(msg broker.Message) {
			p := msg.Payload
			select {
			case taken <- struct{}{}:
			default:
			}
			<-release
			mu.Lock()
			got = append(got, string(p))
			mu.Unlock()
			if string(p) == "after" {
				close(after)
			}
		}, func(active []string) {
			if !slices.Contains(active, "t") {
				return // the subscription is in place; the topic not yet
			}
			mu.Lock()
			connects++
			mu.Unlock()
			connected <- struct{}{}
		})
	}()
	<-connected
	// The first payload blocks the subscriber; the next ones overflow its
	// buffer of 4.
	for i := range 10 {
		if err := m.Publish(context.Background(), broker.Message{Topic: "t", Payload: fmt.Appendf(nil, "%d", i)}); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			<-taken // the subscriber holds it: the next ones queue
		}
	}
	close(release)
	select {
	case <-connected:
	case <-time.After(5 * time.Second):
		t.Fatal("no re-sync signal after the buffer overflowed")
	}
	if err := m.Publish(context.Background(), broker.Message{Topic: "t", Payload: []byte("after")}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-after:
	case <-time.After(5 * time.Second):
		t.Fatal("payload after the loss not delivered")
	}
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if connects != 2 {
		t.Fatalf("connects = %d, want 2", connects)
	}
	if len(got) >= 11 {
		t.Fatalf("nothing was lost (%d delivered), the test did not overflow", len(got))
	}
}

func TestMemoryBrokerClose(t *testing.T) {
	m := broker.NewMemory()
	ctx := context.Background()
	done := make(chan error, 1)
	connected := make(chan struct{})
	go func() {
		done <- m.Subscribe(ctx, broker.NewTopics(0), func(broker.Message) {}, func([]string) { close(connected) })
	}()
	<-connected
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Subscribe did not end on Close")
	}
	checks := []struct {
		name string
		err  error
	}{
		{"Publish", m.Publish(ctx, broker.Message{Topic: "t", Payload: []byte("x")})},
		{"Ping", m.Ping(ctx)},
		{"Subscribe", m.Subscribe(ctx, broker.NewTopics(0), func(broker.Message) {}, func([]string) {})},
	}
	for _, c := range checks {
		if !errors.Is(c.err, broker.ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", c.name, c.err)
		}
	}
}

func TestMemoryPresence(t *testing.T) {
	brokertest.RunPresence(t, func(t *testing.T) func() brokertest.Presence {
		p := broker.NewMemoryPresence()
		return func() brokertest.Presence { return p }
	})
}

func TestRedisPresence(t *testing.T) {
	url := redisURL(t)
	brokertest.RunPresence(t, func(t *testing.T) func() brokertest.Presence {
		prefix := "presencetest:" + unique(t)
		client := newClient(t, url, "")
		return func() brokertest.Presence {
			p, err := broker.NewRedisPresence(client, prefix)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
	})
}

// A dead instance stops heartbeating; the survivors' sweep reports its users
// offline once the entries expire, exactly once, and keeps live ones.
func TestRedisPresenceExpiresADeadInstance(t *testing.T) {
	url := redisURL(t)
	ctx := context.Background()
	client := newClient(t, url, "")
	prefix := "presencetest:" + unique(t)
	t0 := time.Now()
	now := t0
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	mk := func() *broker.RedisPresence {
		p, err := broker.NewRedisPresence(client, prefix)
		if err != nil {
			t.Fatal(err)
		}
		p.Clock = clock
		return p
	}
	dead, alive := mk(), mk()
	for _, u := range []int64{1, 2} {
		if _, err := dead.Connect(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := alive.Connect(ctx, 2); err != nil {
		t.Fatal(err)
	}
	advance(40 * time.Second)
	if err := alive.Heartbeat(ctx, []int64{2}); err != nil {
		t.Fatal(err)
	}
	if gone, err := alive.Sweep(ctx); err != nil || len(gone) != 0 {
		t.Fatalf("sweep before expiry = %v, %v", gone, err)
	}
	advance(25 * time.Second) // dead's entries (60 s) ran out; alive's did not
	gone, err := alive.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(gone) != 1 || gone[0] != 1 {
		t.Fatalf("sweep = %v, want [1]", gone)
	}
	if again, err := mk().Sweep(ctx); err != nil || len(again) != 0 {
		t.Fatalf("second sweep = %v, %v; want nothing", again, err)
	}
	for u, want := range map[int64]bool{1: false, 2: true} {
		if got, err := alive.Online(ctx, u); err != nil || got != want {
			t.Fatalf("Online(%d) = %v, %v; want %v", u, got, err, want)
		}
	}
	// User 1 reconnecting after the expiry is a new "came online".
	if first, err := alive.Connect(ctx, 1); err != nil || !first {
		t.Fatalf("Connect after expiry = %v, %v; want true", first, err)
	}
}

func redisURL(t *testing.T) string {
	t.Helper()
	return redisURLOf(t, "TEST_REDIS_URL")
}

// redisURLOf reads the REDIS_URL of a test setup from env: required in CI.
func redisURLOf(t *testing.T, env string) string {
	t.Helper()
	url := os.Getenv(env)
	if url == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set (required in CI; scripts/redis-topologies.sh starts the Sentinel and Cluster setups)", env)
		}
		t.Skipf("%s is not set", env)
	}
	return url
}

func newClient(t *testing.T, url, name string) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("TEST_REDIS_URL: %v", err)
	}
	opt.ClientName = name
	c := redis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// newSetupClient returns a client of the setup url names (any REDIS_URL
// form), named name on the server, dialing through dial when it is set.
func newSetupClient(t *testing.T, url, name string, dial func(ctx context.Context, network, addr string) (net.Conn, error)) redis.UniversalClient {
	t.Helper()
	cfg, err := broker.ParseRedisURL(url)
	if err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	switch {
	case cfg.Node != nil:
		cfg.Node.ClientName, cfg.Node.Dialer = name, dial
	case cfg.Sentinel != nil:
		cfg.Sentinel.ClientName, cfg.Sentinel.Dialer = name, dial
	case cfg.Cluster != nil:
		cfg.Cluster.ClientName, cfg.Cluster.Dialer = name, dial
	}
	c := cfg.Client()
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// eachNode runs fn on every master of c (one for a node or a Sentinel
// master, each shard's for a Cluster).
func eachNode(ctx context.Context, c redis.UniversalClient, fn func(ctx context.Context, node *redis.Client) error) error {
	if cl, ok := c.(*redis.ClusterClient); ok {
		return cl.ForEachMaster(ctx, fn)
	}
	return fn(ctx, c.(*redis.Client))
}

func unique(t *testing.T) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

// countingClient is a Redis client that counts the SUBSCRIBE commands it
// writes (go-redis's hooks do not see a subscription's commands; the bytes
// on the socket do).
type countingClient struct {
	redis.UniversalClient
	name       string
	subscribes atomic.Int64
}

func newCountingClient(t *testing.T, url, name string) *countingClient {
	t.Helper()
	c := &countingClient{name: name}
	var d net.Dialer
	c.UniversalClient = newSetupClient(t, url, name, func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &countingConn{Conn: conn, n: &c.subscribes}, nil
	})
	return c
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

// subscribeCmds are how the commands' names go on the wire (RESP), whole in
// one write (go-redis writes each command from one buffer): SUBSCRIBE and
// the sharded SSUBSCRIBE.
var subscribeCmds = [][]byte{[]byte("$9\r\nsubscribe\r\n"), []byte("$10\r\nssubscribe\r\n")}

func (c *countingConn) Write(p []byte) (int, error) {
	lower := bytes.ToLower(p)
	for _, cmd := range subscribeCmds {
		c.n.Add(int64(bytes.Count(lower, cmd)))
	}
	return c.Conn.Write(p)
}

// killSubscriptions cuts the pub/sub connections of the client named name
// on the server side (every master of the setup url names), as a network
// failure or a Redis restart would.
func killSubscriptions(t *testing.T, url, name string) {
	t.Helper()
	admin := newSetupClient(t, url, "", nil)
	ctx := context.Background()
	var killed atomic.Int64
	err := eachNode(ctx, admin, func(ctx context.Context, node *redis.Client) error {
		list, err := node.ClientList(ctx).Result()
		if err != nil {
			return err
		}
		for _, line := range strings.Split(list, "\n") {
			if !strings.Contains(line, " name="+name+" ") || (strings.Contains(line, " sub=0 ") && strings.Contains(line, " ssub=0 ")) {
				continue
			}
			for _, f := range strings.Fields(line) {
				if id, ok := strings.CutPrefix(f, "id="); ok {
					if err := node.Do(ctx, "CLIENT", "KILL", "ID", id).Err(); err != nil {
						return err
					}
					killed.Add(1)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if killed.Load() == 0 {
		t.Fatalf("no subscription of %q found to kill", name)
	}
}

// go-redis's own messages come out as structured records, not plain text.
func TestRedisLoggerWritesStructuredRecords(t *testing.T) {
	var buf bytes.Buffer
	l := broker.RedisLogger{Log: slog.New(slog.NewJSONHandler(&buf, nil))}
	l.Printf(context.Background(), "connection pool: failed to dial after %d attempts: %v", 5, "refused")
	var rec struct{ Level, Msg, Component string }
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("not one JSON record: %q", buf.String())
	}
	if rec.Level != "WARN" || rec.Component != "go-redis" || rec.Msg != "redis: connection pool: failed to dial after 5 attempts: refused" {
		t.Fatalf("record = %+v", rec)
	}
}

// A topic is not Active while the subscription's connection is lost (what
// is published then never arrives), and is again once it is back; on a
// Cluster, while any of its shards' connections is lost, even when the
// others are back.
func TestRedisTopicsAreNotActiveWhileTheConnectionIsLost(t *testing.T) {
	for _, setup := range redisSetups {
		t.Run(setup.name, func(t *testing.T) {
			url := redisURLOf(t, setup.env)
			name := "brokertest-" + unique(t)
			// refused is the address dials are refused to: "*" every one.
			var refused atomic.Value
			refused.Store("")
			var d net.Dialer
			client := newSetupClient(t, url, name, func(ctx context.Context, network, addr string) (net.Conn, error) {
				if r := refused.Load().(string); r == "*" || r == addr {
					return nil, errors.New("the test refuses connections")
				}
				return d.DialContext(ctx, network, addr)
			})
			b := broker.NewRedis(client, "brokertest:"+unique(t), nil)
			topics := broker.NewTopics(0)
			topics.Join("a")
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- b.Subscribe(ctx, topics, func(broker.Message) {}, func([]string) {}) }()
			t.Cleanup(func() {
				cancel()
				<-done
			})
			waitActive := func(want bool) {
				t.Helper()
				deadline := time.Now().Add(20 * time.Second)
				for topics.Active("a") != want {
					if time.Now().After(deadline) {
						t.Fatalf("Active = %v for 20 s, want %v", !want, want)
					}
					time.Sleep(5 * time.Millisecond)
				}
			}
			waitActive(true)
			refused.Store("*")
			killSubscriptions(t, url, name)
			waitActive(false)
			if setup.sharded {
				// Every master but one takes its shards back: still not
				// active, since the one left carries topics too.
				admin := newSetupClient(t, url, "", nil)
				var mu sync.Mutex // eachNode runs on the masters at once
				var masters []string
				if err := eachNode(ctx, admin, func(_ context.Context, n *redis.Client) error {
					mu.Lock()
					defer mu.Unlock()
					masters = append(masters, n.Options().Addr)
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				slices.Sort(masters)
				refused.Store(masters[0])
				deadline := time.Now().Add(20 * time.Second)
				for subscribersOn(t, admin, name, masters[1:]) == 0 {
					if time.Now().After(deadline) {
						t.Fatal("no shard came back on the masters not refused")
					}
					time.Sleep(10 * time.Millisecond)
				}
				time.Sleep(100 * time.Millisecond) // its anchor's confirmation handled
				if topics.Active("a") {
					t.Fatal("active while one master's shards are still lost")
				}
			}
			refused.Store("")
			waitActive(true)
		})
	}
}

// subscribersOn counts the subscribed connections named name on the
// masters at addrs.
func subscribersOn(t *testing.T, admin redis.UniversalClient, name string, addrs []string) int {
	t.Helper()
	var n atomic.Int64
	err := eachNode(context.Background(), admin, func(ctx context.Context, node *redis.Client) error {
		if !slices.Contains(addrs, node.Options().Addr) {
			return nil
		}
		list, err := node.ClientList(ctx).Result()
		if err != nil {
			return err
		}
		for _, line := range strings.Split(list, "\n") {
			if strings.Contains(line, " name="+name+" ") && !strings.Contains(line, " ssub=0 ") {
				n.Add(1)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return int(n.Load())
}

package realtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/blob"
	"github.com/chatapp/chat/broker"
	"github.com/chatapp/chat/store"
	"github.com/chatapp/chat/store/storetest"
)

// cluster is several instances over one database and one bus.
type cluster struct {
	insts  []*instance
	faulty []*broker.Faulty
	heard  []*countingBroker // what each instance's subscription delivered
}

type clusterConfig struct {
	redis  bool
	faulty bool // each instance's broker loses 1 of every 4 publishes
	// mod changes the instances' options further.
	mod func(*Options)
}

// eachStack runs f on the in-process broker and on Redis (instances on
// Postgres), as subtests named after them.
func eachStack(t *testing.T, f func(t *testing.T, cfg clusterConfig)) {
	t.Helper()
	for _, s := range []struct {
		name string
		cfg  clusterConfig
	}{
		{"memory", clusterConfig{}},
		{"postgres-redis", clusterConfig{redis: true}},
	} {
		t.Run(s.name, func(t *testing.T) { f(t, s.cfg) })
	}
}

func startCluster(t *testing.T, n int, cfg clusterConfig) *cluster {
	t.Helper()
	tokens := newTokens(t)
	mod := func(o *Options) {
		// The broker loses messages without a reconnect: the periodic
		// re-read is what finds a lost last message.
		o.ResyncInterval = 200 * time.Millisecond
		if cfg.mod != nil {
			cfg.mod(o)
		}
	}
	cl := &cluster{}
	var stores []app.Store
	var mem *broker.Memory
	var memPresence *broker.MemoryPresence
	var rc = struct {
		channel, prefix string
	}{}
	if cfg.redis {
		url := storetest.PostgresURL(t)
		for range n {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			s, err := store.OpenPostgres(ctx, url, slog.New(slog.DiscardHandler))
			cancel()
			if err != nil {
				t.Fatalf("open postgres: %v", err)
			}
			t.Cleanup(func() { _ = s.Close() })
			stores = append(stores, s)
		}
		id := randomID(t)
		rc.channel, rc.prefix = "realtimetest:"+id, "realtimetest:presence:"+id
	} else {
		s := storetest.SQLite(t)
		for range n {
			stores = append(stores, s)
		}
		mem = broker.NewMemory()
		t.Cleanup(func() { _ = mem.Close() })
		memPresence = broker.NewMemoryPresence()
	}
	blobs, err := blob.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = blobs.Close() })
	for i := range n {
		ic := instanceConfig{store: stores[i], tokens: tokens, mod: mod, blobs: blobs}
		var inner broker.Inner
		if cfg.redis {
			client := redisClient(t)
			inner = broker.NewRedis(client, rc.channel, nil)
			p, err := broker.NewRedisPresence(client, rc.prefix)
			if err != nil {
				t.Fatal(err)
			}
			ic.presence = p
		} else {
			inner = mem
			ic.presence = memPresence
		}
		if cfg.faulty {
			f := broker.NewFaulty(inner, 1, 4)
			cl.faulty = append(cl.faulty, f)
			inner = f
		}
		heard := &countingBroker{Inner: inner, topics: map[string]int{}}
		cl.heard = append(cl.heard, heard)
		ic.broker = heard
		cl.insts = append(cl.insts, startInstance(t, ic))
	}
	return cl
}

func randomID(t *testing.T) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

// 20 clients spread over two instances send 25 messages each, all at once,
// into one group: every client receives all 500, seq 1..500, in order, once.
func TestTwoInstancesDeliverEveryMessageOnceInOrder(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  clusterConfig
	}{
		{"memory", clusterConfig{}},
		{"memory-lossy-broker", clusterConfig{faulty: true}},
		{"postgres-redis", clusterConfig{redis: true}},
		{"postgres-redis-lossy-broker", clusterConfig{redis: true, faulty: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl := startCluster(t, 2, tc.cfg)
			runFanIn(t, cl, 20, 25)
			if tc.cfg.faulty {
				dropped := 0
				for _, f := range cl.faulty {
					dropped += f.Dropped()
				}
				if dropped < 100 {
					t.Fatalf("the lossy broker dropped only %d publishes", dropped)
				}
			}
		})
	}
}

func runFanIn(t *testing.T, cl *cluster, nClients, perClient int) {
	t.Helper()
	svc := cl.insts[0].svc
	owner := register(t, svc, "owner")
	gid := createGroup(t, svc, owner, "busy")
	clients := make([]*client, nClients)
	for i := range nClients {
		a := owner
		if i > 0 {
			a = register(t, svc, fmt.Sprintf("user%02d", i))
			join(t, svc, a, gid)
		}
		clients[i] = connect(t, cl.insts[i%len(cl.insts)], a)
	}
	total := nClients * perClient

	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() {
			for j := range perClient {
				c.send(map[string]any{"type": "send", "group_id": gid, "body": fmt.Sprintf("%d/%d", i, j), "ref": fmt.Sprintf("%d", j)})
			}
		})
	}
	wg.Wait()

	errs := make(chan error, len(clients))
	for _, c := range clients {
		wg.Go(func() { errs <- collect(c, gid, total, perClient) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// collect reads until the client has all acks and total messages, and
// checks seq 1..total in order, once, with every ack before its message.
func collect(c *client, gid int64, total, acks int) error {
	var seqs []int64
	acked := map[int64]bool{}
	deadline := time.After(60 * time.Second)
	for len(seqs) < total || len(acked) < acks {
		select {
		case f, ok := <-c.frames:
			if !ok {
				return fmt.Errorf("%s: connection ended: %w", c.name, c.err)
			}
			switch f.Type {
			case "message":
				if f.Message.GroupID != gid {
					return fmt.Errorf("%s: message of group %d", c.name, f.Message.GroupID)
				}
				seqs = append(seqs, f.Message.Seq)
				if f.Message.Sender.Username == c.name && !acked[f.Message.ID] {
					return fmt.Errorf("%s: message %d before its ack", c.name, f.Message.Seq)
				}
			case "ack":
				acked[f.Message.ID] = true
			case "error":
				return fmt.Errorf("%s: %s", c.name, f.raw)
			}
		case <-deadline:
			return fmt.Errorf("%s: after 60 s: %d messages, %d acks", c.name, len(seqs), len(acked))
		}
	}
	for i, s := range seqs {
		if s != int64(i+1) {
			return fmt.Errorf("%s: message %d has seq %d (want %d)", c.name, i, s, i+1)
		}
	}
	if len(seqs) != total {
		return fmt.Errorf("%s: %d messages, want %d", c.name, len(seqs), total)
	}
	return nil
}

// Presence and membership changes made on one instance reach the
// connections of the other at once.
func TestTwoInstancesShareMembershipAndPresence(t *testing.T) {
	eachStack(t, func(t *testing.T, cfg clusterConfig) {
		cl := startCluster(t, 2, cfg)
		a0, a1 := cl.insts[0], cl.insts[1]
		alice := register(t, a0.svc, "alice")
		bob := register(t, a0.svc, "bob")
		gid := createGroup(t, a0.svc, alice, "g")
		join(t, a0.svc, bob, gid)

		ca := connect(t, a0, alice)
		cb := connect(t, a1, bob)
		if p := ca.until(t, "presence"); p.UserID != bob.ID || !*p.Online {
			t.Fatalf("presence = %s", p.raw)
		}
		online, err := a0.hub.Online(context.Background(), bob.ID)
		if err != nil || !online {
			t.Fatalf("Online(bob) on the other instance = %v, %v", online, err)
		}
		// Removal on instance 0 stops delivery on instance 1 at once.
		if err := a0.svc.RemoveMember(context.Background(), alice.ID, gid, bob.ID); err != nil {
			t.Fatal(err)
		}
		cb.until(t, "member_left")
		if _, _, err := a0.svc.Send(context.Background(), alice.ID, gid, app.Outgoing{Body: "private now"}); err != nil {
			t.Fatal(err)
		}
		ca.until(t, "message")
		// bob's instance has had the message event by now if it would
		// deliver it: a second message from a1's own publish path shows
		// ordering on the bus.
		if _, _, err := a1.svc.Send(context.Background(), alice.ID, gid, app.Outgoing{Body: "again"}); err != nil {
			t.Fatal(err)
		}
		ca.until(t, "message")
		for _, f := range cb.sync(t) {
			if f.Type == "message" {
				t.Fatalf("bob got %s after removal", f.raw)
			}
		}
		// bob shares no group with alice any more: his going offline is
		// recorded but not announced to her.
		closeClient(t, cb)
		eventually(t, "bob offline on the other instance", func() bool {
			online, err := a0.hub.Online(context.Background(), bob.ID)
			return err == nil && !online
		})
		if got := ofType(ca.sync(t), "presence"); len(got) != 0 {
			t.Fatalf("alice got %v", got)
		}
	})
}

// Connecting, disconnecting and stopping the hub leave no goroutine behind.
func TestNoGoroutineLeaks(t *testing.T) {
	st := storetest.SQLite(t)
	ignore := goleak.IgnoreCurrent()
	f := newFixtureOn(t, instanceConfig{store: st, mod: func(o *Options) { o.PingInterval = 20 * time.Millisecond }})
	var clients []*client
	for range 10 {
		a := connect(t, f.inst, f.alice)
		b, _, err := dial(t, f.inst.url, dialOpt{authMsg: map[string]any{"type": "auth", "token": f.bob.token, "cursors": map[string]int64{itoa(f.gid): 0}}})
		if err != nil {
			t.Fatal(err)
		}
		b.until(t, "resumed")
		clients = append(clients, a, b)
	}
	time.Sleep(100 * time.Millisecond) // a few keepalive pings
	for _, c := range clients[:10] {
		closeClient(t, c)
	}
	eventually(t, "closed connections unregistered", func() bool {
		f.inst.hub.mu.Lock()
		defer f.inst.hub.mu.Unlock()
		n := 0
		for _, set := range f.inst.hub.users {
			n += len(set)
		}
		return n == 10
	})
	// The rest are closed by the hub's shutdown.
	f.inst.stop()
	for _, c := range clients[10:] {
		c.closed(t)
	}
	f.inst.srv.Close()
	if _, resp, err := dial(t, f.inst.url, dialOpt{header: http.Header{"Authorization": {"Bearer " + f.alice.token}}}); err == nil {
		t.Fatalf("server still answers: %v", resp.Status)
	}
	goleak.VerifyNone(t, ignore)
}

package realtime

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/broker"
	"github.com/chatapp/chat/store/storetest"
)

// flapBroker is one instance's broker whose subscription loses every payload
// while it is down, as a Redis subscriber misses what is published while it
// is disconnected, and reports the reconnect when it heals.
type flapBroker struct {
	*broker.Memory
	mu        sync.Mutex
	down      bool
	connected func()
}

func (b *flapBroker) Subscribe(ctx context.Context, deliver func([]byte), connected func()) error {
	b.mu.Lock()
	b.connected = connected
	b.mu.Unlock()
	return b.Memory.Subscribe(ctx, func(p []byte) {
		b.mu.Lock()
		down := b.down
		b.mu.Unlock()
		if !down {
			deliver(p)
		}
	}, connected)
}

func (b *flapBroker) setDown(v bool) {
	b.mu.Lock()
	b.down = v
	c := b.connected
	b.mu.Unlock()
	if !v && c != nil {
		c()
	}
}

// After an instance's broker subscription comes back, its groups with
// connections are re-read from the database: nothing published by another
// instance meanwhile is missed.
func TestBrokerReconnectResyncsFromTheDatabase(t *testing.T) {
	m := broker.NewMemory()
	t.Cleanup(func() { _ = m.Close() })
	st := storetest.SQLite(t)
	tokens := newTokens(t)
	presence := broker.NewMemoryPresence()
	noResync := func(o *Options) { o.ResyncInterval = time.Hour } // only the reconnect may repair
	sender := startInstance(t, instanceConfig{store: st, tokens: tokens, broker: m, presence: presence, mod: noResync})
	fb := &flapBroker{Memory: m}
	f := newFixtureOn(t, instanceConfig{store: st, tokens: tokens, broker: fb, presence: presence, mod: noResync})
	a := connect(t, f.inst, f.alice)
	b := connect(t, f.inst, f.bob)
	fb.setDown(true)
	for i := range 5 {
		if _, _, err := sender.svc.Send(context.Background(), f.alice.ID, f.gid, app.Outgoing{Body: "while down " + itoa(int64(i))}); err != nil {
			t.Fatal(err)
		}
	}
	for _, cl := range []*client{a, b} {
		if got := ofType(cl.sync(t), "message"); len(got) != 0 {
			t.Fatalf("%s got messages through a broken subscription: %v", cl.name, got)
		}
	}
	fb.setDown(false)
	for _, cl := range []*client{a, b} {
		for want := int64(1); want <= 5; want++ {
			if m := cl.until(t, "message"); m.Message.Seq != want {
				t.Fatalf("%s: got seq %d, want %d", cl.name, m.Message.Seq, want)
			}
		}
	}
}

// A peer that stops answering pings is dropped; one that answers stays.
func TestKeepaliveDropsDeadPeers(t *testing.T) {
	f := newFixture(t, func(o *Options) {
		o.PingInterval = 30 * time.Millisecond
		o.PongTimeout = 100 * time.Millisecond
	})
	live := connect(t, f.inst, f.bob)
	// A client that never reads never answers a ping.
	_, _, err := dial(t, f.inst.url, dialOpt{header: http.Header{"Authorization": {"Bearer " + f.alice.token}}, noRead: true})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "alice registered", func() bool { return f.inst.hub.localConns(f.alice.ID) == 1 })
	eventually(t, "dead peer dropped", func() bool { return f.inst.hub.localConns(f.alice.ID) == 0 })
	// bob saw alice come and go.
	if p := live.until(t, "presence"); p.UserID != f.alice.ID || !*p.Online {
		t.Fatalf("presence = %s", p.raw)
	}
	if p := live.until(t, "presence"); p.UserID != f.alice.ID || *p.Online {
		t.Fatalf("presence = %s", p.raw)
	}
	// bob connected first, so his pings ran at least as often as the ones
	// that found alice gone.
	if got := live.sync(t); len(got) != 0 {
		t.Fatalf("live client: %v", got)
	}
	if f.inst.hub.localConns(f.bob.ID) != 1 {
		t.Fatal("a client that answers pings was dropped")
	}
}

func (h *Hub) localConns(uid int64) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.users[uid])
}

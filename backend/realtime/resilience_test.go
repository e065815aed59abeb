package realtime

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/broker"
	"github.com/chatapp/chat/chat"
	"github.com/chatapp/chat/store/storetest"
	"github.com/coder/websocket"
)

// flapBroker is one instance's broker whose subscription loses every payload
// while it is down, as a Redis subscriber misses what is published while it
// is disconnected, and reports the reconnect when it heals.
type flapBroker struct {
	*broker.Memory
	mu        sync.Mutex
	down      bool
	topics    *broker.Topics
	connected func([]string)
	lost      map[string]int // payloads lost while down, by topic
}

func (b *flapBroker) Subscribe(ctx context.Context, topics *broker.Topics, deliver func(broker.Message), connected func([]string)) error {
	b.mu.Lock()
	b.topics, b.connected = topics, connected
	b.mu.Unlock()
	return b.Memory.Subscribe(ctx, topics, func(m broker.Message) {
		b.mu.Lock()
		down := b.down
		b.mu.Unlock()
		if !down {
			deliver(m)
			return
		}
		b.mu.Lock()
		if b.lost == nil {
			b.lost = map[string]int{}
		}
		b.lost[m.Topic]++
		b.mu.Unlock()
	}, connected)
}

// lostOn tells how many payloads of topic were lost while down.
func (b *flapBroker) lostOn(topic string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lost[topic]
}

// setDown(false) reports every topic subscribed again, as a Redis
// subscription does after a reconnect.
func (b *flapBroker) setDown(v bool) {
	b.mu.Lock()
	b.down = v
	c, topics := b.connected, b.topics
	b.mu.Unlock()
	if !v && c != nil {
		all, _ := topics.Wanted()
		c(all)
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

func TestSlowConsumerIsClosed1013WhileOthersKeepReceiving(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.QueueSize = 64; o.WriteTimeout = 30 * time.Second })
	slow, _, err := dial(t, f.inst.url, dialOpt{header: http.Header{"Authorization": {"Bearer " + f.alice.token}}, noRead: true})
	if err != nil {
		t.Fatal(err)
	}
	fast := connect(t, f.inst, f.bob)
	big := strings.Repeat("x", 4000)
	ctx := context.Background()
	slowConn := func() *conn { return userConn(f.inst.hub, f.alice.ID) }
	eventually(t, "slow client registered", func() bool { return slowConn() != nil })
	sc := slowConn()
	received := 0
	for batch := 0; !sc.isClosing(); batch++ {
		if batch > 500 {
			t.Fatal("the slow connection was never closed")
		}
		for range 32 {
			f.inst.hub.Notify(ctx, chat.Event{Type: chat.EventMessageUpdated, GroupID: f.gid, Message: &chat.Message{GroupID: f.gid, Body: big}})
		}
		for range 32 {
			fast.until(t, "message_updated")
			received++
		}
	}
	// The others are not slowed down: the fast client keeps up and still
	// gets new events.
	f.inst.hub.Notify(ctx, chat.Event{Type: chat.EventMessageUpdated, GroupID: f.gid, Message: &chat.Message{GroupID: f.gid, Body: "after"}})
	if m := fast.until(t, "message_updated"); m.Message.Body != "after" {
		t.Fatalf("fast got %s", m.raw)
	}
	// The slow client, reading at last, finds the 1013 close after what
	// was already in flight.
	go slow.read()
	if code := slow.closed(t); code != websocket.StatusTryAgainLater {
		t.Fatalf("slow close code %d (%v), want 1013", code, slow.err)
	}
	eventually(t, "slow connection unregistered", func() bool { return slowConn() == nil })
}

// TestStuckWriteIsCut: a client that stops reading while its queue has
// room is not closed for a full queue but for a write that takes
// WriteTimeout (the hub's watchdog); the others keep receiving.
func TestStuckWriteIsCut(t *testing.T) {
	const timeout = 300 * time.Millisecond
	f := newFixture(t, func(o *Options) { o.QueueSize = 1 << 16; o.WriteTimeout = timeout })
	slow, _, err := dial(t, f.inst.url, dialOpt{header: http.Header{"Authorization": {"Bearer " + f.alice.token}}, noRead: true})
	if err != nil {
		t.Fatal(err)
	}
	fast := connect(t, f.inst, f.bob)
	slowConn := func() *conn { return userConn(f.inst.hub, f.alice.ID) }
	eventually(t, "slow client registered", func() bool { return slowConn() != nil })
	sc := slowConn()
	big := strings.Repeat("x", 4000)
	ctx := context.Background()
	// Fill the socket buffers until a write blocks.
	stuck := func() bool {
		sc.wmu.Lock() // the batch fields' guard (conn.go), not the queue's mu
		defer sc.wmu.Unlock()
		return sc.batchActive && time.Since(sc.batchStart) > timeout/10
	}
	for batch := 0; !stuck(); batch++ {
		if batch > 2000 || sc.isClosing() {
			t.Fatalf("no write got stuck (batch %d, closing %v)", batch, sc.isClosing())
		}
		for range 32 {
			f.inst.hub.Notify(ctx, chat.Event{Type: chat.EventMessageUpdated, GroupID: f.gid, Message: &chat.Message{GroupID: f.gid, Body: big}})
		}
		for range 32 {
			fast.until(t, "message_updated")
		}
		time.Sleep(time.Millisecond)
	}
	stuckAt := time.Now()
	eventually(t, "stuck connection cut and unregistered", func() bool { return slowConn() == nil })
	if took := time.Since(stuckAt); took > 10*timeout {
		t.Errorf("cut %v after the write got stuck, want about %v", took, timeout)
	}
	f.inst.hub.Notify(ctx, chat.Event{Type: chat.EventMessageUpdated, GroupID: f.gid, Message: &chat.Message{GroupID: f.gid, Body: "after"}})
	if m := fast.until(t, "message_updated"); m.Message.Body != "after" {
		t.Fatalf("fast got %s", m.raw)
	}
	_ = slow.ws.CloseNow()
}

func TestDatabaseDownAnswersUnavailableAndRecovers(t *testing.T) {
	st := &flakyStore{Store: storetest.SQLite(t)}
	f := newFixtureOn(t, instanceConfig{store: st})
	a := connect(t, f.inst, f.alice)
	st.setDown(true)
	a.send(map[string]any{"type": "send", "group_id": f.gid, "body": "hi", "ref": "x"})
	e := a.until(t, "error")
	if e.Ref != "x" || e.Error.Code != "unavailable" || strings.Contains(e.raw, "flaky") {
		t.Fatalf("error = %s", e.raw)
	}
	// A replay that cannot be read ends the connection (1013): going on
	// without it would leave a gap. The client reconnects and resumes.
	a.send(map[string]any{"type": "resume", "cursors": map[string]int64{itoa(f.gid): 0}, "ref": "r"})
	if code := a.closed(t); code != websocket.StatusTryAgainLater {
		t.Fatalf("resume while the database is down closed with %d, want 1013", code)
	}
	st.setDown(false)
	a = connect(t, f.inst, f.alice)
	a.send(map[string]any{"type": "send", "group_id": f.gid, "body": "hi", "ref": "y"})
	if ack := a.until(t, "ack"); ack.Ref != "y" || ack.Message.Seq != 1 {
		t.Fatalf("ack = %s", ack.raw)
	}
	a.until(t, "message")
}

func TestBrokerDownStillDeliversLocally(t *testing.T) {
	m := broker.NewMemory()
	t.Cleanup(func() { _ = m.Close() })
	f := newFixtureOn(t, instanceConfig{store: storetest.SQLite(t), broker: downBroker{m}})
	a := connect(t, f.inst, f.alice)
	b := connect(t, f.inst, f.bob)
	a.send(map[string]any{"type": "send", "group_id": f.gid, "body": "still here", "ref": "x"})
	if ack := a.until(t, "ack", "message"); ack.Message.Body != "still here" {
		t.Fatalf("ack = %s", ack.raw)
	}
	for _, cl := range []*client{a, b} {
		if m := cl.until(t, "message"); m.Message.Body != "still here" {
			t.Fatalf("%s: %s", cl.name, m.raw)
		}
	}
}

// The database is the truth: a committed message is acknowledged and
// delivered on this instance without waiting for the broker, even one that
// never answers (each publish attempt would take an hour here), and the
// readiness check says so without hanging.
func TestSendsDoNotWaitForAHangingBroker(t *testing.T) {
	m := broker.NewMemory()
	t.Cleanup(func() { _ = m.Close() })
	f := newFixtureOn(t, instanceConfig{store: storetest.SQLite(t), broker: hangingBroker{m}, mod: func(o *Options) {
		o.PublishTimeout = time.Hour
	}})
	a := connect(t, f.inst, f.alice)
	b := connect(t, f.inst, f.bob)
	for i := range 3 {
		ref := "r" + itoa(int64(i))
		a.send(map[string]any{"type": "send", "group_id": f.gid, "body": "through a dead broker", "ref": ref})
		if ack := a.until(t, "ack"); ack.Ref != ref || ack.Message.Seq != int64(i+1) {
			t.Fatalf("ack = %s", ack.raw)
		}
	}
	for want := int64(1); want <= 3; want++ {
		if m := b.until(t, "message"); m.Message.Seq != want {
			t.Fatalf("bob: %s, want seq %d", m.raw, want)
		}
	}
	start := time.Now()
	if err := f.inst.hub.Ping(t.Context()); err == nil {
		t.Fatal("Ping of a hanging broker succeeded")
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Ping of a hanging broker took %v", d)
	}
}

func TestShutdownClosesConnections1001AndRefusesNewOnes(t *testing.T) {
	f := newFixture(t, nil)
	a := connect(t, f.inst, f.alice)
	b := connect(t, f.inst, f.bob)
	pending, _, err := dial(t, f.inst.url, dialOpt{}) // still authenticating
	if err != nil {
		t.Fatal(err)
	}
	f.inst.stop()
	for _, cl := range []*client{a, b, pending} {
		if code := cl.closed(t); code != websocket.StatusGoingAway {
			t.Fatalf("%s: close code %d, want 1001", cl.name, code)
		}
	}
	_, resp, err := dial(t, f.inst.url, dialOpt{header: http.Header{"Authorization": {"Bearer " + f.alice.token}}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("dial after shutdown = %v, %v; want 503", err, resp)
	}
}

// A join and a removal published while an instance's broker subscription is
// down are not heard there; when it comes back, the users' groups are read
// again from the database: the removed member stops receiving the group,
// the one who joined starts.
func TestBrokerReconnectRegroupsUsersFromTheDatabase(t *testing.T) {
	sender, fb, f := newFlapFixture(t)
	b := connect(t, f.inst, f.bob)
	c := connect(t, f.inst, f.carol)
	fb.setDown(true)
	ctx := context.Background()
	if err := sender.svc.RemoveMember(ctx, f.alice.ID, f.gid, f.bob.ID); err != nil {
		t.Fatal(err)
	}
	join(t, sender.svc, f.carol, f.gid)
	eventually(t, "the member_left and member_joined lost", func() bool {
		return fb.lostOn(userTopic(f.bob.ID)) > 0 && fb.lostOn(userTopic(f.carol.ID)) > 0
	})
	if f.inst.hub.connsInGroup(f.bob.ID, f.gid) != 1 || f.inst.hub.connsInGroup(f.carol.ID, f.gid) != 0 {
		t.Fatal("the instance heard of the changes through a broken subscription")
	}
	fb.setDown(false)
	eventually(t, "bob out of the group, carol in", func() bool {
		return f.inst.hub.connsInGroup(f.bob.ID, f.gid) == 0 && f.inst.hub.connsInGroup(f.carol.ID, f.gid) == 1
	})
	if _, _, err := sender.svc.Send(ctx, f.alice.ID, f.gid, app.Outgoing{Body: "after"}); err != nil {
		t.Fatal(err)
	}
	if got := c.until(t, "message"); got.Message.Body != "after" {
		t.Fatalf("carol got %s", got.raw)
	}
	if got := ofType(b.sync(t), "message"); len(got) != 0 {
		t.Fatalf("bob, removed, got %v", got)
	}
}

// newFlapFixture is a fixture whose instance's subscription can be taken
// down (fb), and another instance on the same database and bus (sender),
// which publishes what the first then loses.
func newFlapFixture(t *testing.T) (sender *instance, fb *flapBroker, f *fixture) {
	t.Helper()
	m := broker.NewMemory()
	t.Cleanup(func() { _ = m.Close() })
	st := storetest.SQLite(t)
	tokens := newTokens(t)
	presence := broker.NewMemoryPresence()
	sender = startInstance(t, instanceConfig{store: st, tokens: tokens, broker: m, presence: presence})
	fb = &flapBroker{Memory: m}
	f = newFixtureOn(t, instanceConfig{store: st, tokens: tokens, broker: fb, presence: presence})
	return sender, fb, f
}

// connsInGroup counts the connections of uid subscribed to gid.
func (h *Hub) connsInGroup(uid, gid int64) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	if st := h.groups[gid]; st != nil {
		for c := range st.conns {
			if c.uid == uid {
				n++
			}
		}
	}
	return n
}

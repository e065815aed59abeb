package realtime

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/broker"
	"github.com/chatapp/chat/chat"
	"github.com/chatapp/chat/store/storetest"
)

// fixture: alice owns a group that bob is in; carol is in no group.
type fixture struct {
	inst              *instance
	st                app.Store
	alice, bob, carol account
	gid               int64
}

func newFixture(t *testing.T, mod func(*Options)) *fixture {
	t.Helper()
	st := storetest.SQLite(t)
	return newFixtureOn(t, instanceConfig{store: st, mod: mod})
}

func newFixtureOn(t *testing.T, cfg instanceConfig) *fixture {
	t.Helper()
	inst := startInstance(t, cfg)
	f := &fixture{inst: inst, st: cfg.store}
	f.alice = register(t, inst.svc, "alice")
	f.bob = register(t, inst.svc, "bob")
	f.carol = register(t, inst.svc, "carol")
	f.gid = createGroup(t, inst.svc, f.alice, "general")
	join(t, inst.svc, f.bob, f.gid)
	return f
}

func TestAuthentication(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.AuthTimeout = 300 * time.Millisecond })
	expired, _, err := newTokens(t).Issue(f.alice.ID, sessionOf(t, f.alice), time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	bearer := func(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

	tests := []struct {
		name      string
		opt       dialOpt
		wantReady bool
		wantClose websocket.StatusCode
	}{
		{name: "header token", opt: dialOpt{header: bearer(f.alice.token)}, wantReady: true},
		{name: "auth frame", opt: dialOpt{authMsg: map[string]any{"type": "auth", "token": f.alice.token}}, wantReady: true},
		{name: "bad header token", opt: dialOpt{header: bearer("not-a-jwt")}, wantClose: 4401},
		{name: "not a bearer header", opt: dialOpt{header: http.Header{"Authorization": {"Basic YTpi"}}}, wantClose: 4401},
		{name: "expired header token", opt: dialOpt{header: bearer(expired)}, wantClose: 4401},
		{name: "bad frame token", opt: dialOpt{authMsg: map[string]any{"type": "auth", "token": "x.y.z"}}, wantClose: 4401},
		{name: "expired frame token", opt: dialOpt{authMsg: map[string]any{"type": "auth", "token": expired}}, wantClose: 4401},
		{name: "first frame is not auth", opt: dialOpt{authMsg: map[string]any{"type": "ping"}}, wantClose: 4401},
		{name: "no auth frame in time", opt: dialOpt{}, wantClose: 4408},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _, err := dial(t, f.inst.url, tc.opt)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			if tc.wantReady {
				r := c.next(t)
				if r.Type != "ready" || r.User == nil || r.User.ID != f.alice.ID || r.User.Username != "alice" {
					t.Fatalf("got %s, want ready for alice", r.raw)
				}
				if got := c.sync(t); len(got) != 0 {
					t.Fatalf("unexpected frames after ready: %v", got)
				}
				return
			}
			if code := c.closed(t); code != tc.wantClose {
				t.Fatalf("close code %d, want %d", code, tc.wantClose)
			}
		})
	}
	t.Run("expired token reason says so", func(t *testing.T) {
		c, _, err := dial(t, f.inst.url, dialOpt{header: bearer(expired)})
		if err != nil {
			t.Fatal(err)
		}
		c.closed(t)
		var ce websocket.CloseError
		if !asCloseError(c.err, &ce) || ce.Reason != "token_expired" {
			t.Fatalf("close = %v, want reason token_expired", c.err)
		}
	})
}

func asCloseError(err error, ce *websocket.CloseError) bool {
	for err != nil {
		if e, ok := err.(websocket.CloseError); ok {
			*ce = e
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

func TestOriginCheck(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.AllowedOrigins = []string{"https://app.example.com"} })
	host := strings.TrimPrefix(f.inst.srv.URL, "http://")
	tests := []struct {
		origin string
		want   int // 0: upgraded
	}{
		{"", 0},
		{"http://" + host, 0},
		{"https://app.example.com", 0},
		{"https://evil.example.com", http.StatusForbidden},
		{"http://app.example.com", http.StatusForbidden}, // scheme matters
		{"null", http.StatusForbidden},
	}
	for _, tc := range tests {
		t.Run("origin="+tc.origin, func(t *testing.T) {
			h := http.Header{"Authorization": {"Bearer " + f.alice.token}}
			if tc.origin != "" {
				h.Set("Origin", tc.origin)
			}
			c, resp, err := dial(t, f.inst.url, dialOpt{header: h})
			if tc.want == 0 {
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				if r := c.next(t); r.Type != "ready" {
					t.Fatalf("got %s, want ready", r.raw)
				}
				return
			}
			if err == nil || resp == nil || resp.StatusCode != tc.want {
				t.Fatalf("dial = %v (response %v), want HTTP %d before upgrade", err, resp, tc.want)
			}
		})
	}
}

func TestFrameTooBigCloses1009(t *testing.T) {
	f := newFixture(t, nil)
	c := connect(t, f.inst, f.alice)
	c.send(map[string]any{"type": "send", "group_id": f.gid, "body": strings.Repeat("x", 65<<10)})
	if code := c.closed(t); code != websocket.StatusMessageTooBig {
		t.Fatalf("close code %d, want 1009", code)
	}
}

func TestFloodIsRateLimitedThenClosed4429(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.FrameRate = 5 })
	c := connect(t, f.inst, f.alice)
	for i := range 200 {
		if err := c.ws.Write(context.Background(), websocket.MessageText, []byte(`{"type":"ping","ref":"p"}`)); err != nil {
			_ = i
			break // closed by the server meanwhile
		}
	}
	var pongs, limited int
	for fr := range c.frames {
		switch {
		case fr.Type == "pong":
			pongs++
		case fr.Type == "error" && fr.Error.Code == "rate_limited" && fr.Ref == "p":
			limited++
		default:
			t.Fatalf("unexpected %s", fr.raw)
		}
	}
	<-c.done
	if code := websocket.CloseStatus(c.err); code != 4429 {
		t.Fatalf("close code %d (%v), want 4429", code, c.err)
	}
	// A burst of 2×5 passes, then refusals, then the close.
	if pongs < 10 || pongs > 12 || limited == 0 {
		t.Fatalf("pongs=%d rate_limited=%d, want ~10 pongs then rate_limited errors", pongs, limited)
	}
}

func TestRateLimitAllowsASteadyPace(t *testing.T) {
	clock := &fakeClock{now: time.Now()}
	f := newFixture(t, func(o *Options) { o.FrameRate = 50; o.Clock = clock.Now })
	c := connect(t, f.inst, f.alice)
	for range 300 {
		if got := c.sync(t); len(got) != 0 {
			t.Fatalf("unexpected %v", got)
		}
		clock.advance(20 * time.Millisecond) // 50 frames a second
	}
}

// fakeClock is a clock that moves only when told.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestBadFramesAnswerErrorsWithRefAndKeepTheConnection(t *testing.T) {
	f := newFixture(t, nil)
	c := connect(t, f.inst, f.alice)
	other := createGroup(t, f.inst.svc, f.carol, "carols")
	tests := []struct {
		name  string
		frame string
		code  string
		ref   string
	}{
		{"not json", `{"type":`, "invalid_json", ""},
		{"unknown type", `{"type":"dance","ref":"r1"}`, "validation_failed", "r1"},
		{"send without group", `{"type":"send","body":"hi","ref":"r2"}`, "validation_failed", "r2"},
		{"empty body", `{"type":"send","group_id":` + itoa(f.gid) + `,"body":"   ","ref":"r3"}`, "validation_failed", "r3"},
		{"too long body", `{"type":"send","group_id":` + itoa(f.gid) + `,"body":"` + strings.Repeat("a", 4001) + `","ref":"r4"}`, "validation_failed", "r4"},
		{"no such group", `{"type":"send","group_id":999999,"body":"hi","ref":"r5"}`, "not_found", "r5"},
		{"not a member", `{"type":"send","group_id":` + itoa(other) + `,"body":"hi","ref":"r6"}`, "not_member", "r6"},
		{"typing elsewhere", `{"type":"typing","group_id":` + itoa(other) + `,"ref":"r7"}`, "not_member", "r7"},
		{"read elsewhere", `{"type":"read","group_id":` + itoa(other) + `,"seq":1,"ref":"r8"}`, "not_member", "r8"},
		{"bad cursors", `{"type":"resume","cursors":{"abc":1},"ref":"r9"}`, "validation_failed", "r9"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := c.ws.Write(context.Background(), websocket.MessageText, []byte(tc.frame)); err != nil {
				t.Fatal(err)
			}
			got := c.next(t)
			if got.Type != "error" || got.Error == nil || got.Error.Code != tc.code || got.Ref != tc.ref || got.Error.Message == "" {
				t.Fatalf("got %s, want error %s with ref %q", got.raw, tc.code, tc.ref)
			}
		})
	}
	if got := c.sync(t); len(got) != 0 {
		t.Fatalf("connection state after errors: %v", got)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestSendAcksBeforeTheMessageEventAndReachesEveryConnection(t *testing.T) {
	f := newFixture(t, nil)
	a1 := connect(t, f.inst, f.alice)
	a2 := connect(t, f.inst, f.alice)
	b := connect(t, f.inst, f.bob)
	c := connect(t, f.inst, f.carol)
	for i := range 5 {
		ref := "s" + itoa(int64(i))
		a1.send(map[string]any{"type": "send", "group_id": f.gid, "body": "hello " + ref, "client_id": "c-" + ref, "ref": ref})
		ack := a1.until(t, "ack", "message")
		if ack.Ref != ref || ack.Message == nil || ack.Message.Seq != int64(i+1) || ack.Message.Body != "hello "+ref {
			t.Fatalf("ack = %s", ack.raw)
		}
		for _, cl := range []*client{a1, a2, b} {
			m := cl.until(t, "message")
			if m.Message == nil || m.Message.ID != ack.Message.ID || m.Message.Seq != int64(i+1) || m.Message.Sender.ID != f.alice.ID {
				t.Fatalf("%s got %s", cl.name, m.raw)
			}
		}
	}
	// A repeated client_id answers the original without a new event.
	a1.send(map[string]any{"type": "send", "group_id": f.gid, "body": "again", "client_id": "c-s0", "ref": "rep"})
	ack := a1.until(t, "ack", "message")
	if ack.Message.Seq != 1 || ack.Message.Body != "hello s0" {
		t.Fatalf("repeat ack = %s", ack.raw)
	}
	for _, cl := range []*client{a1, a2, b, c} {
		if got := ofType(cl.sync(t), "message"); len(got) != 0 {
			t.Fatalf("%s: unexpected %v", cl.name, got)
		}
	}
}

func TestTypingGoesToOthersOnlyAndIsThrottled(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.TypingInterval = time.Hour })
	a1 := connect(t, f.inst, f.alice)
	a2 := connect(t, f.inst, f.alice)
	b := connect(t, f.inst, f.bob)
	c := connect(t, f.inst, f.carol)
	a1.send(map[string]any{"type": "typing", "group_id": f.gid})
	a1.send(map[string]any{"type": "typing", "group_id": f.gid}) // throttled
	ty := b.until(t, "typing")
	if ty.GroupID != f.gid || ty.UserID != f.alice.ID {
		t.Fatalf("typing = %s", ty.raw)
	}
	if got := ofType(b.sync(t), "typing"); len(got) != 0 {
		t.Fatalf("bob got a second typing event: %v", got)
	}
	for _, cl := range []*client{a1, a2, c} {
		if got := ofType(cl.sync(t), "typing"); len(got) != 0 {
			t.Fatalf("%s got %v", cl.name, got)
		}
	}
}

func TestReadGoesToTheReadersOtherConnections(t *testing.T) {
	f := newFixture(t, nil)
	a1 := connect(t, f.inst, f.alice)
	a2 := connect(t, f.inst, f.alice)
	b := connect(t, f.inst, f.bob)
	for range 3 {
		if _, _, err := f.inst.svc.Send(context.Background(), f.bob.ID, f.gid, app.Outgoing{Body: "hi"}); err != nil {
			t.Fatal(err)
		}
	}
	a1.send(map[string]any{"type": "read", "group_id": f.gid, "seq": 2, "ref": "rd"})
	r := a2.until(t, "read")
	if r.GroupID != f.gid || r.Seq != 2 {
		t.Fatalf("read = %s", r.raw)
	}
	for _, cl := range []*client{a1, b} {
		for _, fr := range cl.sync(t) {
			if fr.Type == "read" || fr.Type == "error" {
				t.Fatalf("%s got %s", cl.name, fr.raw)
			}
		}
	}
}

func TestRemovalStopsEventsAtOnceAndJoinStartsThem(t *testing.T) {
	f := newFixture(t, nil)
	a := connect(t, f.inst, f.alice)
	b := connect(t, f.inst, f.bob)
	c := connect(t, f.inst, f.carol)
	ctx := context.Background()

	if err := f.inst.svc.RemoveMember(ctx, f.alice.ID, f.gid, f.bob.ID); err != nil {
		t.Fatal(err)
	}
	left := b.until(t, "member_left")
	if left.GroupID != f.gid || left.UserID != f.bob.ID {
		t.Fatalf("member_left = %s", left.raw)
	}
	a.until(t, "member_left")
	// The very next message is not delivered to bob any more.
	if _, _, err := f.inst.svc.Send(ctx, f.alice.ID, f.gid, app.Outgoing{Body: "after removal"}); err != nil {
		t.Fatal(err)
	}
	a.until(t, "message")
	for _, fr := range b.sync(t) {
		if fr.Type == "message" || fr.Type == "typing" {
			t.Fatalf("bob still receives the group: %s", fr.raw)
		}
	}
	// Typing in it is refused now.
	b.send(map[string]any{"type": "typing", "group_id": f.gid, "ref": "t"})
	if e := b.until(t, "error"); e.Error.Code != "not_member" {
		t.Fatalf("error = %s", e.raw)
	}

	// carol joins while connected: from then on she gets the group.
	join(t, f.inst.svc, f.carol, f.gid)
	j := c.until(t, "member_joined")
	if j.GroupID != f.gid || j.User == nil || j.User.ID != f.carol.ID {
		t.Fatalf("member_joined = %s", j.raw)
	}
	if _, _, err := f.inst.svc.Send(ctx, f.alice.ID, f.gid, app.Outgoing{Body: "welcome"}); err != nil {
		t.Fatal(err)
	}
	if m := c.until(t, "message"); m.Message.Body != "welcome" || m.Message.Seq != 2 {
		t.Fatalf("carol got %s", m.raw)
	}

	// Deleting the group tells the members and ends its events.
	if err := f.inst.svc.DeleteGroup(ctx, f.alice.ID, f.gid); err != nil {
		t.Fatal(err)
	}
	for _, cl := range []*client{a, c} {
		if d := cl.until(t, "group_deleted"); d.GroupID != f.gid {
			t.Fatalf("%s: %s", cl.name, d.raw)
		}
	}
	if f.inst.hub.subscribedGroups() != 0 {
		t.Fatalf("hub still indexes %d groups", f.inst.hub.subscribedGroups())
	}
}

func TestPresence(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	// alice and bob share two groups (f.gid and a direct one): each
	// presence change still reaches alice once.
	if _, _, err := f.inst.svc.Direct(ctx, f.alice.ID, f.bob.ID); err != nil {
		t.Fatal(err)
	}
	a := connect(t, f.inst, f.alice)
	online := func(uid int64) bool {
		ok, err := f.inst.hub.Online(ctx, uid)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	eventually(t, "alice online", func() bool { return online(f.alice.ID) })

	b1 := connect(t, f.inst, f.bob)
	p := a.until(t, "presence")
	if p.UserID != f.bob.ID || p.Online == nil || !*p.Online {
		t.Fatalf("presence = %s", p.raw)
	}
	if !online(f.bob.ID) {
		t.Fatal("bob not online")
	}
	// carol shares no group with bob: she hears nothing of him.
	c := connect(t, f.inst, f.carol)
	b2 := connect(t, f.inst, f.bob) // a second connection is no news
	_ = b2.sync(t)
	// carol is not alice's contact either, and bob was online already.
	if got := ofType(a.sync(t), "presence"); len(got) != 0 {
		t.Fatalf("alice got %v", got)
	}

	closeClient(t, b1)
	if got := ofType(a.sync(t), "presence"); len(got) != 0 {
		t.Fatalf("bob still has a connection, alice got %v", got)
	}
	closeClient(t, b2)
	p = a.until(t, "presence")
	if p.UserID != f.bob.ID || p.Online == nil || *p.Online {
		t.Fatalf("presence = %s", p.raw)
	}
	eventually(t, "bob offline", func() bool { return !online(f.bob.ID) })
	if got := ofType(a.sync(t), "presence"); len(got) != 0 {
		t.Fatalf("alice got a second offline event: %v", got)
	}
	for _, fr := range c.sync(t) {
		if fr.Type == "presence" {
			t.Fatalf("carol got %s", fr.raw)
		}
	}
	u, err := f.inst.svc.User(ctx, f.carol.ID, f.alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	if u.Online == nil || !*u.Online {
		t.Fatalf("GET /users/{alice}: online = %v, want true", u.Online)
	}
}

func closeClient(t *testing.T, c *client) {
	t.Helper()
	_ = c.ws.Close(websocket.StatusNormalClosure, "bye")
	<-c.done
}

func TestResumeReplaysWhatWasMissedOnce(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	second := createGroup(t, f.inst.svc, f.alice, "second")
	join(t, f.inst.svc, f.bob, second)
	private := createGroup(t, f.inst.svc, f.carol, "carols")
	for i := range 250 { // more than one page
		if _, _, err := f.inst.svc.Send(ctx, f.alice.ID, f.gid, app.Outgoing{Body: "m" + itoa(int64(i))}); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		if _, _, err := f.inst.svc.Send(ctx, f.alice.ID, second, app.Outgoing{Body: "s"}); err != nil {
			t.Fatal(err)
		}
	}
	cursors := map[string]int64{itoa(f.gid): 40, itoa(second): 0, itoa(private): 0}
	b, _, err := dial(t, f.inst.url, dialOpt{authMsg: map[string]any{"type": "auth", "token": f.bob.token, "cursors": cursors}})
	if err != nil {
		t.Fatal(err)
	}
	if r := b.next(t); r.Type != "ready" {
		t.Fatalf("got %s", r.raw)
	}
	seen := map[int64][]int64{}
	var notMember bool
	for {
		fr := b.next(t)
		if fr.Type == "resumed" {
			break
		}
		switch fr.Type {
		case "message":
			seen[fr.Message.GroupID] = append(seen[fr.Message.GroupID], fr.Message.Seq)
		case "error":
			if fr.Error.Code != "not_member" {
				t.Fatalf("error %s", fr.raw)
			}
			notMember = true
		default:
			t.Fatalf("unexpected %s", fr.raw)
		}
	}
	if !notMember {
		t.Fatal("no not_member error for a group bob is not in")
	}
	checkSeqs(t, "general", seen[f.gid], 41, 250)
	checkSeqs(t, "second", seen[second], 1, 3)
	if len(seen[private]) != 0 {
		t.Fatalf("replayed a group bob is not in: %v", seen[private])
	}

	// Live messages continue after the replay; a later resume frame sends
	// nothing this connection already had.
	if _, _, err := f.inst.svc.Send(ctx, f.alice.ID, f.gid, app.Outgoing{Body: "live"}); err != nil {
		t.Fatal(err)
	}
	if m := b.until(t, "message"); m.Message.Seq != 251 {
		t.Fatalf("live = %s", m.raw)
	}
	b.send(map[string]any{"type": "resume", "cursors": map[string]int64{itoa(f.gid): 200}, "ref": "again"})
	r := b.next(t)
	if r.Type != "resumed" || r.Ref != "again" {
		t.Fatalf("got %s, want resumed with nothing before it", r.raw)
	}
}

func checkSeqs(t *testing.T, what string, got []int64, from, to int64) {
	t.Helper()
	if int64(len(got)) != to-from+1 {
		t.Fatalf("%s: got %d messages, want %d..%d", what, len(got), from, to)
	}
	for i, s := range got {
		if s != from+int64(i) {
			t.Fatalf("%s: message %d has seq %d, want %d", what, i, s, from+int64(i))
		}
	}
}

// A client resumes while others keep sending: it sees every message exactly
// once across the seam between replay and live delivery. With the cursors
// in the auth frame the whole group arrives in one increasing order; with a
// resume frame after live delivery began, the missing older messages are
// filled in once, and everything after "resumed" is in order.
func TestResumeSeamUnderConcurrentSending(t *testing.T) {
	for _, inAuth := range []bool{true, false} {
		name := "resume frame"
		if inAuth {
			name = "auth frame"
		}
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, nil)
			ctx := context.Background()
			const total = 300
			sent := make(chan error, 1)
			go func() {
				for i := range total {
					if _, _, err := f.inst.svc.Send(ctx, f.alice.ID, f.gid, app.Outgoing{Body: "m" + itoa(int64(i))}); err != nil {
						sent <- err
						return
					}
				}
				sent <- nil
			}()
			eventually(t, "some messages stored", func() bool {
				items, _, err := f.st.Messages(ctx, f.gid, chat.HistoryQuery{Limit: 1})
				return err == nil && len(items) == 1 && items[0].Seq >= 20
			})
			cursors := map[string]int64{itoa(f.gid): 5}
			var b *client
			if inAuth {
				var err error
				b, _, err = dial(t, f.inst.url, dialOpt{authMsg: map[string]any{"type": "auth", "token": f.bob.token, "cursors": cursors}})
				if err != nil {
					t.Fatal(err)
				}
				b.name = "bob"
				if r := b.next(t); r.Type != "ready" {
					t.Fatalf("got %s", r.raw)
				}
			}
			var seqs, afterResumed []int64
			if !inAuth {
				// Live delivery has begun before the resume frame.
				b = connect(t, f.inst, f.bob)
				seqs = append(seqs, b.until(t, "message").Message.Seq)
				b.send(map[string]any{"type": "resume", "cursors": cursors})
			}
			if err := <-sent; err != nil {
				t.Fatal(err)
			}
			resumed := false
			for len(seqs) < total-5 || !resumed {
				fr := b.next(t)
				switch fr.Type {
				case "message":
					seqs = append(seqs, fr.Message.Seq)
					if resumed {
						afterResumed = append(afterResumed, fr.Message.Seq)
					}
				case "resumed":
					resumed = true
				}
			}
			if extra := ofType(b.sync(t), "message"); len(extra) != 0 {
				t.Fatalf("duplicates after the seam: %v", extra)
			}
			if inAuth {
				checkSeqs(t, "seam", seqs, 6, total)
				return
			}
			seen := map[int64]bool{}
			for _, s := range seqs {
				if seen[s] || s < 6 || s > total {
					t.Fatalf("seq %d repeated or out of range: %v", s, seqs)
				}
				seen[s] = true
			}
			for i := 1; i < len(afterResumed); i++ {
				if afterResumed[i] != afterResumed[i-1]+1 {
					t.Fatalf("live order after resumed broken: %v", afterResumed)
				}
			}
		})
	}
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
		sc.mu.Lock()
		defer sc.mu.Unlock()
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

// TestPasswordChangeClosesSockets: a password change closes every
// connection of the user (4401; the event goes through the broker like any
// other, so every instance does the same); the old access token opens no
// new one while a new login's does; other users' connections stay.
func TestPasswordChangeClosesSockets(t *testing.T) {
	clock := &fakeClock{now: time.Now()}
	f := newFixtureOn(t, instanceConfig{store: storetest.SQLite(t), clock: clock.Now})
	ctx := context.Background()
	a1 := connect(t, f.inst, f.alice)
	a2 := connect(t, f.inst, f.alice)
	b := connect(t, f.inst, f.bob)
	_ = a1.sync(t)
	_ = a2.sync(t)
	_ = b.sync(t)
	// In the same second as the token's iat: no window.
	_, err := f.inst.svc.UpdateMe(ctx, f.alice.ID, app.ProfileChange{
		Password: ptrTo("another horse battery"), CurrentPassword: ptrTo("correct horse battery"),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client{a1, a2} {
		if code := c.closed(t); code != CloseUnauthorized {
			t.Fatalf("alice's connection closed with %d (%v), want 4401", code, c.err)
		}
	}
	// The old token is refused at once.
	old, _, err := dial(t, f.inst.url, dialOpt{header: http.Header{"Authorization": {"Bearer " + f.alice.token}}})
	if err != nil {
		t.Fatal(err)
	}
	if code := old.closed(t); code != CloseUnauthorized {
		t.Fatalf("old token: closed with %d (%v), want 4401", code, old.err)
	}
	// A new login opens one; bob never noticed.
	res, err := f.inst.svc.Login(ctx, f.alice.Username, "another horse battery")
	if err != nil {
		t.Fatal(err)
	}
	connect(t, f.inst, account{User: f.alice.User, token: res.AccessToken})
	if _, _, err := f.inst.svc.Send(ctx, f.alice.ID, f.gid, app.Outgoing{Body: "still here"}); err != nil {
		t.Fatal(err)
	}
	if m := b.until(t, "message"); m.Message == nil || m.Message.Body != "still here" {
		t.Fatalf("bob got %s", m.raw)
	}
}

func ptrTo[T any](v T) *T { return &v }

// sessionOf is the session of an account's token.
func sessionOf(t *testing.T, a account) string {
	t.Helper()
	c, err := newTokens(t).Verify(a.token, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c.Session
}

// userConn returns one of the user's registered connections on the hub,
// nil if none.
func userConn(h *Hub, uid int64) *conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.users[uid] {
		return c
	}
	return nil
}

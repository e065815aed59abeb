package realtime

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/broker"
	"github.com/chatapp/chat/chat"
	"github.com/chatapp/chat/store/storetest"
)

// without drops the frames of a type (presence comes and goes as the
// sockets of the test do).
func without(fs []frame, typ string) []frame {
	var out []frame
	for _, f := range fs {
		if f.Type != typ {
			out = append(out, f)
		}
	}
	return out
}

// closeReason is the reason of the close frame that ended a client.
func closeReason(c *client) string {
	var ce websocket.CloseError
	if asCloseError(c.err, &ce) {
		return ce.Reason
	}
	return ""
}

// TestTokenExpiryClosesTheSocketUnlessReauthenticated: a socket closes
// with 4401 when its access token expires; an in-band auth frame with a
// fresh token of the same user answers reauthed and keeps it open past
// that; another user's token or an invalid one closes it at once.
func TestTokenExpiryClosesTheSocketUnlessReauthenticated(t *testing.T) {
	f := newFixtureOn(t, instanceConfig{store: storetest.SQLite(t), tokens: newTokensTTL(t, 2*time.Second)})
	long := newTokensTTL(t, time.Hour)
	sess := sessionOf(t, f.alice)
	fresh, _, err := long.Issue(f.alice.ID, sess, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	bobs, _, err := long.Issue(f.bob.ID, sessionOf(t, f.bob), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	plain := connect(t, f.inst, f.alice)
	renewed := connect(t, f.inst, f.alice)
	stolen := connect(t, f.inst, f.alice)
	invalid := connect(t, f.inst, f.alice)

	renewed.send(map[string]any{"type": "auth", "token": fresh, "ref": "re"})
	if r := renewed.next(t); r.Type != "reauthed" || r.Ref != "re" || r.ExpiresIn < 3500 || r.ExpiresIn > 3600 {
		t.Fatalf("answer to a fresh token: %s, want reauthed with expires_in about 3600", r.raw)
	}
	stolen.send(map[string]any{"type": "auth", "token": bobs})
	invalid.send(map[string]any{"type": "auth", "token": "x.y.z"})
	for name, c := range map[string]*client{"another user's token": stolen, "an invalid token": invalid} {
		if code := c.closed(t); code != CloseUnauthorized {
			t.Errorf("%s: closed with %d (%v), want 4401", name, code, c.err)
		}
	}

	if code := plain.closed(t); code != CloseUnauthorized || closeReason(plain) != "token_expired" {
		t.Fatalf("unrenewed socket closed with %d %q, want 4401 token_expired", code, closeReason(plain))
	}
	took := time.Since(start)
	if took > 3*time.Second {
		t.Errorf("the socket of a 2 s token closed after %v", took)
	}
	t.Logf("a socket of a 2 s token closed %v after it opened", took.Round(time.Millisecond))
	// Past the first token's expiry, the renewed socket works.
	time.Sleep(500 * time.Millisecond)
	if got := renewed.sync(t); len(got) != 0 {
		t.Fatalf("renewed socket got %v", got)
	}
}

// TestLogoutClosesTheSocketsOfItsSession: a logout closes the sockets of
// that session (4401) and refuses its token on REST and WebSocket, at once
// and with no broker event needed on this instance; the user's other
// session stays until logout-all, which closes every socket of the user.
func TestLogoutClosesTheSocketsOfItsSession(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	phone := login(t, f.inst.svc, f.alice)
	laptop := connect(t, f.inst, f.alice)
	mobile := connect(t, f.inst, phone)
	b := connect(t, f.inst, f.bob)

	if err := f.inst.svc.Logout(ctx, f.alice.refresh); err != nil {
		t.Fatal(err)
	}
	if code := laptop.closed(t); code != CloseUnauthorized {
		t.Fatalf("the logged-out session's socket closed with %d (%v), want 4401", code, laptop.err)
	}
	if _, err := f.inst.svc.Authenticate(ctx, f.alice.token); !errors.Is(err, chat.ErrUnauthorized) {
		t.Fatalf("REST with the logged-out token: %v, want unauthorized", err)
	}
	old, _, err := dial(t, f.inst.url, dialOpt{header: http.Header{"Authorization": {"Bearer " + f.alice.token}}})
	if err != nil {
		t.Fatal(err)
	}
	if code := old.closed(t); code != CloseUnauthorized {
		t.Fatalf("a socket with the logged-out token closed with %d, want 4401", code)
	}
	if got := without(mobile.sync(t), "presence"); len(got) != 0 {
		t.Fatalf("the other session's socket got %v", got)
	}

	if err := f.inst.svc.LogoutAll(ctx, f.alice.ID); err != nil {
		t.Fatal(err)
	}
	if code := mobile.closed(t); code != CloseUnauthorized {
		t.Fatalf("after logout-all the socket closed with %d, want 4401", code)
	}
	if _, err := f.inst.svc.Authenticate(ctx, phone.token); !errors.Is(err, chat.ErrUnauthorized) {
		t.Fatalf("REST after logout-all: %v, want unauthorized", err)
	}
	if got := without(b.sync(t), "presence"); len(got) != 0 {
		t.Fatalf("bob got %v", got)
	}
}

// lossyBroker loses every event this instance publishes (pub/sub is at
// most once): the others learn of a session's end from the database only.
type lossyBroker struct {
	*broker.Memory
}

func (lossyBroker) Publish(context.Context, ...broker.Message) error { return nil }

// TestSessionEndReachesEveryInstance: a logout on one instance closes the
// socket of that session on another and has its token refused there, on
// REST and WebSocket, within 2 s, also when the broker lost the event; the
// user's other session stays.
func TestSessionEndReachesEveryInstance(t *testing.T) {
	for _, tc := range []struct {
		name  string
		start func(t *testing.T) (a, b *instance)
	}{
		{"in-process broker", func(t *testing.T) (*instance, *instance) {
			cl := startCluster(t, 2, clusterConfig{})
			return cl.insts[0], cl.insts[1]
		}},
		{"postgres and redis", func(t *testing.T) (*instance, *instance) {
			cl := startCluster(t, 2, clusterConfig{redis: true})
			return cl.insts[0], cl.insts[1]
		}},
		{"the broker loses the event", func(t *testing.T) (*instance, *instance) {
			st := storetest.SQLite(t)
			tokens := newTokens(t)
			mem := broker.NewMemory()
			t.Cleanup(func() { _ = mem.Close() })
			a := startInstance(t, instanceConfig{store: st, tokens: tokens, broker: lossyBroker{mem}})
			b := startInstance(t, instanceConfig{store: st, tokens: tokens, broker: mem})
			return a, b
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := tc.start(t)
			ctx := context.Background()
			alice := register(t, a.svc, "alice")
			phone := login(t, a.svc, alice)
			eventually(t, "the other instance read the ended sessions", b.sessions.Loaded)
			onB := connect(t, b, alice)
			other := connect(t, b, phone)

			start := time.Now()
			if err := a.svc.Logout(ctx, alice.refresh); err != nil {
				t.Fatal(err)
			}
			var refused time.Duration
			eventually(t, "the token is refused on the other instance", func() bool {
				_, err := b.svc.Authenticate(ctx, alice.token)
				refused = time.Since(start)
				return errors.Is(err, chat.ErrUnauthorized)
			})
			if code := onB.closed(t); code != CloseUnauthorized {
				t.Fatalf("the session's socket on the other instance closed with %d, want 4401", code)
			}
			closed := time.Since(start)
			if refused > 2*time.Second || closed > 2*time.Second {
				t.Errorf("refused after %v, socket closed after %v; want both within 2 s", refused, closed)
			}
			t.Logf("on the other instance: REST refused the token after %v, its socket closed after %v",
				refused.Round(time.Millisecond), closed.Round(time.Millisecond))
			old, _, err := dial(t, b.url, dialOpt{authMsg: map[string]any{"type": "auth", "token": alice.token}})
			if err != nil {
				t.Fatal(err)
			}
			if code := old.closed(t); code != CloseUnauthorized {
				t.Fatalf("a new socket with the token closed with %d, want 4401", code)
			}
			if got := without(other.sync(t), "presence"); len(got) != 0 {
				t.Fatalf("the other session's socket got %v", got)
			}
		})
	}
}

// TestTooManySocketsCloseTheOldest: beyond MaxPerUser the user's oldest
// socket closes with 4429; the newer ones and other users' work on.
func TestTooManySocketsCloseTheOldest(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.MaxPerUser = 2 })
	first := connect(t, f.inst, f.alice)
	second := connect(t, f.inst, f.alice)
	b := connect(t, f.inst, f.bob)
	third := connect(t, f.inst, f.alice)
	if code := first.closed(t); code != CloseRateLimited {
		t.Fatalf("the oldest socket closed with %d (%v), want 4429", code, first.err)
	}
	for _, c := range []*client{second, third, b} {
		if got := without(c.sync(t), "presence"); len(got) != 0 {
			t.Fatalf("%s got %v", c.name, got)
		}
	}
	// The closed socket leaves the registry once its handler has ended,
	// which may be after the client saw the close frame.
	eventually(t, "alice down to 2 sockets", func() bool { return f.inst.hub.localConns(f.alice.ID) == 2 })
}

// TestUnauthenticatedSocketsPerAddressAreCapped: an address holding
// MaxPendingPerAddr sockets that have not authenticated gets 429 for the
// next; once one authenticates, there is room again.
func TestUnauthenticatedSocketsPerAddressAreCapped(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.MaxPendingPerAddr = 2 })
	first, _, err := dial(t, f.inst.url, dialOpt{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := dial(t, f.inst.url, dialOpt{}); err != nil {
		t.Fatal(err)
	}
	_, resp, err := dial(t, f.inst.url, dialOpt{})
	if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("third pending socket: %v, %v; want 429 with Retry-After", err, resp)
	}
	first.send(map[string]any{"type": "auth", "token": f.alice.token})
	if r := first.next(t); r.Type != "ready" {
		t.Fatalf("got %s, want ready", r.raw)
	}
	eventually(t, "the authenticated socket no longer counts", func() bool {
		f.inst.hub.mu.Lock()
		defer f.inst.hub.mu.Unlock()
		return f.inst.hub.pending["127.0.0.1"] == 1
	})
	if _, _, err := dial(t, f.inst.url, dialOpt{}); err != nil {
		t.Fatalf("a pending socket after one authenticated: %v", err)
	}
}

// hookedGroups calls hook after every GroupIDs of a user, with how many
// the user has had: what happens between the endpoint's reads of a user's
// groups and the registration of the connection.
type hookedGroups struct {
	Service
	hook  *atomic.Pointer[func(uid int64, call int)]
	calls *sync.Map // uid -> *atomic.Int32
}

func (s hookedGroups) GroupIDs(ctx context.Context, uid int64) ([]int64, error) {
	ids, err := s.Service.GroupIDs(ctx, uid)
	n, _ := s.calls.LoadOrStore(uid, new(atomic.Int32))
	call := int(n.(*atomic.Int32).Add(1))
	if h := s.hook.Load(); h != nil {
		(*h)(uid, call)
	}
	return ids, err
}

// TestMembershipChangesDuringTheHandshake: a member removed or added while
// their new socket is being opened gets exactly the groups they are in
// once it is ready, whenever the change commits and is routed: before the
// endpoint's first or its last read of the groups, between that read and
// the registration, and with a message of the group sent in the same
// window (it used to reach a removed member when it came right after the
// ready frame, before the groups were read again).
func TestMembershipChangesDuringTheHandshake(t *testing.T) {
	type change int
	const (
		remove change = iota
		add
	)
	tests := []struct {
		name   string
		call   int // which of bob's GroupIDs calls the change follows
		change change
	}{
		{name: "removed after the first read", call: 1, change: remove},
		{name: "removed after the last read", call: 2, change: remove},
		{name: "added after the first read", call: 1, change: add},
		{name: "added after the last read", call: 2, change: add},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hook atomic.Pointer[func(uid int64, call int)]
			f := newFixtureOn(t, instanceConfig{store: storetest.SQLite(t), wrap: func(s Service) Service {
				return hookedGroups{Service: s, hook: &hook, calls: &sync.Map{}}
			}})
			ctx := context.Background()
			other := createGroup(t, f.inst.svc, f.alice, "other")
			gid, event := f.gid, "member_left"
			if tt.change == add {
				gid, event = other, "member_joined"
			}
			a := connect(t, f.inst, f.alice)
			_ = a.sync(t)
			failed := make(chan error, 8)
			// waitFor reads alice's frames (she is in both groups) until one
			// of type typ: then it has been routed.
			waitFor := func(typ string) {
				deadline := time.After(waitLong)
				for {
					select {
					case fr, ok := <-a.frames:
						if !ok || fr.Type == typ {
							return
						}
					case <-deadline:
						failed <- fmt.Errorf("alice never got %s", typ)
						return
					}
				}
			}
			h := func(uid int64, call int) {
				if uid != f.bob.ID {
					return
				}
				if call == tt.call {
					var err error
					if tt.change == remove {
						err = f.inst.svc.RemoveMember(ctx, f.alice.ID, gid, f.bob.ID)
					} else {
						_, err = f.inst.svc.AddMember(ctx, f.alice.ID, gid, f.bob.ID)
					}
					if err != nil {
						failed <- err
						return
					}
					waitFor(event)
				}
				if call == 2 {
					// A message in the same window, routed before this
					// read returns.
					if _, _, err := f.inst.svc.Send(ctx, f.alice.ID, gid, app.Outgoing{Body: "during the handshake"}); err != nil {
						failed <- err
						return
					}
					waitFor("message")
				}
			}
			hook.Store(&h)
			b := connect(t, f.inst, f.bob)
			select {
			case err := <-failed:
				t.Fatal(err)
			default:
			}
			if _, _, err := f.inst.svc.Send(ctx, f.alice.ID, gid, app.Outgoing{Body: "after the handshake"}); err != nil {
				t.Fatal(err)
			}
			if m := a.until(t, "message"); m.Message == nil || m.Message.Body != "after the handshake" {
				t.Fatalf("alice got %s", m.raw)
			}
			got := ofType(b.sync(t), "message")
			switch tt.change {
			case remove:
				if len(got) != 0 {
					t.Fatalf("the removed member's new socket got %v", got)
				}
			case add:
				// What was sent during the handshake is history (the
				// client reads it, or resumes); what comes after is live.
				if len(got) != 1 || got[0].Message == nil || got[0].Message.Body != "after the handshake" {
					t.Fatalf("the added member's new socket got %v, want the message sent after it was ready", got)
				}
			}
		})
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

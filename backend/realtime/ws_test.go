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

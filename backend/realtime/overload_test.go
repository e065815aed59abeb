package realtime

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/chatapp/chat/chat"
)

// A reader whose oldest unsent event has waited longer than maxDelay is cut
// with 1013 at the next event (it resumes), instead of piling events up to
// the frame bound, seconds behind.
func TestSendQueueCutsAReaderTooFarBehind(t *testing.T) {
	w := &gatedWriter{recordingWriter: &recordingWriter{}, taken: make(chan struct{}, 1), gate: make(chan struct{})}
	m, _ := newMetrics(nil)
	q := &sendQueue{limit: 1024, uid: 1, out: w, m: m, maxDelay: 30 * time.Millisecond}
	q.push([]byte("first"))
	<-w.taken // the writer is stuck on it: the socket does not drain
	q.push([]byte("second"))
	if q.isClosing() {
		t.Fatal("closed before any event waited too long")
	}
	time.Sleep(60 * time.Millisecond)
	for i := 0; i < delayCheckEvery && !q.isClosing(); i++ {
		q.push([]byte("later"))
	}
	if !q.isClosing() {
		t.Fatalf("not closing within %d frames after the oldest event waited beyond maxDelay", delayCheckEvery)
	}
	close(w.gate)
	q.finish()
	if w.code != websocket.StatusTryAgainLater || !slices.Equal(w.frames, []string{"first"}) {
		t.Fatalf("closed with %d after %v, want 1013 after [first]", w.code, w.frames)
	}
}

// A reader that keeps up is never cut, however long the connection lives:
// the age is the oldest UNSENT frame's, not the connection's.
func TestSendQueueKeepsAReaderThatKeepsUp(t *testing.T) {
	m, _ := newMetrics(nil)
	w := &recordingWriter{}
	q := &sendQueue{limit: 1024, uid: 1, out: w, m: m, maxDelay: 20 * time.Millisecond}
	var want []string
	for i := range 10 {
		f := string(rune('a' + i))
		want = append(want, f)
		q.push([]byte(f))
		time.Sleep(5 * time.Millisecond) // 50 ms in all, well past maxDelay
	}
	if got := q.writtenOut(t, w); !slices.Equal(got, want) || w.code != websocket.StatusNormalClosure {
		t.Fatalf("written %v, closed %d; want %v and a normal close", got, w.code, want)
	}
}

func TestPressureVerdict(t *testing.T) {
	t0 := time.Unix(1000, 0)
	tests := []struct {
		name         string
		onTime       int
		late         int
		routeWait    time.Duration
		askAfter     time.Duration
		wantOverload bool
	}{
		{"idle", 0, 0, 0, pressureWindow, false},
		{"keeping up", 100, 10, 0, pressureWindow, false},
		{"a quarter late", 75, 25, 0, pressureWindow, true},
		{"too few batches to tell", 2, 10, 0, pressureWindow, false},
		{"late long ago", 0, 100, 0, 10 * pressureWindow, false},
		{"router behind", 100, 0, 2 * pressureLateAfter, pressureWindow, true},
		{"router on time", 100, 0, pressureLateAfter / 2, pressureWindow, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPressure()
			if p.overloaded(t0) {
				t.Fatal("overloaded before anything happened")
			}
			for range tc.onTime {
				p.wrote(time.Millisecond)
			}
			for range tc.late {
				p.wrote(2 * pressureLateAfter)
			}
			ask := t0.Add(tc.askAfter)
			if tc.routeWait > 0 {
				p.routed(ask.Add(-time.Millisecond), tc.routeWait)
			}
			if got := p.overloaded(ask); got != tc.wantOverload {
				t.Fatalf("overloaded = %v, want %v", got, tc.wantOverload)
			}
			// The verdict holds for a window, then is revised from what
			// happened since: nothing.
			if got := p.overloaded(ask.Add(pressureWindow / 2)); got != tc.wantOverload {
				t.Fatalf("verdict changed within its window")
			}
			if p.overloaded(ask.Add(pressureWindow + time.Millisecond)) {
				t.Fatal("still overloaded after a quiet window")
			}
		})
	}
}

// overload makes the hub's pressure say "behind" for the next window.
func overload(h *Hub) {
	for range 2 * pressureMinBatches {
		h.press.wrote(time.Hour)
	}
	h.press.evalAt.Store(time.Now().Add(-pressureWindow).UnixNano())
}

// keepBehind makes the hub's writers report late batches until the returned
// function is called (and has waited for them to stop).
func keepBehind(h *Hub) (caughtUp func()) {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			for range pressureMinBatches {
				h.press.wrote(time.Hour)
			}
			time.Sleep(time.Millisecond)
		}
	}()
	overload(h)
	return func() {
		close(stop)
		<-done
	}
}

// Admit holds a send while the hub is behind and lets it go as soon as the
// deliveries catch up; a hub that stays behind refuses it with
// rate_limited and a Retry-After, before anything is stored.
func TestAdmitHoldsThenRefusesWhileBehind(t *testing.T) {
	h, err := NewHub(Options{Broker: downBroker{}, Store: &memStore{}, MaxSendDelay: 60 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := h.Admit(ctx); err != nil {
		t.Fatalf("admit on an idle hub: %v", err)
	}

	// Behind for good: the writers keep reporting late batches.
	caughtUp := keepBehind(h)
	start := time.Now()
	err = h.Admit(ctx)
	caughtUp()
	var ce *chat.Error
	if !errors.Is(err, chat.ErrRateLimited) || !errors.As(err, &ce) || ce.RetryAfter < 1 {
		t.Fatalf("admit while behind = %v, want rate_limited with Retry-After", err)
	}
	if held := time.Since(start); held < 60*time.Millisecond {
		t.Fatalf("refused after %v, want the send held for MaxSendDelay first", held)
	}

	// Behind for one window only: the send waits, then goes.
	overload(h)
	if err := h.Admit(ctx); err != nil {
		t.Fatalf("admit once the deliveries caught up: %v", err)
	}

	// A send whose connection goes away stops waiting.
	overload(h)
	go func() {
		for range 20 {
			h.press.wrote(time.Hour)
			time.Sleep(time.Millisecond)
		}
	}()
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := h.Admit(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("admit with a cancelled context = %v", err)
	}
}

// Through the real endpoint and REST: while the instance stays behind on its
// deliveries, a send is answered rate_limited (an error frame with its ref;
// 429 with Retry-After on REST), nothing is stored, other frames still work,
// and the same send goes through once it has caught up, with the next seq.
func TestSendsAreRefusedWhileTheInstanceIsBehind(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.MaxSendDelay = 50 * time.Millisecond })
	a := connect(t, f.inst, f.alice)
	b := connect(t, f.inst, f.bob)
	h := f.inst.hub

	caughtUp := keepBehind(h)
	a.send(map[string]any{"type": "send", "group_id": f.gid, "body": "busy", "client_id": "c-busy", "ref": "r1"})
	e := a.until(t, "error", "ack")
	if e.Ref != "r1" || e.Error == nil || e.Error.Code != "rate_limited" {
		t.Fatalf("send while behind answered %s", e.raw)
	}
	a.send(map[string]any{"type": "ping", "ref": "p"})
	if p := a.until(t, "pong"); p.Ref != "p" {
		t.Fatalf("ping answered %s", p.raw)
	}
	req, _ := http.NewRequest(http.MethodPost, f.inst.srv.URL+"/api/v1/groups/"+itoa(f.gid)+"/messages", strings.NewReader(`{"body":"busy too"}`))
	req.Header.Set("Authorization", "Bearer "+f.alice.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Fatalf("REST send while behind: %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	caughtUp()

	// Caught up: the same send is stored with seq 1 (the refusals took none).
	time.Sleep(2 * pressureWindow)
	a.send(map[string]any{"type": "send", "group_id": f.gid, "body": "busy", "client_id": "c-busy", "ref": "r2"})
	ack := a.until(t, "ack", "error")
	if ack.Ref != "r2" || ack.Message == nil || ack.Message.Seq != 1 {
		t.Fatalf("send after catching up answered %s", ack.raw)
	}
	if m := b.until(t, "message"); m.Message == nil || m.Message.Seq != 1 || m.Message.Body != "busy" {
		t.Fatalf("bob got %s", m.raw)
	}
}

// The writers are what the pressure hears: a batch taken at once counts as
// on time, one whose oldest frame waited behind a slow write counts as late.
func TestSendQueueReportsHowLongItsBatchesWaited(t *testing.T) {
	w := &gatedWriter{recordingWriter: &recordingWriter{}, taken: make(chan struct{}, 1), gate: make(chan struct{})}
	m, _ := newMetrics(nil)
	p := newPressure()
	q := &sendQueue{limit: 1024, uid: 1, out: w, m: m, press: p}
	q.push([]byte("first"))
	<-w.taken // taken at once; its write is held
	q.push([]byte("second"))
	time.Sleep(pressureLateAfter + 20*time.Millisecond)
	close(w.gate)
	<-w.taken // "second", which waited behind the held write
	q.finish()
	if b, l := p.batches.Load(), p.late.Load(); b != 2 || l != 1 {
		t.Fatalf("batches %d, late %d; want 2 batches, 1 late", b, l)
	}
}

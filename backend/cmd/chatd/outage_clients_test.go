package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

type wsFrame struct {
	Type    string `json:"type"`
	Ref     string `json:"ref"`
	Message *struct {
		GroupID int64 `json:"group_id"`
		Seq     int64 `json:"seq"`
	} `json:"message"`
	Error *struct{ Code string } `json:"error"`
}

// outageSender sends one message every 10 ms over one WebSocket, each with
// its own client_id; sends that fail are retried with the same client_id
// when stop is called.
type outageSender struct {
	ws    *websocket.Conn
	gid   int64
	done  chan struct{}
	wg    sync.WaitGroup
	mu    sync.Mutex
	sent  map[string]time.Time // ref → when sent, until answered
	acked map[string]int64     // client_id → seq
	ackAt []ackTime
	fails map[string]bool // client_ids answered with an error
	nFail int
	other []string // errors other than unavailable
	// answered wakes the test after each answer.
	answered changed
}

type ackTime struct {
	took time.Duration
	sent time.Time
}

func startSender(ctx context.Context, t *testing.T, in *outageInstance, u outageUser, gid int64) *outageSender {
	t.Helper()
	ws, err := dialWS(ctx, in, u.token)
	if err != nil {
		t.Fatal(err)
	}
	s := &outageSender{ws: ws, gid: gid, done: make(chan struct{}), sent: map[string]time.Time{}, acked: map[string]int64{}, fails: map[string]bool{}}
	s.wg.Go(func() { s.read(ctx) })
	s.wg.Go(func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-s.done:
				return
			case <-tick.C:
			}
			if err := s.send(ctx, fmt.Sprintf("c%d", i)); err != nil {
				t.Errorf("sender: %v", err)
				return
			}
		}
	})
	return s
}

func (s *outageSender) send(ctx context.Context, cid string) error {
	f, _ := json.Marshal(map[string]any{"type": "send", "group_id": s.gid, "body": "through the outage", "client_id": cid, "ref": cid})
	s.mu.Lock()
	s.sent[cid] = time.Now()
	s.mu.Unlock()
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return s.ws.Write(wctx, websocket.MessageText, f)
}

func (s *outageSender) read(ctx context.Context) {
	for {
		_, data, err := s.ws.Read(ctx)
		if err != nil {
			return
		}
		var f wsFrame
		if json.Unmarshal(data, &f) != nil {
			continue
		}
		s.mu.Lock()
		switch f.Type {
		case "ack":
			sent := s.sent[f.Ref]
			delete(s.sent, f.Ref)
			s.acked[f.Ref] = f.Message.Seq
			delete(s.fails, f.Ref)
			s.ackAt = append(s.ackAt, ackTime{took: time.Since(sent), sent: sent})
		case "error":
			delete(s.sent, f.Ref)
			s.fails[f.Ref] = true
			s.nFail++
			if f.Error == nil || f.Error.Code != "unavailable" {
				s.other = append(s.other, string(data))
			}
		}
		s.mu.Unlock()
		s.answered.notify()
	}
}

// waitAcks waits until n sends made since from are acknowledged.
func (s *outageSender) waitAcks(t *testing.T, from time.Time, n int) {
	t.Helper()
	ok := s.answered.await(30*time.Second, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		acks := 0
		for _, a := range s.ackAt {
			if !a.sent.Before(from) {
				acks++
			}
		}
		return acks >= n
	})
	if !ok {
		t.Fatalf("fewer than %d sends since %v acknowledged", n, from.Format(time.StampMilli))
	}
}

func (s *outageSender) ackTimesBetween(from, to time.Time) []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []time.Duration
	for _, a := range s.ackAt {
		if !a.sent.Before(from) && a.sent.Before(to) {
			out = append(out, a.took)
		}
	}
	return out
}

// stop ends the sending, retries every failed send until each is
// acknowledged, and returns client_id → seq of every send and how many
// failed at first.
func (s *outageSender) stop(t *testing.T) (map[string]int64, int) {
	t.Helper()
	close(s.done)
	var pending, failing int
	// Once every send is answered, the failed ones are sent again, until
	// none fails.
	settled := s.answered.await(30*time.Second, func() bool {
		s.mu.Lock()
		pending, failing = len(s.sent), len(s.fails)
		retry := slices.Sorted(maps.Keys(s.fails))
		if pending == 0 {
			clear(s.fails)
		}
		s.mu.Unlock()
		if pending > 0 || failing == 0 {
			return pending == 0
		}
		for _, cid := range retry {
			if err := s.send(context.Background(), cid); err != nil {
				t.Fatal(err)
			}
		}
		return false
	})
	if !settled {
		t.Fatalf("sends still unanswered (%d) or failing (%d)", pending, failing)
	}
	_ = s.ws.Close(websocket.StatusNormalClosure, "")
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.other) > 0 {
		t.Errorf("sends failed other than unavailable: %v", s.other)
	}
	return s.acked, s.nFail
}

// outageReceiver reads one group on one instance, reconnecting and resuming
// from its last seq whenever its connection ends (the receiver's socket may
// be closed with 1013 when a replay cannot be read).
type outageReceiver struct {
	name    string
	mu      sync.Mutex
	seqs    []int64
	wg      sync.WaitGroup
	arrived changed // wakes the test after each message
}

func startReceiver(ctx context.Context, t *testing.T, in *outageInstance, u outageUser, gid int64) *outageReceiver {
	t.Helper()
	r := &outageReceiver{name: "receiver on " + in.name}
	ready := make(chan struct{})
	r.wg.Go(func() {
		first := true
		for ctx.Err() == nil {
			ws, err := dialWS(ctx, in, "")
			if err != nil {
				select { // the instance may be restarting: dial again soon
				case <-ctx.Done():
				case <-time.After(100 * time.Millisecond):
				}
				continue
			}
			r.mu.Lock()
			last := int64(0)
			if len(r.seqs) > 0 {
				last = r.seqs[len(r.seqs)-1]
			}
			r.mu.Unlock()
			// The cursors in the auth frame: one unbroken order from there.
			f, _ := json.Marshal(map[string]any{"type": "auth", "token": u.token, "cursors": map[string]int64{fmt.Sprint(gid): last}})
			if ws.Write(ctx, websocket.MessageText, f) == nil {
				if first {
					close(ready)
					first = false
				}
				for {
					_, data, err := ws.Read(ctx)
					if err != nil {
						break
					}
					var fr wsFrame
					if json.Unmarshal(data, &fr) == nil && fr.Type == "message" && fr.Message.GroupID == gid {
						r.mu.Lock()
						r.seqs = append(r.seqs, fr.Message.Seq)
						r.mu.Unlock()
						r.arrived.notify()
					}
				}
			}
			_ = ws.CloseNow()
		}
	})
	t.Cleanup(r.wg.Wait)
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s never connected", r.name)
	}
	return r
}

func (r *outageReceiver) waitFor(t *testing.T, n int64) {
	t.Helper()
	got := 0
	ok := r.arrived.await(30*time.Second, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		got = len(r.seqs)
		return slices.Contains(r.seqs, n)
	})
	if !ok {
		t.Fatalf("%s has %d messages, never got seq %d", r.name, got, n)
	}
}

// check: seqs 1..n, each once, in order.
func (r *outageReceiver) check(n int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var bad bytes.Buffer
	for i, s := range r.seqs {
		if s != int64(i+1) {
			fmt.Fprintf(&bad, "position %d has seq %d; ", i, s)
			if bad.Len() > 300 {
				break
			}
		}
	}
	if len(r.seqs) != n || bad.Len() > 0 {
		return fmt.Errorf("got %d messages for %d acknowledged: %s", len(r.seqs), n, bad.String())
	}
	return nil
}

package realtime

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/chat"
)

// churnResumes is how many resumes the churn test makes in all; make bench
// raises it (scripts/bench.sh).
var churnResumes = flag.Int("churn.resumes", 2000, "resumes made by TestResumeChurn")

// Receivers drop their connection and resume, on either of two instances,
// thousands of times while senders send into two groups: every receiver must
// see every message of both groups exactly once, in seq order within each
// group, over all its connections taken together. A connection that ends
// early is fine (the next one resumes from the last seq seen); a seq that is
// skipped, repeated or out of order is not.
func TestResumeChurn(t *testing.T) {
	if testing.Short() {
		t.Skip("long: -short")
	}
	for _, tc := range []struct {
		name string
		cfg  clusterConfig
	}{
		{"embedded", clusterConfig{mod: unlimitedSockets}},
		{"postgres-redis", clusterConfig{redis: true, mod: unlimitedSockets}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runChurn(t, startCluster(t, 2, tc.cfg), *churnResumes)
		})
	}
}

// unlimitedSockets lifts the socket caps: the receivers reconnect from one
// address as fast as they can, which is the point of the test.
func unlimitedSockets(o *Options) { o.MaxPendingPerAddr, o.MaxPerUser = -1, -1 }

// churnTally counts what one receiver saw wrong.
type churnTally struct {
	lost, duplicated, reordered int
}

// churnReceiver is one user who keeps reconnecting, resuming each group
// from the highest seq it has seen: with one unbroken order per connection
// that is also the end of what it holds without a gap, and a seq skipped by
// the server is never asked for again (it counts as lost at the end).
type churnReceiver struct {
	acct    account
	mu      sync.Mutex // last: the session's reader writes, its resumer reads
	last    map[int64]int64
	seen    map[int64]map[int64]bool
	resumes int
	tally   churnTally
}

func (r *churnReceiver) saw(gid, seq int64) {
	switch {
	case r.seen[gid][seq]:
		r.tally.duplicated++
		return
	case seq < r.last[gid]:
		r.tally.reordered++
	}
	r.seen[gid][seq] = true
	r.mu.Lock()
	r.last[gid] = max(r.last[gid], seq)
	r.mu.Unlock()
}

func runChurn(t *testing.T, cl *cluster, resumes int) {
	ctx := t.Context()
	svc := cl.insts[0].svc
	owner := register(t, svc, "churn-owner")
	groups := []int64{createGroup(t, svc, owner, "churn-a"), createGroup(t, svc, owner, "churn-b")}
	const nSenders, nReceivers = 8, 10
	senders := make([]account, nSenders)
	for i := range senders {
		senders[i] = register(t, svc, fmt.Sprintf("churn-sender-%d", i))
		for _, g := range groups {
			join(t, svc, senders[i], g)
		}
	}
	receivers := make([]*churnReceiver, nReceivers)
	for i := range receivers {
		r := &churnReceiver{acct: register(t, svc, fmt.Sprintf("churn-recv-%d", i)), last: map[int64]int64{}, seen: map[int64]map[int64]bool{}}
		for _, g := range groups {
			join(t, svc, r.acct, g)
			r.last[g], r.seen[g] = 0, map[int64]bool{}
		}
		receivers[i] = r
	}

	// Senders: each sends to both groups through both instances, paced so
	// that messages keep flowing for as long as the receivers churn.
	stop := make(chan struct{})
	var sent atomic.Int64
	var wg sync.WaitGroup
	sendErr := make(chan error, nSenders)
	for i, s := range senders {
		wg.Go(func() {
			tick := time.NewTicker(2 * time.Millisecond)
			defer tick.Stop()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				inst := cl.insts[(i+n)%len(cl.insts)]
				g := groups[n%len(groups)]
				if _, _, err := inst.svc.Send(ctx, s.ID, g, app.Outgoing{Body: "churn"}); err != nil {
					sendErr <- err
					return
				}
				sent.Add(1)
			}
		})
	}

	// Receivers churn until the resumes are made.
	var made atomic.Int64
	var rwg sync.WaitGroup
	for i, r := range receivers {
		rng := rand.New(rand.NewPCG(uint64(i), 42))
		rwg.Go(func() {
			for made.Load() < int64(resumes) && ctx.Err() == nil {
				inst := cl.insts[rng.IntN(len(cl.insts))]
				// Drop after a few messages, or at once: some connections end
				// in the middle of their replay.
				// Drop after a few messages or a few milliseconds, whichever
				// comes first, or at once: many connections end in the
				// middle of their replay.
				keep := rng.IntN(8)
				life := time.Duration(rng.IntN(60)) * time.Millisecond
				mid := rng.IntN(3) == 0
				if mid {
					keep, life = 20, 200*time.Millisecond
				}
				if err := r.session(ctx, inst.url, keep, life, mid, nil); err != nil {
					t.Errorf("receiver %d: %v", i, err)
					return
				}
				r.resumes++
				made.Add(1)
			}
		})
	}
	rwg.Wait()
	close(stop)
	wg.Wait()
	select {
	case err := <-sendErr:
		t.Fatalf("send: %v", err)
	default:
	}
	if t.Failed() {
		return
	}

	// Everything sent is stored; each receiver catches up once more and must
	// then hold every seq of both groups exactly once.
	want := map[int64]int64{}
	for _, g := range groups {
		items, _, err := cl.insts[0].svc.History(ctx, owner.ID, g, chat.HistoryQuery{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(items) == 1 {
			want[g] = items[0].Seq
		}
	}
	var total churnTally
	for i, r := range receivers {
		if err := r.session(ctx, cl.insts[i%len(cl.insts)].url, -1, 0, false, want); err != nil {
			t.Fatalf("receiver %d, final catch-up: %v", i, err)
		}
		for _, g := range groups {
			for seq := int64(1); seq <= want[g]; seq++ {
				if !r.seen[g][seq] {
					r.tally.lost++
				}
			}
		}
		if r.tally != (churnTally{}) {
			t.Errorf("receiver %d (%d resumes): %d lost, %d duplicated, %d reordered", i, r.resumes, r.tally.lost, r.tally.duplicated, r.tally.reordered)
		}
		total.lost += r.tally.lost
		total.duplicated += r.tally.duplicated
		total.reordered += r.tally.reordered
	}
	t.Logf("%s: %d messages, %d resumes by %d receivers: %d lost, %d duplicated, %d reordered",
		t.Name(), sent.Load(), made.Load()+int64(len(receivers)), len(receivers), total.lost, total.duplicated, total.reordered)
}

// session opens one connection that resumes from the receiver's cursors in
// its auth frame (as the SPA does) and reads it. With keep ≥ 0 it drops the
// connection (abruptly) after keep messages or once life has passed (0:
// right after the auth frame); with until set it reads until every group
// reached its seq. midResume makes it send a resume frame with its cursors
// every millisecond, each of which must bring nothing twice and lose nothing
// of what arrives live meanwhile.
func (r *churnReceiver) session(ctx context.Context, url string, keep int, life time.Duration, midResume bool, until map[int64]int64) error {
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(dctx, url, nil)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer ws.CloseNow()
	ws.SetReadLimit(-1)
	if err := r.writeCursors(dctx, ws, "auth"); err != nil {
		return err
	}
	rctx := dctx
	if keep >= 0 {
		var stop context.CancelFunc
		rctx, stop = context.WithTimeout(dctx, life)
		defer stop()
	}
	if midResume {
		// Resume frames keep coming while messages arrive live: every
		// replay then races the live delivery of the next message.
		var wg sync.WaitGroup
		defer wg.Wait()
		wctx, stop := context.WithCancel(rctx)
		defer stop()
		wg.Go(func() {
			for wctx.Err() == nil {
				if r.writeCursors(wctx, ws, "resume") != nil {
					return
				}
				time.Sleep(time.Millisecond)
			}
		})
	}
	got := 0
	for {
		if keep >= 0 && got >= keep {
			return nil
		}
		if until != nil && r.reached(until) {
			return nil
		}
		_, data, err := ws.Read(rctx)
		if err != nil {
			if until == nil && (rctx.Err() != nil || websocket.CloseStatus(err) == websocket.StatusTryAgainLater) {
				return nil // its time is up, or a slow consumer cut: resume again
			}
			return fmt.Errorf("read after %d messages: %w", got, err)
		}
		var f struct {
			Type    string `json:"type"`
			Message *struct {
				GroupID int64 `json:"group_id"`
				Seq     int64 `json:"seq"`
			} `json:"message"`
		}
		if err := json.Unmarshal(data, &f); err != nil {
			return fmt.Errorf("bad frame %q: %w", data, err)
		}
		switch f.Type {
		case "message":
			r.saw(f.Message.GroupID, f.Message.Seq)
			got++
		case "error":
			return fmt.Errorf("error frame %s", data)
		}
	}
}

// writeCursors sends an auth or resume frame with the receiver's cursors.
func (r *churnReceiver) writeCursors(ctx context.Context, ws *websocket.Conn, typ string) error {
	r.mu.Lock()
	cursors := make(map[string]int64, len(r.last))
	for g, last := range r.last {
		cursors[itoa(g)] = last
	}
	r.mu.Unlock()
	f := map[string]any{"type": typ, "cursors": cursors}
	if typ == "auth" {
		f["token"] = r.acct.token
	}
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
		return fmt.Errorf("%s frame: %w", typ, err)
	}
	return nil
}

func (r *churnReceiver) reached(until map[int64]int64) bool {
	for g, seq := range until {
		if r.last[g] < seq {
			return false
		}
	}
	return true
}

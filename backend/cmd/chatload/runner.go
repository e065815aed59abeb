package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

type runner struct {
	cfg   config
	log   *slog.Logger
	api   *api
	wsURL string
	wsHC  *http.Client
	start time.Time
	runID string
	peer  *peerTarget // set when the run is against the peer (-protocol centrifugo)
}

func (r *runner) run(ctx context.Context) (*report, error) {
	rep := &report{scenario: r.cfg.Scenario}
	if r.cfg.Label != "" {
		rep.add("label", r.cfg.Label)
	}
	var err error
	switch r.cfg.Scenario {
	case "idle":
		err = r.idle(ctx, rep)
	case "fanout":
		if r.peer != nil {
			err = r.peerFanout(ctx, rep)
		} else {
			err = r.fanout(ctx, rep)
		}
	case "write":
		err = r.write(ctx, rep)
	case "history":
		err = r.history(ctx, rep)
	}
	if err != nil {
		return nil, err
	}
	if st, err := r.api.serverStats(ctx, r.cfg.PID); err == nil {
		rep.add("server_rss_mb_after", round(float64(st.RSS)/(1<<20), 1))
	}
	return rep, nil
}

func (r *runner) newPool(onFrame func(s *session, f *frame)) *pool {
	return &pool{
		wsURL:     r.wsURL,
		hc:        r.wsHC,
		log:       r.log,
		start:     r.start,
		runID:     r.runID,
		reconnect: !r.cfg.NoReconnect,
		onFrame:   onFrame,
	}
}

// accounts provides n users: first those of the -accounts file (refreshed,
// which is cheap), then new ones registered through the REST API. It adds
// the sign-up rate to the report (the server's argon2id cost, worth knowing).
func (r *runner) accounts(ctx context.Context, rep *report, n int) ([]account, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Setup)
	defer cancel()
	var stored []storedAccount
	if r.cfg.AccountsFile != "" {
		var err error
		if stored, err = loadAccounts(r.cfg.AccountsFile); err != nil {
			return nil, err
		}
	}
	reuse := min(len(stored), n)
	accts := make([]account, n)
	var done atomic.Int64
	progress := r.progress(ctx, "preparing users", n, &done)
	defer progress()

	err := forEach(ctx, reuse, r.cfg.SetupConc, func(ctx context.Context, i int) error {
		tp, err := r.api.refresh(ctx, stored[i].RefreshToken)
		if err != nil {
			return fmt.Errorf("refresh stored user %s (delete %s if the database was reset): %w", stored[i].Username, r.cfg.AccountsFile, err)
		}
		accts[i] = account{ID: stored[i].ID, Username: stored[i].Username, Token: tp.AccessToken}
		stored[i].RefreshToken = tp.RefreshToken
		done.Add(1)
		return nil
	})
	if err != nil {
		r.saveAccounts(stored)
		return nil, err
	}
	fresh := make([]storedAccount, n-reuse)
	t0 := time.Now()
	err = forEach(ctx, n-reuse, r.cfg.SetupConc, func(ctx context.Context, j int) error {
		i := reuse + j
		a, refresh, err := r.api.register(ctx, "cl"+r.runID+"_"+strconv.Itoa(i), r.cfg.Password)
		if err != nil {
			return fmt.Errorf("register user %d: %w", i, err)
		}
		accts[i] = a
		fresh[j] = storedAccount{ID: a.ID, Username: a.Username, RefreshToken: refresh}
		done.Add(1)
		return nil
	})
	took := time.Since(t0)
	for _, f := range fresh {
		if f.RefreshToken != "" {
			stored = append(stored, f)
		}
	}
	r.saveAccounts(stored)
	if err != nil {
		return nil, err
	}
	rep.add("users", n)
	rep.add("users_reused", reuse)
	if n > reuse {
		rep.add("signups_per_s", perSecond(int64(n-reuse), took))
	}
	r.log.Info("users ready", "n", n, "reused", reuse, "registered", n-reuse, "took", took.Round(time.Millisecond))
	return accts, nil
}

func (r *runner) saveAccounts(stored []storedAccount) {
	if r.cfg.AccountsFile == "" {
		return
	}
	if err := saveAccounts(r.cfg.AccountsFile, stored); err != nil {
		r.log.Error("keep accounts", "err", err)
	}
}

// progress logs every 5 s while a long setup step runs; the returned func
// stops it.
func (r *runner) progress(ctx context.Context, what string, total int, done *atomic.Int64) func() {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				r.log.Info(what, "done", done.Load(), "of", total)
			}
		}
	})
	return func() { cancel(); wg.Wait() }
}

// group creates a public group owned by owner and lets members join it.
func (r *runner) group(ctx context.Context, owner account, members []account, name string) (groupInfo, error) {
	g, err := r.api.createGroup(ctx, owner.Token, name)
	if err != nil {
		return g, fmt.Errorf("create group: %w", err)
	}
	err = forEach(ctx, len(members), r.cfg.SetupConc, func(ctx context.Context, i int) error {
		if members[i].ID == owner.ID {
			return nil
		}
		if err := r.api.join(ctx, members[i].Token, g.ID); err != nil {
			return fmt.Errorf("join group %d: %w", g.ID, err)
		}
		return nil
	})
	return g, err
}

// connect opens the scenario's WebSocket connections and reports how fast.
func (r *runner) connect(ctx context.Context, rep *report, p *pool, accts []account, n int, setup func(*session)) error {
	return r.timedOpen(ctx, rep, &p.connStats, n, func(ctx context.Context, opened func()) error {
		return p.open(ctx, context.WithoutCancel(ctx), accts, n, r.cfg.DialConc, func(s *session) {
			opened()
			if setup != nil {
				setup(s)
			}
		})
	})
}

// timedOpen runs open, which opens n connections of any protocol and calls
// opened for each, within the setup timeout, logging progress, and reports
// how fast they opened.
func (r *runner) timedOpen(ctx context.Context, rep *report, st *connStats, n int, open func(ctx context.Context, opened func()) error) error {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Setup)
	defer cancel()
	t0 := time.Now()
	var done atomic.Int64
	progress := r.progress(ctx, "connecting", n, &done)
	err := open(ctx, func() { done.Add(1) })
	progress()
	if err != nil {
		return err
	}
	took := time.Since(t0)
	rep.add("connections", n)
	rep.add("connects_per_s", perSecond(int64(n), took))
	rep.addLatency("connect", &st.connectH)
	r.log.Info("connected", "n", n, "took", took.Round(time.Millisecond))
	return nil
}

func (r *runner) addConnErrors(rep *report, p *connStats) {
	rep.add("disconnects", p.disconnects.Load())
	rep.add("reconnects", p.reconnects.Load())
	rep.add("error_frames", p.errFrames.Load())
	rep.add("rate_limited", p.rateLimited.Load())
	rep.add("write_errors", p.writeErrs.Load())
	rep.add("bad_frames", p.badFrames.Load())
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// idle: N authenticated connections that do nothing; what does one cost
// the server?
func (r *runner) idle(ctx context.Context, rep *report) error {
	accts, err := r.accounts(ctx, rep, r.cfg.accounts())
	if err != nil {
		return err
	}
	// Let the sign-up garbage be collected before the baseline.
	if err := sleepCtx(ctx, r.cfg.Settle); err != nil {
		return err
	}
	before, err := r.api.serverStats(ctx, r.cfg.PID)
	if err != nil {
		return fmt.Errorf("server memory before: %w", err)
	}
	p := r.newPool(func(*session, *frame) {})
	defer p.closeAll(256)
	n := r.cfg.Conns
	if err := r.connect(ctx, rep, p, accts, n, nil); err != nil {
		return err
	}
	if err := sleepCtx(ctx, r.cfg.Settle); err != nil {
		return err
	}
	after, err := r.api.serverStats(ctx, r.cfg.PID)
	if err != nil {
		return fmt.Errorf("server memory after: %w", err)
	}
	// Hold the connections for the run's duration: they must all survive.
	if err := sleepCtx(ctx, r.cfg.Duration); err != nil {
		return err
	}
	rep.add("held_s", r.cfg.Duration.Seconds())
	rep.add("server_rss_mb_before", round(float64(before.RSS)/(1<<20), 1))
	rep.add("server_rss_mb_connected", round(float64(after.RSS)/(1<<20), 1))
	rep.add("rss_per_conn_kb", round(float64(after.RSS-before.RSS)/float64(n)/1024, 2))
	if before.GoInuse >= 0 && after.GoInuse >= 0 {
		rep.add("go_inuse_per_conn_kb", round(float64(after.GoInuse-before.GoInuse)/float64(n)/1024, 2))
	}
	if before.Goroutines >= 0 && after.Goroutines >= 0 {
		rep.add("goroutines_per_conn", round(float64(after.Goroutines-before.Goroutines)/float64(n), 2))
	}
	r.addConnErrors(rep, &p.connStats)
	return nil
}

// sender is one source of messages in a run: one of our WebSocket sessions,
// acknowledged by its reader, or a publisher of the peer's HTTP API,
// acknowledged by the response.
type sender interface {
	slots() chan struct{} // in-flight sends, bounded by its capacity
	send(ctx context.Context, bodySize int) error
	releasePermit()
	ackCount() int64
}

// sendLoop keeps one sender sending until ctx ends: paced at interval when
// it is positive, else as fast as its in-flight permits come back. Writes
// use runCtx: cancelling a write's context closes the connection.
func (r *runner) sendLoop(ctx, runCtx context.Context, s sender, interval time.Duration) {
	next := time.Now()
	for ctx.Err() == nil {
		if interval > 0 {
			next = next.Add(interval)
			if behind := -time.Until(next); behind > time.Second {
				next = time.Now() // do not burst to catch up a stall
			}
			if err := sleepCtx(ctx, time.Until(next)); err != nil {
				return
			}
		}
		select {
		case s.slots() <- struct{}{}:
		case <-ctx.Done():
			return
		}
		if err := s.send(runCtx, r.cfg.BodySize); err != nil {
			s.releasePermit()
			r.log.Debug("send", "err", err)
			if sleepCtx(ctx, 50*time.Millisecond) != nil { // the reader is probably reconnecting
				return
			}
		}
	}
}

// sendPhase runs sendLoop on every sender for the run's duration and returns
// the window and how many acks arrived inside it.
func (r *runner) sendPhase(ctx context.Context, senders []sender, interval time.Duration) (time.Duration, int64) {
	mctx, cancel := context.WithTimeout(ctx, r.cfg.Duration)
	defer cancel()
	t0 := time.Now()
	var wg sync.WaitGroup
	for _, s := range senders {
		wg.Go(func() { r.sendLoop(mctx, ctx, s, interval) })
	}
	<-mctx.Done()
	window := time.Since(t0)
	var acked int64
	for _, s := range senders {
		acked += s.ackCount()
	}
	wg.Wait()
	return window, acked
}

// waitUntil polls cond until it holds or the drain time is over.
func (r *runner) waitUntil(ctx context.Context, deadline time.Time, cond func() bool) bool {
	for !cond() {
		if time.Now().After(deadline) || sleepCtx(ctx, 20*time.Millisecond) != nil {
			return false
		}
	}
	return true
}

func inflightDrained(ss []sender) func() bool {
	return func() bool {
		for _, s := range ss {
			if len(s.slots()) > 0 {
				return false
			}
		}
		return true
	}
}

// deliveryStats is shared by every reader goroutine of a scenario; all of
// it is atomic.
type deliveryStats struct {
	lat      histogram    // send → receive
	ackLat   histogram    // send → ack
	lastRecv atomic.Int64 // ns since start of the latest delivery
	total    atomic.Int64 // deliveries of tracked groups
}

// onFrame is the frame handler of fanout and write: seq checks and
// latencies for the session's group, permits back on acks and errors.
func (d *deliveryStats) onFrame(s *session, f *frame) {
	switch f.kind {
	case kindMessage:
		if f.groupID != s.group {
			return
		}
		s.tracker.observe(f.seq)
		s.received.Store(s.tracker.distinct)
		d.total.Add(1)
		if f.sentAt >= 0 {
			d.lat.record(s.p.latency(f.sentAt))
		}
		d.lastRecv.Store(int64(time.Since(s.p.start)))
	case kindAck:
		s.acked.Add(1)
		if f.sentAt >= 0 {
			d.ackLat.record(s.p.latency(f.sentAt))
		}
		s.releasePermit()
	case kindError:
		s.releasePermit()
	}
}

// checkDelivery adds lost/duplicated/out-of-order counts over trackers,
// each with the last seq it should have reached; call it after closeAll
// (the trackers belong to the reader goroutines).
func checkDelivery(rep *report, trackers iter.Seq2[*seqTracker, int64]) {
	var lost, dups, ooo, distinct int64
	for t, final := range trackers {
		lost += t.lost(final)
		dups += t.dups
		ooo += t.outOfOrder
		distinct += t.distinct
	}
	rep.add("deliveries", distinct)
	rep.add("lost", lost)
	rep.add("duplicated", dups)
	rep.add("out_of_order", ooo)
}

// groupTrackers yields each session's tracker with its group's final seq.
func groupTrackers(ss []*session, final map[int64]int64) iter.Seq2[*seqTracker, int64] {
	return func(yield func(*seqTracker, int64) bool) {
		for _, s := range ss {
			if s != nil && !yield(s.tracker, final[s.group]) {
				return
			}
		}
	}
}

// fanoutRun is what a fan-out run counted while sending.
type fanoutRun struct {
	window                     time.Duration
	sendStart                  time.Duration // since the run's start
	sent, acked, ackedInWindow int64
}

// addFanout adds the figures that the fan-out runs against both servers
// report, under the same names, so that their lines compare field by field.
func (r *runner) addFanout(rep *report, d *deliveryStats, fr fanoutRun) {
	cfg := r.cfg
	rep.add("members", cfg.Conns)
	rep.add("senders", cfg.Senders)
	rep.add("inflight_per_conn", cfg.Inflight)
	rep.add("target_msgs_per_s", cfg.Rate)
	rep.add("target_deliveries_per_s", cfg.Rate*float64(cfg.Conns))
	rep.add("duration_s", round(fr.window.Seconds(), 2))
	rep.add("sent", fr.sent)
	rep.add("acked", fr.acked)
	rep.add("msgs_per_s", perSecond(fr.ackedInWindow, fr.window))
	// Deliveries are counted up to the last one, so the tail of the latency
	// lengthens the window instead of inflating the rate.
	deliverWindow := time.Duration(d.lastRecv.Load()) - fr.sendStart
	rep.add("deliveries_per_s", perSecond(d.total.Load(), deliverWindow))
	rep.addLatency("latency", &d.lat)
	rep.addLatency("ack", &d.ackLat)
}

// sendInterval is how often each sender sends to offer -rate in all; zero
// (as fast as acks allow) without a rate.
func (r *runner) sendInterval() time.Duration {
	if r.cfg.Rate <= 0 {
		return 0
	}
	return time.Duration(float64(r.cfg.Senders) / r.cfg.Rate * float64(time.Second))
}

func sessionSenders(ss []*session) []sender {
	out := make([]sender, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// fanout: one group, N member connections, senders at a target rate.
func (r *runner) fanout(ctx context.Context, rep *report) error {
	cfg := r.cfg
	accts, err := r.accounts(ctx, rep, cfg.accounts())
	if err != nil {
		return err
	}
	g, err := r.group(ctx, accts[0], accts, "fanout "+r.runID)
	if err != nil {
		return err
	}
	var d deliveryStats
	p := r.newPool(d.onFrame)
	defer p.closeAll(256)
	err = r.connect(ctx, rep, p, accts, cfg.Conns, func(s *session) {
		s.group = g.ID
		s.tracker = newSeqTracker(g.LastSeq)
		if s.idx < cfg.Senders {
			s.permits = make(chan struct{}, cfg.Inflight)
		}
	})
	if err != nil {
		return err
	}
	// Connecting N members sends presence events to the others (N × N
	// frames: a million for 1,000 members); let that wave pass before
	// measuring, however long it takes, and report how long it took.
	if err := r.settle(ctx, rep, &p.connStats); err != nil {
		return err
	}
	senders := sessionSenders(p.sessions[:cfg.Senders])
	cpu := r.startCPU()
	sendStart := time.Since(r.start)
	window, ackedInWindow := r.sendPhase(ctx, senders, r.sendInterval())
	cpu.stop(rep, window)
	deadline := time.Now().Add(cfg.Drain)
	r.waitUntil(ctx, deadline, inflightDrained(senders))
	final, err := r.api.group(ctx, accts[0].Token, g.ID)
	if err != nil {
		return fmt.Errorf("read group after the run: %w", err)
	}
	want := final.LastSeq - g.LastSeq
	r.waitUntil(ctx, deadline, func() bool {
		for _, s := range p.sessions {
			if s.received.Load() < want {
				return false
			}
		}
		return true
	})
	p.closeAll(256)

	var sent, acked int64
	for _, s := range p.sessions[:cfg.Senders] {
		sent += s.sent.Load()
		acked += s.acked.Load()
	}
	r.addFanout(rep, &d, fanoutRun{
		window: window, sendStart: sendStart,
		sent: sent, acked: acked, ackedInWindow: ackedInWindow,
	})
	rep.add("stored", want)
	checkDelivery(rep, groupTrackers(p.sessions, map[int64]int64{g.ID: final.LastSeq}))
	r.addConnErrors(rep, &p.connStats)
	return nil
}

// write: G groups × K members, every connection sending as fast as its acks
// allow.
func (r *runner) write(ctx context.Context, rep *report) error {
	cfg := r.cfg
	n := cfg.Groups * cfg.Members
	accts, err := r.accounts(ctx, rep, cfg.accounts())
	if err != nil {
		return err
	}
	member := func(i int) account { return accts[i%len(accts)] }
	groups := make([]groupInfo, cfg.Groups)
	setupCtx, cancel := context.WithTimeout(ctx, cfg.Setup)
	defer cancel()
	// Groups are set up one per worker; joins inside one are sequential.
	err = forEach(setupCtx, cfg.Groups, cfg.SetupConc, func(ctx context.Context, gi int) error {
		g, err := r.api.createGroup(ctx, member(gi*cfg.Members).Token, "write "+r.runID+" "+strconv.Itoa(gi))
		if err != nil {
			return fmt.Errorf("create group %d: %w", gi, err)
		}
		for j := 1; j < cfg.Members; j++ {
			if m := member(gi*cfg.Members + j); m.ID != member(gi*cfg.Members).ID {
				if err := r.api.join(ctx, m.Token, g.ID); err != nil {
					return fmt.Errorf("join group %d: %w", g.ID, err)
				}
			}
		}
		groups[gi] = g
		return nil
	})
	if err != nil {
		return err
	}
	var d deliveryStats
	p := r.newPool(d.onFrame)
	defer p.closeAll(256)
	err = r.connect(ctx, rep, p, accts, n, func(s *session) {
		g := groups[s.idx/cfg.Members]
		s.group = g.ID
		s.tracker = newSeqTracker(g.LastSeq)
		s.permits = make(chan struct{}, cfg.Inflight)
	})
	if err != nil {
		return err
	}
	if err := r.settle(ctx, rep, &p.connStats); err != nil {
		return err
	}
	all := sessionSenders(p.sessions)
	window, ackedInWindow := r.sendPhase(ctx, all, 0)
	deadline := time.Now().Add(cfg.Drain)
	r.waitUntil(ctx, deadline, inflightDrained(all))
	final := make(map[int64]int64, len(groups))
	var mu sync.Mutex
	err = forEach(ctx, len(groups), cfg.SetupConc, func(ctx context.Context, gi int) error {
		g, err := r.api.group(ctx, member(gi*cfg.Members).Token, groups[gi].ID)
		if err != nil {
			return fmt.Errorf("read group after the run: %w", err)
		}
		mu.Lock()
		final[g.ID] = g.LastSeq
		mu.Unlock()
		return nil
	})
	if err != nil {
		return err
	}
	r.waitUntil(ctx, deadline, func() bool {
		for _, s := range p.sessions {
			if s.received.Load() < final[s.group]-s.tracker.base {
				return false
			}
		}
		return true
	})
	p.closeAll(256)

	var sent, acked, stored int64
	for _, s := range p.sessions {
		sent += s.sent.Load()
		acked += s.acked.Load()
	}
	for _, g := range groups {
		stored += final[g.ID] - g.LastSeq
	}
	rep.add("groups", cfg.Groups)
	rep.add("members_per_group", cfg.Members)
	rep.add("inflight_per_conn", cfg.Inflight)
	rep.add("duration_s", round(window.Seconds(), 2))
	rep.add("sent", sent)
	rep.add("acked", acked)
	rep.add("stored", stored)
	rep.add("acked_msgs_per_s", perSecond(ackedInWindow, window))
	rep.addLatency("ack", &d.ackLat)
	rep.addLatency("delivery", &d.lat)
	checkDelivery(rep, groupTrackers(p.sessions, final))
	r.addConnErrors(rep, &p.connStats)
	return nil
}

// history: C REST clients reading the latest page of one group.
func (r *runner) history(ctx context.Context, rep *report) error {
	cfg := r.cfg
	accts, err := r.accounts(ctx, rep, cfg.accounts())
	if err != nil {
		return err
	}
	g, err := r.group(ctx, accts[0], accts, "history "+r.runID)
	if err != nil {
		return err
	}
	seedCtx, cancel := context.WithTimeout(ctx, cfg.Setup)
	defer cancel()
	t0 := time.Now()
	err = forEach(seedCtx, cfg.Seed, cfg.SetupConc, func(ctx context.Context, i int) error {
		body := string(sendBody(nil, time.Since(r.start), cfg.BodySize))
		return r.api.postMessage(ctx, accts[0].Token, g.ID, body, "seed-"+strconv.Itoa(i))
	})
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	rep.add("seeded", cfg.Seed)
	rep.add("seed_posts_per_s", perSecond(int64(cfg.Seed), time.Since(t0)))
	r.log.Info("measuring", "clients", cfg.Clients, "for", cfg.Duration)

	url := r.api.base + "/groups/" + strconv.FormatInt(g.ID, 10) + "/messages?limit=" + strconv.Itoa(cfg.PageLimit)
	wantItems := min(cfg.PageLimit, cfg.Seed)
	var (
		lat      histogram
		requests atomic.Int64
		errs     atomic.Int64
		bad      atomic.Int64
		wg       sync.WaitGroup
	)
	mctx, mcancel := context.WithTimeout(ctx, cfg.Duration)
	defer mcancel()
	start := time.Now()
	for i := range cfg.Clients {
		token := accts[i%len(accts)].Token
		wg.Go(func() {
			var buf bytes.Buffer
			for first := true; mctx.Err() == nil; first = false {
				t := time.Now()
				status, err := r.get(ctx, url, token, &buf)
				lat.record(time.Since(t))
				requests.Add(1)
				if err != nil || status != http.StatusOK {
					errs.Add(1)
					r.log.Debug("history", "status", status, "err", err)
					continue
				}
				// Check the first answer of every client in full; after that
				// the status is enough (decoding would load the generator).
				if first && !validPage(buf.Bytes(), wantItems) {
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	window := time.Since(start)
	rep.add("clients", cfg.Clients)
	rep.add("page_limit", cfg.PageLimit)
	rep.add("duration_s", round(window.Seconds(), 2))
	rep.add("requests", requests.Load())
	rep.add("requests_per_s", perSecond(requests.Load(), window))
	rep.addLatency("latency", &lat)
	rep.add("errors", errs.Load())
	rep.add("bad_pages", bad.Load())
	return nil
}

func (r *runner) get(ctx context.Context, url, token string, buf *bytes.Buffer) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := r.api.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	buf.Reset()
	_, err = io.Copy(buf, resp.Body)
	return resp.StatusCode, err
}

// validPage checks a history answer: want items in ascending seq order.
func validPage(b []byte, want int) bool {
	var page struct {
		Items []struct {
			Seq int64 `json:"seq"`
		} `json:"items"`
		HasMore *bool `json:"has_more"`
	}
	if json.Unmarshal(b, &page) != nil || len(page.Items) != want || page.HasMore == nil {
		return false
	}
	for i := 1; i < len(page.Items); i++ {
		if page.Items[i].Seq != page.Items[i-1].Seq+1 {
			return false
		}
	}
	return true
}

// settle waits at least -settle after connecting, and then until no frame
// has arrived for quietFor (presence waves), at most maxSettle in all. The
// wait and the frames seen during it are reported.
func (r *runner) settle(ctx context.Context, rep *report, p *connStats) error {
	const quietFor, maxSettle = 500 * time.Millisecond, 60 * time.Second
	start := time.Now()
	before := p.frames.Load()
	if err := sleepCtx(ctx, r.cfg.Settle); err != nil {
		return err
	}
	last := p.frames.Load()
	for time.Since(start) < maxSettle {
		if err := sleepCtx(ctx, quietFor); err != nil {
			return err
		}
		n := p.frames.Load()
		if n == last {
			break
		}
		last = n
	}
	rep.add("settle_s", round(time.Since(start).Seconds(), 2))
	rep.add("settle_frames", last-before)
	r.log.Info("measuring", "settled_in", time.Since(start).Round(time.Millisecond))
	return nil
}

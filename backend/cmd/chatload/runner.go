package main

import (
	"context"
	"fmt"
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
	case "search":
		err = r.search(ctx, rep)
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

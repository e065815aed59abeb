package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// history: C REST clients reading the latest page of one group.
func (r *runner) history(ctx context.Context, rep *report) error {
	cfg := r.cfg
	accts, g, err := r.seededGroup(ctx, rep, "history", func(i int) string {
		return string(sendBody(nil, time.Since(r.start), cfg.BodySize))
	})
	if err != nil {
		return err
	}
	if cfg.LiveSocket {
		// A member connected to the server makes it hear the group's
		// events, the condition for keeping its latest page in memory.
		p := r.newPool(func(*session, *frame) {})
		defer p.closeAll(1)
		if err := r.connect(ctx, rep, p, accts[:1], 1, nil); err != nil {
			return err
		}
		rep.add("live_socket", true)
	}
	url := r.api.base + "/groups/" + strconv.FormatInt(g, 10) + "/messages?limit=" + strconv.Itoa(cfg.PageLimit)
	wantItems := min(cfg.PageLimit, cfg.Seed)
	rep.add("page_limit", cfg.PageLimit)
	return r.readLoop(ctx, rep, accts, func(int) string { return url }, func(b []byte, _ int) bool { return validPage(b, wantItems) })
}

// seededGroup makes the accounts of the scenario and one group of them
// holding cfg.Seed messages, the i-th with body(i).
func (r *runner) seededGroup(ctx context.Context, rep *report, name string, body func(i int) string) ([]account, int64, error) {
	cfg := r.cfg
	accts, err := r.accounts(ctx, rep, cfg.accounts())
	if err != nil {
		return nil, 0, err
	}
	g, err := r.group(ctx, accts[0], accts, name+" "+r.runID)
	if err != nil {
		return nil, 0, err
	}
	seedCtx, cancel := context.WithTimeout(ctx, cfg.Setup)
	defer cancel()
	t0 := time.Now()
	err = forEach(seedCtx, cfg.Seed, cfg.SetupConc, func(ctx context.Context, i int) error {
		return r.api.postMessage(ctx, accts[0].Token, g.ID, body(i), "seed-"+strconv.Itoa(i))
	})
	if err != nil {
		return nil, 0, fmt.Errorf("seed: %w", err)
	}
	rep.add("seeded", cfg.Seed)
	rep.add("seed_posts_per_s", perSecond(int64(cfg.Seed), time.Since(t0)))
	return accts, g.ID, nil
}

// readLoop runs cfg.Clients REST clients for cfg.Duration, each looping
// over GET urlOf(n) (n counting its requests) on a keep-alive connection,
// and reports throughput and latency. The first answer of every client is
// checked in full by valid; after that the status is enough (decoding
// would load the generator).
func (r *runner) readLoop(ctx context.Context, rep *report, accts []account, urlOf func(n int) string, valid func(body []byte, n int) bool) error {
	cfg := r.cfg
	r.log.Info("measuring", "clients", cfg.Clients, "for", cfg.Duration)
	var (
		lat      histogram
		requests atomic.Int64
		errs     atomic.Int64
		bad      atomic.Int64
		wg       sync.WaitGroup
	)
	mctx, mcancel := context.WithTimeout(ctx, cfg.Duration)
	defer mcancel()
	cpu := r.startCPU()
	start := time.Now()
	for i := range cfg.Clients {
		token := accts[i%len(accts)].Token
		wg.Go(func() {
			var buf bytes.Buffer
			for n := i; mctx.Err() == nil; n += cfg.Clients {
				t := time.Now()
				status, err := r.get(ctx, urlOf(n), token, &buf)
				lat.record(time.Since(t))
				requests.Add(1)
				if err != nil || status != http.StatusOK {
					errs.Add(1)
					r.log.Debug("read", "status", status, "err", err)
					continue
				}
				if n < cfg.Clients && !valid(buf.Bytes(), n) {
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	window := time.Since(start)
	cpu.stop(rep, window)
	rep.add("clients", cfg.Clients)
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

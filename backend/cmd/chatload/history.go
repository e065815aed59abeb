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

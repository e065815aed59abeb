package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// apiError is a non-2xx answer in the contract's error shape.
type apiError struct {
	Status int
	Code   string
	Msg    string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("HTTP %d %s: %s", e.Status, e.Code, e.Msg)
}

// newHTTPClient returns a client that can only reach loopback addresses and
// keeps enough idle connections per host for every concurrent REST worker,
// so that the history scenario measures requests, not TCP handshakes.
func newHTTPClient(idle int) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: loopbackOnly}
	tr := &http.Transport{
		Proxy:               nil, // a proxy would carry the load off this machine
		DialContext:         d.DialContext,
		MaxIdleConns:        idle + 16,
		MaxIdleConnsPerHost: idle + 16,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}
}

// api speaks the REST half of API.md.
type api struct {
	base    string // http://host:port/api/v1
	metrics string // the server's metrics URL (CHAT_METRICS_ADDR)
	hc      *http.Client
}

func (a *api) do(ctx context.Context, method, path, token string, in, out any) (int, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, fmt.Errorf("%s %s: encode: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("%s %s: read: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		_ = json.Unmarshal(raw, &e) // a body in another shape still yields the status
		return resp.StatusCode, fmt.Errorf("%s %s: %w", method, path, &apiError{resp.StatusCode, e.Error.Code, e.Error.Message})
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decode: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// account is a user the load generator registered, with its access token.
type account struct {
	ID       int64
	Username string
	Token    string
}

type groupInfo struct {
	ID      int64 `json:"id"`
	LastSeq int64 `json:"last_seq"`
}

func (a *api) register(ctx context.Context, username, password string) (account, string, error) {
	var out tokenPair
	in := map[string]string{"username": username, "password": password}
	if _, err := a.do(ctx, http.MethodPost, "/auth/register", "", in, &out); err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.Status == http.StatusTooManyRequests {
			return account{}, "", fmt.Errorf("%w (start the server with CHAT_AUTH_RATE=0 for benchmarks)", err)
		}
		return account{}, "", err
	}
	if out.AccessToken == "" || out.User.ID == 0 {
		return account{}, "", fmt.Errorf("register %s: answer without token or user id", username)
	}
	return account{ID: out.User.ID, Username: username, Token: out.AccessToken}, out.RefreshToken, nil
}

func (a *api) createGroup(ctx context.Context, token, name string) (groupInfo, error) {
	var g groupInfo
	_, err := a.do(ctx, http.MethodPost, "/groups", token, map[string]string{"name": name, "visibility": "public"}, &g)
	return g, err
}

func (a *api) join(ctx context.Context, token string, gid int64) error {
	_, err := a.do(ctx, http.MethodPost, "/groups/"+strconv.FormatInt(gid, 10)+"/join", token, nil, nil)
	return err
}

func (a *api) group(ctx context.Context, token string, gid int64) (groupInfo, error) {
	var g groupInfo
	_, err := a.do(ctx, http.MethodGet, "/groups/"+strconv.FormatInt(gid, 10), token, nil, &g)
	return g, err
}

func (a *api) postMessage(ctx context.Context, token string, gid int64, body, clientID string) error {
	_, err := a.do(ctx, http.MethodPost, "/groups/"+strconv.FormatInt(gid, 10)+"/messages", token,
		map[string]string{"body": body, "client_id": clientID}, nil)
	return err
}

// forEach runs fn(i) for i in [0, n) on at most conc goroutines and returns
// the first error; after an error the remaining items are skipped.
func forEach(ctx context.Context, n, conc int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(conc, n) {
		wg.Go(func() {
			for i := range next {
				if err := fn(ctx, i); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	return nil
}

// serverStats is what the load generator reads of the server's own figures.
type serverStats struct {
	RSS        int64 // resident memory, bytes
	Goroutines int64 // -1 when unknown
	// Live Go memory (heap in use + goroutine stacks), -1 when unknown. It is
	// not inflated by pages the runtime freed but has not returned yet
	// (argon2id sign-ups leave plenty), so it complements RSS.
	GoInuse int64
	heap    int64
	stack   int64
}

// serverStats reads resident memory from /proc/<pid>/status when a pid is
// given (exact, and works without /metrics), else from the Prometheus
// process collector on /metrics.
func (a *api) serverStats(ctx context.Context, pid int) (serverStats, error) {
	st := serverStats{RSS: -1, Goroutines: -1, GoInuse: -1, heap: -1, stack: -1}
	metricsErr := a.scrape(ctx, &st)
	if st.heap >= 0 && st.stack >= 0 {
		st.GoInuse = st.heap + st.stack
	}
	if pid > 0 {
		rss, err := procRSS(pid)
		if err != nil {
			return st, err
		}
		st.RSS = rss
		return st, nil
	}
	if metricsErr != nil {
		return st, metricsErr
	}
	if st.RSS < 0 {
		return st, errors.New("/metrics has no process_resident_memory_bytes; pass -pid")
	}
	return st, nil
}

func (a *api) scrape(ctx context.Context, st *serverStats) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.metrics, nil)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("metrics: HTTP %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		switch name {
		case "process_resident_memory_bytes":
			st.RSS = parseMetric(val)
		case "go_goroutines":
			st.Goroutines = parseMetric(val)
		case "go_memstats_heap_inuse_bytes":
			st.heap = parseMetric(val)
		case "go_memstats_stack_inuse_bytes":
			st.stack = parseMetric(val)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}

func parseMetric(s string) int64 {
	s, _, _ = strings.Cut(strings.TrimSpace(s), " ") // drop an optional timestamp
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return -1
	}
	return int64(f)
}

func procRSS(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, fmt.Errorf("read VmRSS: %w", err)
	}
	return parseVmRSS(b)
}

func parseVmRSS(status []byte) (int64, error) {
	for line := range strings.SplitSeq(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parse VmRSS %q: %w", v, err)
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("no VmRSS line")
}

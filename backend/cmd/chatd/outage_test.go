package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/chatapp/chat/internal/faultproxy"
	"github.com/chatapp/chat/store/storetest"
)

// TestOutagesLoseNoAcknowledgedMessage runs two whole servers on one
// Postgres database and one Redis, each reached through a TCP proxy the test
// controls, and cuts Redis, then Postgres, while a client keeps sending and
// two receivers (one per instance) keep reading:
//   - Redis away: sends are still acknowledged (the database is the truth),
//     /readyz answers 503 naming the broker without hanging;
//   - Postgres away: sends answer `unavailable`, REST answers 503, the
//     client retries with the same client_id once it is back;
//   - afterwards both receivers hold every acknowledged message exactly
//     once, in order, and the log is JSON only, with one WARN when the
//     database went away and one INFO when it came back.
func TestOutagesLoseNoAcknowledgedMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("long: -short")
	}
	pgURL, err := url.Parse(storetest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	redisURL := os.Getenv("TEST_REDIS_URL")
	if redisURL == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("TEST_REDIS_URL is not set (required in CI)")
		}
		t.Skip("TEST_REDIS_URL is not set")
	}
	rURL, err := url.Parse(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	pgProxy := faultproxy.Start(t, proxyTarget(pgURL, "5432"))
	redisProxy := faultproxy.Start(t, proxyTarget(rURL, "6379"))
	pgURL.Host, rURL.Host = pgProxy.Addr(), redisProxy.Addr()

	ctx, cancel := context.WithCancel(context.Background())
	var insts []*outageInstance
	for name := range strings.SplitSeq("a b", " ") {
		insts = append(insts, startOutageInstance(t, ctx, name, map[string]string{
			"CHAT_ADDR": "127.0.0.1:0", "CHAT_DATA_DIR": t.TempDir(), "LOG_LEVEL": "info",
			"DATABASE_URL": pgURL.String(), "REDIS_URL": rURL.String(),
			"JWT_SECRET": goodSecret, "CHAT_METRICS_ADDR": "off", "CHAT_AUTH_RATE": "0", "CHAT_WS_RATE": "0",
		}))
	}
	defer func() {
		cancel()
		for _, in := range insts {
			in.wait(t)
		}
	}()
	a, b := insts[0], insts[1]

	olga := a.register(t, "olga")
	rita := a.register(t, "rita")
	rob := b.register(t, "rob")
	var g struct{ ID int64 }
	a.rest(t, "POST", "/api/v1/groups", olga.token, `{"name":"outage"}`, http.StatusCreated, &g)
	a.rest(t, "POST", fmt.Sprintf("/api/v1/groups/%d/join", g.ID), rita.token, "", http.StatusOK, nil)
	b.rest(t, "POST", fmt.Sprintf("/api/v1/groups/%d/join", g.ID), rob.token, "", http.StatusOK, nil)

	recvs := []*outageReceiver{startReceiver(t, ctx, a, rita, g.ID), startReceiver(t, ctx, b, rob, g.ID)}
	snd := startSender(t, ctx, a, olga, g.ID)

	time.Sleep(300 * time.Millisecond) // normal traffic first
	redisProxy.Cut()
	cutAt := time.Now()
	var ready []time.Duration
	for time.Since(cutAt) < 2*time.Second {
		start := time.Now()
		status, body := a.get(t, "/readyz")
		ready = append(ready, time.Since(start))
		if time.Since(cutAt) > 500*time.Millisecond && (status != http.StatusServiceUnavailable || !strings.Contains(body, "broker")) {
			t.Errorf("/readyz with Redis away: %d %s", status, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := redisProxy.Restore(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(ready)
	t.Logf("/readyz while Redis was away: median %v, max %v", ready[len(ready)/2], ready[len(ready)-1])
	if m := ready[len(ready)-1]; m > time.Second {
		t.Errorf("/readyz took %v while Redis was away", m)
	}
	redisAcks := snd.ackTimesBetween(cutAt, cutAt.Add(2*time.Second))
	t.Logf("acks while Redis was away: %d, median %v, max %v", len(redisAcks), median(redisAcks), maxOf(redisAcks))
	if len(redisAcks) == 0 {
		t.Error("no send was acknowledged while Redis was away")
	}

	time.Sleep(time.Second)
	pgProxy.Cut()
	pgCutAt := time.Now()
	for time.Since(pgCutAt) < 2*time.Second {
		if status, _ := a.getAuth(t, "/api/v1/me/groups", olga.token); status != http.StatusServiceUnavailable && time.Since(pgCutAt) > 300*time.Millisecond {
			t.Errorf("GET /me/groups with Postgres away: %d", status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := pgProxy.Restore(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)

	t.Cleanup(func() {
		if t.Failed() {
			for _, in := range []*outageInstance{a, b} {
				t.Logf("LOG %s:\n%s", in.name, in.logs.String())
			}
		}
	})
	acked, failed := snd.stop(t)
	t.Logf("sent %d: %d acknowledged (after retries), %d answered unavailable at first", len(acked), len(acked), failed)
	if failed == 0 {
		t.Error("no send failed while Postgres was away")
	}
	want := slices.Sorted(maps.Values(acked))
	for i, seq := range want {
		if seq != int64(i+1) {
			t.Fatalf("acknowledged seqs are not 1..%d: %v", len(want), want)
		}
	}
	for _, r := range recvs {
		r.waitFor(t, int64(len(want)))
		if err := r.check(len(want)); err != nil {
			t.Errorf("%s: %v", r.name, err)
		}
	}

	cancel()
	for _, in := range insts {
		in.wait(t)
	}
	insts = nil
	for _, in := range []*outageInstance{a, b} {
		in.checkLog(t)
	}
	if n := a.countLog("database unavailable; requests answer 503 until it is back", "WARN"); n != 1 {
		t.Errorf("instance a logged the database going away %d times, want once", n)
	}
	if n := a.countLog("database available again", "INFO"); n != 1 {
		t.Errorf("instance a logged the database coming back %d times, want once", n)
	}
}

func proxyTarget(u *url.URL, port string) string {
	if u.Port() != "" {
		return u.Host
	}
	return net.JoinHostPort(u.Hostname(), port)
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func maxOf(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	return slices.Max(ds)
}

// outageInstance is one running server.
type outageInstance struct {
	name string
	addr string
	logs *syncBuffer
	done chan error
}

func startOutageInstance(t *testing.T, ctx context.Context, name string, vars map[string]string) *outageInstance {
	t.Helper()
	in := &outageInstance{name: name, logs: &syncBuffer{}, done: make(chan error, 1)}
	go func() { in.done <- run(ctx, env(vars), in.logs) }()
	deadline := time.Now().Add(30 * time.Second)
	for in.addr == "" {
		if time.Now().After(deadline) {
			t.Fatalf("instance %s not listening; log:\n%s", name, in.logs.String())
		}
		for line := range strings.Lines(in.logs.String()) {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
				in.addr = rec.Addr
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return in
}

func (in *outageInstance) wait(t *testing.T) {
	t.Helper()
	select {
	case err := <-in.done:
		if err != nil {
			t.Errorf("instance %s: %v", in.name, err)
		}
		in.done <- nil // later waits return at once
	case <-time.After(20 * time.Second):
		t.Errorf("instance %s did not stop", in.name)
	}
}

type outageUser struct {
	id    int64
	token string
}

func (in *outageInstance) register(t *testing.T, name string) outageUser {
	t.Helper()
	var res struct {
		User        struct{ ID int64 }
		AccessToken string `json:"access_token"`
	}
	in.rest(t, "POST", "/api/v1/auth/register", "", fmt.Sprintf(`{"username":%q,"password":"correct horse battery"}`, name), http.StatusCreated, &res)
	return outageUser{id: res.User.ID, token: res.AccessToken}
}

var outageHTTP = &http.Client{Timeout: 10 * time.Second}

func (in *outageInstance) rest(t *testing.T, method, path, token, body string, want int, out any) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+in.addr+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := outageHTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

func (in *outageInstance) get(t *testing.T, path string) (int, string) {
	return in.getAuth(t, path, "")
}

func (in *outageInstance) getAuth(t *testing.T, path, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", "http://"+in.addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := outageHTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// checkLog: every line is a JSON record (the Redis client's included), and
// no 503 is logged as an error.
func (in *outageInstance) checkLog(t *testing.T) {
	t.Helper()
	for line := range strings.Lines(in.logs.String()) {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var rec struct {
			Level  string
			Msg    string
			Status int
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("instance %s logged a line that is not JSON: %q", in.name, line)
			continue
		}
		if rec.Msg == "http request" && rec.Status == http.StatusServiceUnavailable && rec.Level != "INFO" {
			t.Errorf("instance %s logged a 503 at %s: %s", in.name, rec.Level, line)
		}
	}
}

func (in *outageInstance) countLog(msg, level string) int {
	n := 0
	for line := range strings.Lines(in.logs.String()) {
		var rec struct{ Level, Msg string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == msg && rec.Level == level {
			n++
		}
	}
	return n
}

// dialWS opens a WebSocket to the instance, authenticated by a header when
// token is set (else the caller sends an auth frame).
func dialWS(ctx context.Context, in *outageInstance, token string) (*websocket.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	opt := &websocket.DialOptions{}
	if token != "" {
		opt.HTTPHeader = http.Header{"Authorization": {"Bearer " + token}}
	}
	ws, _, err := websocket.Dial(dctx, "ws://"+in.addr+"/api/v1/ws", opt)
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(-1)
	return ws, nil
}

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
}

type ackTime struct {
	at, took time.Duration
	sent     time.Time
}

func startSender(t *testing.T, ctx context.Context, in *outageInstance, u outageUser, gid int64) *outageSender {
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
	deadline := time.Now().Add(30 * time.Second)
	for {
		s.mu.Lock()
		pending := len(s.sent)
		var retry []string
		for cid := range s.fails {
			retry = append(retry, cid)
		}
		s.mu.Unlock()
		if pending == 0 && len(retry) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sends still unanswered (%d) or failing (%d)", pending, len(retry))
		}
		if pending == 0 {
			sort.Strings(retry)
			for _, cid := range retry {
				s.mu.Lock()
				delete(s.fails, cid)
				s.mu.Unlock()
				if err := s.send(context.Background(), cid); err != nil {
					t.Fatal(err)
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
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
	name string
	mu   sync.Mutex
	seqs []int64
	wg   sync.WaitGroup
}

func startReceiver(t *testing.T, ctx context.Context, in *outageInstance, u outageUser, gid int64) *outageReceiver {
	t.Helper()
	r := &outageReceiver{name: "receiver on " + in.name}
	ready := make(chan struct{})
	r.wg.Go(func() {
		first := true
		for ctx.Err() == nil {
			ws, err := dialWS(ctx, in, "")
			if err != nil {
				time.Sleep(100 * time.Millisecond)
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
	deadline := time.Now().Add(30 * time.Second)
	for {
		r.mu.Lock()
		have := slices.Contains(r.seqs, n)
		got := len(r.seqs)
		r.mu.Unlock()
		if have {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has %d messages, never got seq %d", r.name, got, n)
		}
		time.Sleep(20 * time.Millisecond)
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

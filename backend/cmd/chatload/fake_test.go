package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// fakeServer speaks just enough of API.md for the load generator's own
// tests: sign-up, refresh, groups, joins, history, /metrics and the
// WebSocket auth → ready → send → ack + message flow, in memory.
type fakeServer struct {
	mu      sync.Mutex
	users   int64
	tokens  map[string]int64 // access and refresh tokens → user id
	groups  map[int64]*fakeGroup
	conns   map[*fakeConn]bool
	nextMsg int64
	wg      sync.WaitGroup
}

type fakeGroup struct {
	id, lastSeq int64
	members     map[int64]bool
	bodies      []string
}

type fakeConn struct {
	uid int64
	out chan []byte
}

func newFakeServer(t *testing.T) *httptest.Server {
	f := &fakeServer{tokens: map[string]int64{}, groups: map[int64]*fakeGroup{}, conns: map[*fakeConn]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/auth/register", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.users++
		id := f.users
		access, refresh := fmt.Sprintf("a%d-%d", id, time.Now().UnixNano()), fmt.Sprintf("r%d-%d", id, time.Now().UnixNano())
		f.tokens[access], f.tokens[refresh] = id, id
		f.mu.Unlock()
		writeJSON(w, 201, map[string]any{"user": map[string]any{"id": id}, "access_token": access, "refresh_token": refresh})
	})
	mux.HandleFunc("POST /api/v1/auth/refresh", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			RefreshToken string `json:"refresh_token"`
		}
		_ = json.NewDecoder(r.Body).Decode(&in)
		f.mu.Lock()
		id, ok := f.tokens[in.RefreshToken]
		delete(f.tokens, in.RefreshToken)
		access, refresh := fmt.Sprintf("a%d-%d", id, time.Now().UnixNano()), fmt.Sprintf("r%d-%d", id, time.Now().UnixNano())
		f.tokens[access], f.tokens[refresh] = id, id
		f.mu.Unlock()
		if !ok {
			writeJSON(w, 401, map[string]any{"error": map[string]any{"code": "unauthorized", "message": "no"}})
			return
		}
		writeJSON(w, 200, map[string]any{"user": map[string]any{"id": id}, "access_token": access, "refresh_token": refresh})
	})
	mux.HandleFunc("POST /api/v1/groups", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		uid := f.auth(r)
		g := &fakeGroup{id: int64(len(f.groups) + 1), members: map[int64]bool{uid: true}}
		f.groups[g.id] = g
		f.mu.Unlock()
		writeJSON(w, 201, map[string]any{"id": g.id, "last_seq": 0})
	})
	mux.HandleFunc("POST /api/v1/groups/{id}/join", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		g := f.group(r)
		g.members[f.auth(r)] = true
		f.mu.Unlock()
		writeJSON(w, 200, map[string]any{"id": g.id})
	})
	mux.HandleFunc("GET /api/v1/groups/{id}", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		g := f.group(r)
		last := g.lastSeq
		f.mu.Unlock()
		writeJSON(w, 200, map[string]any{"id": g.id, "last_seq": last})
	})
	mux.HandleFunc("POST /api/v1/groups/{id}/messages", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Body, ClientID string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		f.mu.Lock()
		msg := f.store(f.group(r), f.auth(r), in.Body)
		f.mu.Unlock()
		writeJSON(w, 201, msg)
	})
	mux.HandleFunc("GET /api/v1/groups/{id}/messages", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		last := f.group(r).lastSeq
		f.mu.Unlock()
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		var items []map[string]any
		for s := max(last-int64(limit), 0) + 1; s <= last; s++ {
			items = append(items, map[string]any{"seq": s, "body": "x"})
		}
		writeJSON(w, 200, map[string]any{"items": items, "has_more": last > int64(limit)})
	})
	mux.HandleFunc("GET /api/v1/search/messages", func(w http.ResponseWriter, r *http.Request) {
		word := r.URL.Query().Get("q")
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		f.mu.Lock()
		defer f.mu.Unlock()
		uid := f.auth(r)
		items := []map[string]any{}
		for _, g := range f.groups {
			for i, b := range g.bodies {
				if g.members[uid] && len(items) < limit && strings.Contains(" "+b+" ", " "+word+" ") {
					items = append(items, map[string]any{"group_id": g.id, "seq": i + 1, "body": b})
				}
			}
		}
		writeJSON(w, 200, map[string]any{"items": items, "next_cursor": nil})
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		n := len(f.conns)
		f.mu.Unlock()
		fmt.Fprintf(w, "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %e\ngo_goroutines %d\n", float64(1<<20+n*4096), 10+2*n)
	})
	mux.HandleFunc("GET /api/v1/ws", f.ws)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		f.wg.Wait()
	})
	return srv
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// auth and group run under f.mu; the fake trusts its client.
func (f *fakeServer) auth(r *http.Request) int64 {
	return f.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
}

func (f *fakeServer) group(r *http.Request) *fakeGroup {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return f.groups[id]
}

// store numbers a message and queues the event to every member connection,
// under f.mu so that every connection sees one order.
func (f *fakeServer) store(g *fakeGroup, uid int64, body string) map[string]any {
	g.lastSeq++
	g.bodies = append(g.bodies, body)
	f.nextMsg++
	msg := map[string]any{"id": f.nextMsg, "group_id": g.id, "seq": g.lastSeq, "sender": map[string]any{"id": uid}, "body": body}
	ev, _ := json.Marshal(map[string]any{"type": "message", "message": msg})
	ev = append([]byte(`{"type":"message",`), ev[1:]...) // the real server puts type first
	for c := range f.conns {
		if g.members[c.uid] {
			select {
			case c.out <- ev:
			default: // a full queue loses the event, like an overflowing connection
			}
		}
	}
	return msg
}

func (f *fakeServer) ws(w http.ResponseWriter, r *http.Request) {
	f.wg.Add(1)
	defer f.wg.Done()
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	ctx := r.Context()
	_, data, err := c.Read(ctx)
	var auth struct{ Type, Token string }
	if err != nil || json.Unmarshal(data, &auth) != nil || auth.Type != "auth" {
		c.Close(4401, "auth")
		return
	}
	f.mu.Lock()
	uid, ok := f.tokens[auth.Token]
	fc := &fakeConn{uid: uid, out: make(chan []byte, 4096)}
	if ok {
		f.conns[fc] = true
	}
	f.mu.Unlock()
	if !ok {
		c.Close(4401, "auth")
		return
	}
	defer func() {
		f.mu.Lock()
		delete(f.conns, fc)
		f.mu.Unlock()
	}()
	if err := c.Write(ctx, websocket.MessageText, []byte(`{"type":"ready","user":{"id":`+strconv.FormatInt(uid, 10)+`}}`)); err != nil {
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer cancel()
		for {
			_, data, err := c.Read(ctx)
			if err != nil {
				return
			}
			var in struct {
				Type, Body, Ref string
				GroupID         int64 `json:"group_id"`
			}
			if json.Unmarshal(data, &in) != nil || in.Type != "send" {
				continue
			}
			f.mu.Lock()
			msg := f.store(f.groups[in.GroupID], uid, in.Body)
			ack, _ := json.Marshal(map[string]any{"ref": in.Ref, "message": msg})
			fc.out <- append([]byte(`{"type":"ack",`), ack[1:]...)
			f.mu.Unlock()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case b := <-fc.out:
			if c.Write(ctx, websocket.MessageText, b) != nil {
				return
			}
		}
	}
}

func runScenario(t *testing.T, args ...string) map[string]any {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := run(args, &out, &errOut); err != nil {
		t.Fatalf("run %v: %v\n%s", args, err, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &m); err != nil {
		t.Fatalf("last line is not JSON: %v\n%s", err, out.String())
	}
	return m
}

func TestScenariosAgainstFake(t *testing.T) {
	srv := newFakeServer(t)
	common := []string{"-url", srv.URL, "-metrics", srv.URL + "/metrics", "-duration", "400ms", "-settle", "50ms", "-drain", "2s"}
	accounts := t.TempDir() + "/accounts.jsonl"
	tests := []struct {
		name     string
		args     []string
		positive []string // fields that must be > 0
		zero     []string // fields that must be 0
	}{
		{"idle", []string{"-scenario", "idle", "-conns", "30", "-users", "10", "-accounts", accounts},
			[]string{"rss_per_conn_kb", "connects_per_s"}, []string{"disconnects", "users_reused"}},
		{"fanout at a rate", []string{"-scenario", "fanout", "-conns", "20", "-rate", "100", "-senders", "2", "-accounts", accounts},
			[]string{"msgs_per_s", "deliveries", "latency_samples", "ack_samples", "users_reused"},
			[]string{"lost", "duplicated", "out_of_order", "disconnects", "error_frames"}},
		{"fanout flat out", []string{"-scenario", "fanout", "-conns", "10", "-inflight", "8"},
			[]string{"msgs_per_s", "deliveries_per_s"}, []string{"lost", "duplicated", "out_of_order"}},
		{"write", []string{"-scenario", "write", "-groups", "4", "-members", "3", "-inflight", "2"},
			[]string{"acked_msgs_per_s", "ack_samples", "deliveries"}, []string{"lost", "duplicated", "out_of_order", "write_errors"}},
		{"history", []string{"-scenario", "history", "-clients", "4", "-seed", "60"},
			[]string{"requests_per_s", "latency_samples"}, []string{"errors", "bad_pages"}},
		{"search", []string{"-scenario", "search", "-clients", "4", "-seed", "60"},
			[]string{"requests_per_s", "latency_samples", "seeded"}, []string{"errors", "bad_pages"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := runScenario(t, append(append([]string{}, common...), tc.args...)...)
			t.Logf("%v", m)
			if m["scenario"] != tc.args[1] {
				t.Fatalf("scenario = %v", m["scenario"])
			}
			for _, k := range tc.positive {
				if v, ok := m[k].(float64); !ok || v <= 0 {
					t.Errorf("%s = %v, want > 0 (%v)", k, m[k], m)
				}
			}
			for _, k := range tc.zero {
				if v, ok := m[k].(float64); !ok || v != 0 {
					t.Errorf("%s = %v, want 0 (%v)", k, m[k], m)
				}
			}
		})
	}
}

func TestRefusesNonLoopbackTarget(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run([]string{"-scenario", "idle", "-url", "http://192.0.2.1:8080"}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "not a loopback") {
		t.Fatalf("run against 192.0.2.1 = %v, want a loopback refusal", err)
	}
}

func TestFlagBounds(t *testing.T) {
	tests := [][]string{
		{"-scenario", "idle", "-conns", "20001"},
		{"-scenario", "idle", "-duration", "301s"},
		{"-scenario", "write", "-groups", "5000", "-members", "5"},
		{"-scenario", "history", "-clients", "0"},
		{"-scenario", "fanout", "-conns", "10", "-senders", "11"},
		{"-scenario", "bogus"},
		{"-scenario", "idle", "-setup-timeout", "1h"},
		{"-scenario", "idle", "-protocol", "centrifugo", "-centrifugo-api-key", "k", "-centrifugo-secret", "s"},
		{"-scenario", "fanout", "-protocol", "centrifugo", "-centrifugo-secret", "s"},
		{"-scenario", "fanout", "-protocol", "centrifugo", "-centrifugo-api-key", "k"},
		{"-scenario", "fanout", "-protocol", "mqtt"},
	}
	for _, args := range tests {
		if _, err := parseFlags(args, &bytes.Buffer{}); err == nil {
			t.Errorf("parseFlags(%v) accepted out-of-bounds flags", args)
		}
	}
	if _, err := parseFlags([]string{"-scenario", "idle", "-conns", "20000", "-duration", "300s"}, &bytes.Buffer{}); err != nil {
		t.Errorf("the largest allowed run was refused: %v", err)
	}
	if _, err := parseFlags([]string{"-scenario", "fanout", "-protocol", "centrifugo", "-centrifugo-api-key", "k", "-centrifugo-secret", "s"}, &bytes.Buffer{}); err != nil {
		t.Errorf("a fan-out against the peer was refused: %v", err)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"
)

// fakePeer speaks the part of Centrifugo v6 that chatload uses, as
// centrifugo.go describes it: connect with an HS256 JWT, subscribe, pings
// that must be answered, replies and pushes joined by '\n' in one frame,
// and POST /api/publish with X-API-Key. fault makes it misdeliver on
// purpose, so that the counters can be seen to count.
type fakePeer struct {
	secret, apiKey string
	pingEvery      time.Duration
	fault          string // "", "drop", "dup", "swap" or "slow"

	mu   sync.Mutex
	subs map[string][]*fakePeerConn
	pubs int
	held []byte // "swap": the publication delivered after the next one
	wg   sync.WaitGroup
}

type fakePeerConn struct {
	out        chan []byte
	ponged     chan struct{}
	subscribed chan struct{} // closed once subscribed: pings start then
}

func newFakePeer(t *testing.T, fault string) (*httptest.Server, *fakePeer) {
	f := &fakePeer{secret: "test-secret", apiKey: "test-key", pingEvery: 150 * time.Millisecond, fault: fault, subs: map[string][]*fakePeerConn{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /connection/websocket", f.ws)
	mux.HandleFunc("POST /api/publish", f.publish)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		f.wg.Wait()
	})
	return srv, f
}

func (f *fakePeer) publish(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-API-Key") != f.apiKey {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var in struct {
		Channel string          `json:"channel"`
		Data    json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Channel == "" || len(in.Data) == 0 {
		_, _ = io.WriteString(w, `{"error":{"code":107,"message":"bad request"}}`)
		return
	}
	push := []byte(`{"push":{"channel":` + quote(in.Channel) + `,"pub":{"data":` + string(in.Data) + `}}}`)
	f.mu.Lock()
	f.pubs++
	n := f.pubs
	for i, c := range f.subs[in.Channel] {
		switch {
		case f.fault == "drop" && i == 0 && n%5 == 0:
			// the first subscriber misses every fifth publication
		case f.fault == "dup":
			c.out <- push
			c.out <- push
		case f.fault == "swap" && n%2 == 1:
			// held below, delivered after the next one
		default:
			c.out <- push
		}
		if f.fault == "swap" && n%2 == 0 && f.held != nil {
			c.out <- f.held
		}
	}
	if f.fault == "swap" {
		if n%2 == 1 {
			f.held = push
		} else {
			f.held = nil
		}
	}
	f.mu.Unlock()
	if f.fault == "slow" {
		time.Sleep(40 * time.Millisecond)
	}
	_, _ = io.WriteString(w, `{"result":{}}`)
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func (f *fakePeer) ws(w http.ResponseWriter, r *http.Request) {
	f.wg.Add(1)
	defer f.wg.Done()
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	fc := &fakePeerConn{out: make(chan []byte, 65536), ponged: make(chan struct{}, 1), subscribed: make(chan struct{})}
	var channel string
	defer func() {
		f.mu.Lock()
		subs := f.subs[channel]
		for i, s := range subs {
			if s == fc {
				f.subs[channel] = append(subs[:i:i], subs[i+1:]...)
			}
		}
		f.mu.Unlock()
	}()
	f.wg.Go(func() { f.writer(ctx, c, fc) })
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			return
		}
		for line := range bytes.SplitSeq(data, []byte("\n")) {
			var cmd struct {
				ID      uint32 `json:"id"`
				Connect *struct {
					Token string `json:"token"`
				} `json:"connect"`
				Subscribe *struct {
					Channel string `json:"channel"`
				} `json:"subscribe"`
			}
			if json.Unmarshal(line, &cmd) != nil {
				c.Close(3501, "bad request")
				return
			}
			switch {
			case cmd.ID == 0:
				select {
				case fc.ponged <- struct{}{}:
				default:
				}
			case cmd.Connect != nil:
				_, err := jwt.Parse(cmd.Connect.Token, func(*jwt.Token) (any, error) { return []byte(f.secret), nil },
					jwt.WithValidMethods([]string{"HS256"}))
				if err != nil {
					fc.out <- []byte(`{"id":1,"error":{"code":109,"message":"token expired"}}`)
					continue
				}
				fc.out <- []byte(`{"id":1,"connect":{"client":"c1","version":"0.0.0","ping":25,"pong":true}}`)
			case cmd.Subscribe != nil:
				channel = cmd.Subscribe.Channel
				f.mu.Lock()
				f.subs[channel] = append(f.subs[channel], fc)
				f.mu.Unlock()
				fc.out <- []byte(`{"id":2,"subscribe":{}}`)
				close(fc.subscribed)
			}
		}
	}
}

// writer joins whatever is queued into one frame, as the peer does, and
// pings once subscribed; two pings in a row without a pong close the
// connection (Centrifugo's 3012 no pong), a loose bound for a loaded machine.
func (f *fakePeer) writer(ctx context.Context, c *websocket.Conn, fc *fakePeerConn) {
	ping := time.NewTicker(f.pingEvery)
	defer ping.Stop()
	unanswered := 0
	for {
		var frame []byte
		select {
		case <-ctx.Done():
			return
		case <-ping.C:
			select {
			case <-fc.subscribed:
			default:
				continue
			}
			select {
			case <-fc.ponged:
				unanswered = 0
			default:
			}
			if unanswered == 2 {
				c.Close(3012, "no pong")
				return
			}
			unanswered++
			frame = []byte("{}")
		case b := <-fc.out:
			frame = append(frame, b...)
		more:
			for {
				select {
				case b := <-fc.out:
					frame = append(append(frame, '\n'), b...)
				default:
					break more
				}
			}
		}
		if c.Write(ctx, websocket.MessageText, frame) != nil {
			return
		}
	}
}

func peerArgs(srv *httptest.Server, apiKey, secret string, extra ...string) []string {
	return append([]string{"-protocol", "centrifugo", "-url", srv.URL, "-centrifugo-api-key", apiKey,
		"-centrifugo-secret", secret, "-scenario", "fanout", "-duration", "400ms", "-settle", "50ms", "-drain", "2s"}, extra...)
}

func TestPeerFanoutAgainstFake(t *testing.T) {
	tests := []struct {
		fault    string
		args     []string
		positive []string // fields that must be > 0
		zero     []string // fields that must be 0
	}{
		{"", []string{"-conns", "20", "-rate", "100", "-senders", "2"},
			[]string{"msgs_per_s", "deliveries_per_s", "deliveries", "latency_samples", "ack_samples", "connects_per_s"},
			[]string{"lost", "duplicated", "out_of_order", "disconnects", "error_frames", "bad_frames", "publish_errors", "write_errors"}},
		{"", []string{"-conns", "10", "-senders", "3"}, // flat out
			[]string{"msgs_per_s", "deliveries_per_s"}, []string{"lost", "duplicated", "out_of_order", "disconnects"}},
		{"drop", []string{"-conns", "5", "-rate", "100", "-drain", "300ms"},
			[]string{"lost"}, []string{"duplicated", "out_of_order", "disconnects"}},
		{"dup", []string{"-conns", "5", "-rate", "100"},
			[]string{"duplicated"}, []string{"lost", "out_of_order"}},
		// Consecutive publishes go to different lanes, so a swap is seen
		// as one only with one lane.
		{"swap", []string{"-conns", "5", "-rate", "100", "-inflight", "1"},
			[]string{"out_of_order"}, []string{"duplicated"}}, // the last one may stay held: lost 0 or 1
		// Answers take 40 ms: one lane would publish at most 25/s, four
		// keep up with 60/s, each in order.
		{"slow", []string{"-conns", "5", "-rate", "60", "-senders", "1", "-inflight", "4", "-duration", "600ms"},
			[]string{"deliveries"}, []string{"lost", "duplicated", "out_of_order", "publish_errors"}},
	}
	for _, tc := range tests {
		t.Run(tc.fault+strings.Join(tc.args, " "), func(t *testing.T) {
			srv, f := newFakePeer(t, tc.fault)
			m := runScenario(t, peerArgs(srv, f.apiKey, f.secret, tc.args...)...)
			t.Logf("%v", m)
			if m["scenario"] != "fanout" {
				t.Fatalf("scenario %v, want fanout", m["scenario"])
			}
			if tc.fault == "slow" && m["msgs_per_s"].(float64) < 50 {
				t.Errorf("msgs_per_s = %v with answers taking 40 ms, want ≥ 50 of the 60 offered", m["msgs_per_s"])
			}
			for _, k := range tc.positive {
				if v, ok := m[k].(float64); !ok || v <= 0 {
					t.Errorf("%s = %v, want > 0", k, m[k])
				}
			}
			for _, k := range tc.zero {
				if v, ok := m[k].(float64); !ok || v != 0 {
					t.Errorf("%s = %v, want 0", k, m[k])
				}
			}
		})
	}
}

// A subscriber that did not answer pings would be closed by the peer at
// the third ping; the run, settling included, lasts about six.
func TestPeerFanoutAnswersPings(t *testing.T) {
	srv, f := newFakePeer(t, "")
	m := runScenario(t, peerArgs(srv, f.apiKey, f.secret, "-conns", "3", "-rate", "20")...)
	if m["disconnects"] != 0.0 || m["lost"] != 0.0 {
		t.Fatalf("disconnects %v, lost %v; want 0, 0 (pings unanswered?)", m["disconnects"], m["lost"])
	}
}

func TestPeerFanoutBadCredentials(t *testing.T) {
	srv, f := newFakePeer(t, "")

	var out, errOut bytes.Buffer
	err := run(peerArgs(srv, f.apiKey, "wrong-secret", "-conns", "2", "-rate", "10"), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "connect") || !strings.Contains(err.Error(), "109") {
		t.Fatalf("run with a wrong secret = %v, want the connect error 109", err)
	}

	m := runScenario(t, peerArgs(srv, "wrong-key", f.secret, "-conns", "2", "-rate", "50")...)
	if m["acked"] != 0.0 || m["publish_errors"].(float64) <= 0 || m["deliveries"] != 0.0 {
		t.Fatalf("acked %v, publish_errors %v, deliveries %v; want 0, > 0, 0", m["acked"], m["publish_errors"], m["deliveries"])
	}
}

func TestParsePeerLine(t *testing.T) {
	body := string(sendBody(nil, 987654321, 64))
	tests := []struct {
		name  string
		in    string
		want  peerFrame
		isErr bool
	}{
		{"ping", `{}`, peerFrame{kind: peerPing, sentAt: -1}, false},
		{"publication (scanned)", `{"push":{"channel":"fanout_x","pub":{"data":{"src":2,"seq":41,"body":"` + body + `"}}}}`,
			peerFrame{kind: peerPub, channel: "fanout_x", src: 2, seq: 41, sentAt: 987654321}, false},
		{"publication with an offset and keys reordered (decoded)",
			`{"push":{"pub":{"offset":9,"data":{"body":"` + body + `","seq":41,"src":2}},"channel":"fanout_x"}}`,
			peerFrame{kind: peerPub, channel: "fanout_x", src: 2, seq: 41, sentAt: 987654321}, false},
		{"publication with a body not of ours", `{"push":{"channel":"c","pub":{"data":{"src":0,"seq":1,"body":"hello"}}}}`,
			peerFrame{kind: peerPub, channel: "c", src: 0, seq: 1, sentAt: -1}, false},
		{"connect reply", `{"id":1,"connect":{"client":"abc","version":"6.9.1","ping":25,"pong":true}}`,
			peerFrame{kind: peerReply, id: 1, sentAt: -1}, false},
		{"error reply", `{"id":2,"error":{"code":103,"message":"permission denied"}}`,
			peerFrame{kind: peerReply, id: 2, code: 103, message: "permission denied", sentAt: -1}, false},
		{"disconnect push", `{"push":{"disconnect":{"code":3012,"reason":"no pong","reconnect":true}}}`,
			peerFrame{kind: peerDisconnect, code: 3012, message: "no pong", sentAt: -1}, false},
		{"join push", `{"push":{"channel":"c","join":{"info":{"user":"u","client":"c"}}}}`,
			peerFrame{kind: peerOther, sentAt: -1}, false},
		{"publication of someone else's data", `{"push":{"channel":"c","pub":{"data":{"text":"hi"}}}}`, peerFrame{}, true},
		{"not JSON", `{"push":`, peerFrame{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var f peerFrame
			err := parsePeerLine([]byte(tc.in), &f)
			if tc.isErr {
				if err == nil {
					t.Fatalf("parsePeerLine(%s) = %+v, want an error", tc.in, f)
				}
				return
			}
			if err != nil || f != tc.want {
				t.Fatalf("parsePeerLine(%s) = %+v, %v; want %+v", tc.in, f, err, tc.want)
			}
		})
	}
}

func TestEachLine(t *testing.T) {
	tests := map[string][]string{
		"":                       nil,
		"{}":                     {"{}"},
		"{\"id\":1}\n{}\n":       {`{"id":1}`, "{}"},
		"{\"a\":1}\n{\"b\":2}":   {`{"a":1}`, `{"b":2}`},
		"{\"a\":1}\n\n{\"b\":2}": {`{"a":1}`, `{"b":2}`},
	}
	for in, want := range tests {
		var got []string
		eachLine([]byte(in), func(l []byte) { got = append(got, string(l)) })
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("eachLine(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPublishAnswer(t *testing.T) {
	tests := []struct {
		status  int
		body    string
		refused bool // errPeerRefused, as opposed to an answer that is not the peer's
		ok      bool
	}{
		{200, `{"result":{}}`, false, true},
		{200, `{"result":{"offset":3,"epoch":"x"}}`, false, true},
		{200, `{"error":{"code":102,"message":"unknown channel"}}`, true, false},
		{401, ``, true, false},
		{200, `<html>`, false, false},
	}
	for _, tc := range tests {
		err := publishAnswer(tc.status, []byte(tc.body))
		if (err == nil) != tc.ok || errors.Is(err, errPeerRefused) != tc.refused {
			t.Errorf("publishAnswer(%d, %s) = %v; want ok %v, refused %v", tc.status, tc.body, err, tc.ok, tc.refused)
		}
	}
}

func TestPeerToken(t *testing.T) {
	pt := &peerTarget{secret: []byte("k")}
	s, err := pt.token("u1")
	if err != nil {
		t.Fatal(err)
	}
	var claims jwt.RegisteredClaims
	tok, err := jwt.ParseWithClaims(s, &claims, func(*jwt.Token) (any, error) { return []byte("k"), nil },
		jwt.WithValidMethods([]string{"HS256"}))
	if err != nil || !tok.Valid || claims.Subject != "u1" || claims.ExpiresAt != nil {
		t.Fatalf("token %s: %v, claims %+v; want a valid HS256 token for u1 without exp", s, err, claims)
	}
}

func TestPeerSecretsFromTheEnvironment(t *testing.T) {
	srv, f := newFakePeer(t, "")
	t.Setenv("CHATLOAD_CENTRIFUGO_API_KEY", f.apiKey)
	t.Setenv("CHATLOAD_CENTRIFUGO_SECRET", f.secret)
	m := runScenario(t, "-protocol", "centrifugo", "-url", srv.URL, "-scenario", "fanout", "-conns", "2", "-rate", "20",
		"-duration", "200ms", "-settle", "50ms", "-drain", "2s")
	if m["acked"].(float64) <= 0 || m["lost"] != 0.0 || m["publish_errors"] != 0.0 {
		t.Fatalf("acked %v, lost %v, publish_errors %v; want > 0, 0, 0", m["acked"], m["lost"], m["publish_errors"])
	}
}

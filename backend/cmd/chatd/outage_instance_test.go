package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// outageInstance is one running server.
type outageInstance struct {
	name string
	addr string
	logs *syncBuffer
	done chan error
}

func startOutageInstance(ctx context.Context, t *testing.T, name string, vars map[string]string) *outageInstance {
	t.Helper()
	in := &outageInstance{name: name, logs: &syncBuffer{}, done: make(chan error, 1)}
	go func() { in.done <- run(ctx, env(vars), in.logs) }()
	addrs, ok := in.logs.addrs(30*time.Second, "")
	if !ok {
		t.Fatalf("instance %s not listening; log:\n%s", name, in.logs.String())
	}
	in.addr = addrs[""]
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

// rest makes a request and fails the test unless it answers want; a JSON
// answer goes into out when that is set.
func (in *outageInstance) rest(t *testing.T, method, path, token, body string, want int, out any) {
	t.Helper()
	status, b := in.do(t, method, path, token, body)
	if status != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, status, b, want)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(b), out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

func (in *outageInstance) get(t *testing.T, path string) (int, string) {
	return in.do(t, "GET", path, "", "")
}

func (in *outageInstance) getAuth(t *testing.T, path, token string) (int, string) {
	return in.do(t, "GET", path, token, "")
}

// do makes a request, with a bearer token when token is set, and returns
// the status and body of the answer.
func (in *outageInstance) do(t *testing.T, method, path, token, body string) (int, string) {
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

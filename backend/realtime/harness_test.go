package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/auth"
	"github.com/chatapp/chat/broker"
	"github.com/chatapp/chat/chat"
	"github.com/chatapp/chat/httpapi"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// GORM's prepared-statement cache (store, Postgres) starts an expiry
		// goroutine that nothing can stop; it is not ours.
		goleak.IgnoreTopFunction("gorm.io/gorm/internal/lru.NewLRU[...].func1"),
	)
}

const testSecret = "0123456789abcdef0123456789abcdef-realtime-test"

func newTokens(t testing.TB) *auth.Tokens {
	return newTokensTTL(t, 0)
}

// newTokensTTL issues tokens that last ttl (0: the default).
func newTokensTTL(t testing.TB, ttl time.Duration) *auth.Tokens {
	t.Helper()
	tokens, err := auth.NewTokens(auth.TokenConfig{Secret: []byte(testSecret), Issuer: "chat-test", Audience: "chat-test", TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	return tokens
}

// instance is one server: a hub, the use cases wired to it, and an
// httptest server mounting the endpoint at /api/v1/ws.
type instance struct {
	hub      *Hub
	svc      *app.Service
	sessions *app.Sessions
	pages    *app.PageCache
	srv      *httptest.Server
	url      string
	stop     func() // stops the hub (idempotent)
}

type instanceConfig struct {
	store    app.Store
	tokens   *auth.Tokens
	broker   Broker
	presence Presence
	mod      func(*Options)
	clock    func() time.Time // the use cases' clock; nil: time.Now
	// wrap, when set, is what the endpoint calls instead of the service.
	wrap func(Service) Service
	// blobs keeps attachments (shared by a cluster's instances); nil: none.
	blobs app.Blobs
}

func startInstance(t *testing.T, cfg instanceConfig) *instance {
	t.Helper()
	if cfg.tokens == nil {
		cfg.tokens = newTokens(t)
	}
	if cfg.broker == nil {
		m := broker.NewMemory()
		t.Cleanup(func() { _ = m.Close() })
		cfg.broker = m
	}
	sessions := app.NewSessions(time.Hour)
	// As in chatd: the latest pages of the groups the hub hears.
	pages := app.NewPageCache(0)
	opt := Options{Broker: cfg.broker, Store: cfg.store, Presence: cfg.presence, Sessions: sessions, FrameRate: -1, Pages: pages}
	if cfg.mod != nil {
		cfg.mod(&opt)
	}
	hub, err := NewHub(opt)
	if err != nil {
		t.Fatal(err)
	}
	hasher, err := auth.NewHasher(auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 16}, nil)
	if err != nil {
		t.Fatal(err)
	}
	svc := app.New(app.Deps{Store: cfg.store, Tokens: cfg.tokens, Hasher: hasher, Notifier: hub, Presence: hub, Admission: hub, Sessions: sessions, Clock: cfg.clock, Blobs: cfg.blobs, Pages: pages, Live: hub}, app.Config{})

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- hub.Run(ctx) }()
	watched := make(chan error, 1)
	go func() { watched <- svc.WatchSessions(ctx) }()
	select {
	case <-hub.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("hub never subscribed")
	}
	var endpoint Service = svc
	if cfg.wrap != nil {
		endpoint = cfg.wrap(svc)
	}
	// The endpoint is mounted as in production, behind the HTTP layer that
	// answers its refusals.
	srv := httptest.NewServer(httpapi.New(httpapi.Options{Service: svc, WS: hub.Endpoint(endpoint)}))
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("hub.Run: %v", err)
				}
			case <-time.After(20 * time.Second):
				t.Errorf("hub.Run did not return after its context ended")
			}
			if err := <-watched; err != nil {
				t.Errorf("WatchSessions: %v", err)
			}
		})
	}
	t.Cleanup(func() {
		stop()
		srv.Close()
	})
	return &instance{hub: hub, svc: svc, sessions: sessions, pages: pages, srv: srv, url: "ws" + strings.TrimPrefix(srv.URL, "http") + "/api/v1/ws", stop: stop}
}

// account is a registered user with a valid access token and the refresh
// token of its session.
type account struct {
	chat.User
	token, refresh string
}

func register(t *testing.T, svc *app.Service, name string) account {
	t.Helper()
	res, err := svc.Register(context.Background(), app.Registration{Username: name, Password: "correct horse battery"})
	if err != nil {
		t.Fatalf("register %s: %v", name, err)
	}
	return account{User: res.User, token: res.AccessToken, refresh: res.RefreshToken}
}

// login starts another session of a registered user.
func login(t *testing.T, svc *app.Service, a account) account {
	t.Helper()
	res, err := svc.Login(context.Background(), a.Username, "correct horse battery")
	if err != nil {
		t.Fatalf("login %s: %v", a.Username, err)
	}
	return account{User: res.User, token: res.AccessToken, refresh: res.RefreshToken}
}

func createGroup(t *testing.T, svc *app.Service, owner account, name string) int64 {
	t.Helper()
	g, err := svc.CreateGroup(context.Background(), owner.ID, app.GroupInput{Name: name})
	if err != nil {
		t.Fatalf("create group: %v", err)
	}
	return g.ID
}

func join(t *testing.T, svc *app.Service, a account, gid int64) {
	t.Helper()
	if _, err := svc.Join(context.Background(), a.ID, gid); err != nil {
		t.Fatalf("join: %v", err)
	}
}

// frame is any server → client frame.
type frame struct {
	Type    string        `json:"type"`
	Ref     string        `json:"ref"`
	Message *chat.Message `json:"message"`
	GroupID int64         `json:"group_id"`
	UserID  int64         `json:"user_id"`
	Seq     int64         `json:"seq"`
	Online  *bool         `json:"online"`
	User    *chat.User    `json:"user"`
	// A reaction event's.
	MessageID int64  `json:"message_id"`
	Emoji     string `json:"emoji"`
	Added     *bool  `json:"added"`
	// ExpiresIn is the lifetime of a reauthed socket.
	ExpiresIn int64 `json:"expires_in"`
	Error     *struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Details map[string]string `json:"details"`
	} `json:"error"`
	raw string
}

// client is a test WebSocket client whose reader collects every frame.
type client struct {
	t      *testing.T
	name   string
	ws     *websocket.Conn
	frames chan frame
	done   chan struct{}
	err    error // why the reader stopped; read after done
}

type dialOpt struct {
	header  http.Header
	noRead  bool // do not start the reader (slow consumer tests)
	authMsg any  // first frame to send, if any
}

func dial(t *testing.T, url string, o dialOpt) (*client, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: o.header})
	if err != nil {
		return nil, resp, err
	}
	ws.SetReadLimit(-1)
	c := &client{t: t, ws: ws, frames: make(chan frame, 1<<14), done: make(chan struct{})}
	t.Cleanup(func() {
		_ = ws.CloseNow()
		if !o.noRead {
			<-c.done
		}
	})
	if o.authMsg != nil {
		c.send(o.authMsg)
	}
	if !o.noRead {
		go c.read()
	}
	return c, resp, nil
}

func (c *client) read() {
	defer close(c.done)
	defer close(c.frames)
	for {
		_, data, err := c.ws.Read(context.Background())
		if err != nil {
			c.err = err
			return
		}
		var f frame
		if err := json.Unmarshal(data, &f); err != nil {
			c.err = fmt.Errorf("bad frame %q: %w", data, err)
			return
		}
		f.raw = string(data)
		c.frames <- f
	}
}

// connect dials with the bearer header and waits for ready.
func connect(t *testing.T, inst *instance, a account) *client {
	t.Helper()
	c, _, err := dial(t, inst.url, dialOpt{header: http.Header{"Authorization": {"Bearer " + a.token}}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c.name = a.Username
	f := c.next(t)
	if f.Type != "ready" || f.User == nil || f.User.ID != a.ID {
		t.Fatalf("first frame %s, want ready for user %d", f.raw, a.ID)
	}
	return c
}

func (c *client) send(v any) {
	c.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		c.t.Fatalf("%s: write: %v", c.name, err)
	}
}

const waitLong = 15 * time.Second

func (c *client) next(t *testing.T) frame {
	t.Helper()
	select {
	case f, ok := <-c.frames:
		if !ok {
			t.Fatalf("%s: connection ended: %v", c.name, c.err)
		}
		return f
	case <-time.After(waitLong):
		t.Fatalf("%s: no frame within %s", c.name, waitLong)
	}
	return frame{}
}

// until returns the first frame of one of the types, failing on any frame
// of a type in forbid met on the way; other frames are skipped.
func (c *client) until(t *testing.T, typ string, forbid ...string) frame {
	t.Helper()
	for {
		f := c.next(t)
		if f.Type == typ {
			return f
		}
		for _, x := range forbid {
			if f.Type == x {
				t.Fatalf("%s: got %s while waiting for %s", c.name, f.raw, typ)
			}
		}
	}
}

// sync sends a ping and returns every frame received before its pong: all
// that the server had queued for this connection when the ping was read.
func (c *client) sync(t *testing.T) []frame {
	t.Helper()
	ref := "sync-" + strconv.Itoa(int(time.Now().UnixNano()))
	c.send(map[string]any{"type": "ping", "ref": ref})
	var before []frame
	for {
		f := c.next(t)
		if f.Type == "pong" && f.Ref == ref {
			return before
		}
		before = append(before, f)
	}
}

// closed waits for the connection to end and returns the close code.
func (c *client) closed(t *testing.T) websocket.StatusCode {
	t.Helper()
	deadline := time.After(waitLong)
	for {
		select {
		case _, ok := <-c.frames:
			if !ok {
				<-c.done
				return websocket.CloseStatus(c.err)
			}
		case <-deadline:
			t.Fatalf("%s: connection not closed within %s", c.name, waitLong)
		}
	}
}

func ofType(fs []frame, typ string) []frame {
	var out []frame
	for _, f := range fs {
		if f.Type == typ {
			out = append(out, f)
		}
	}
	return out
}

// eventually polls cond until it holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLong)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func redisClient(t *testing.T) *redis.Client {
	t.Helper()
	url := os.Getenv("TEST_REDIS_URL")
	if url == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("TEST_REDIS_URL is not set (required in CI)")
		}
		t.Skip("TEST_REDIS_URL is not set")
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// flakyStore is a store whose database can be switched off.
type flakyStore struct {
	app.Store
	mu   sync.Mutex
	down bool
}

func (s *flakyStore) setDown(v bool) {
	s.mu.Lock()
	s.down = v
	s.mu.Unlock()
}

func (s *flakyStore) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return fmt.Errorf("flaky store: %w", chat.ErrUnavailable)
	}
	return nil
}

func (s *flakyStore) InsertMessage(ctx context.Context, m chat.NewMessage) (chat.Message, bool, error) {
	return s.QueueMessage(ctx, m)()
}

func (s *flakyStore) QueueMessage(ctx context.Context, m chat.NewMessage) func() (chat.Message, bool, error) {
	if err := s.err(); err != nil {
		return func() (chat.Message, bool, error) { return chat.Message{}, false, err }
	}
	return s.Store.QueueMessage(ctx, m)
}

func (s *flakyStore) Messages(ctx context.Context, gid int64, q chat.HistoryQuery) ([]chat.Message, bool, error) {
	if err := s.err(); err != nil {
		return nil, false, err
	}
	return s.Store.Messages(ctx, gid, q)
}

func (s *flakyStore) Membership(ctx context.Context, gid, uid int64) (chat.Membership, error) {
	if err := s.err(); err != nil {
		return chat.Membership{}, err
	}
	return s.Store.Membership(ctx, gid, uid)
}

// downBroker is a broker whose publishes fail (Redis unreachable) while its
// subscription stays in place.
type downBroker struct {
	*broker.Memory
}

func (downBroker) Publish(context.Context, ...broker.Message) error {
	return errors.New("down broker: connection refused")
}

// hangingBroker is a broker that no longer answers (a black-holed Redis):
// publishes and pings wait until their context ends; the subscription stays.
type hangingBroker struct {
	*broker.Memory
}

func (hangingBroker) Publish(ctx context.Context, _ ...broker.Message) error {
	<-ctx.Done()
	return fmt.Errorf("hanging broker: %w", ctx.Err())
}

func (hangingBroker) Ping(ctx context.Context) error {
	<-ctx.Done()
	return fmt.Errorf("hanging broker: %w", ctx.Err())
}

// subscribedGroups is how many groups the hub indexes.
func (h *Hub) subscribedGroups() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.groups)
}

// Package realtime serves the WebSocket endpoint (GET /api/v1/ws): it
// authenticates connections, reads client frames into the use cases, and
// delivers events to every local connection that should see them.
//
// One Hub per instance. It publishes every event through the broker on the
// topics its audience needs (topics.go) and holds ONE broker subscription,
// whatever the number of connections, to the topics of the groups and users
// it has connections of: an instance hears nothing of groups it does not
// serve. Message
// events pass a per-group sequencer that remembers the last seq delivered on
// this instance: an event that jumps ahead makes the hub read the gap from
// the database (the rows are committed before any event is published), an
// event at or below it is dropped. After a broker (re)connect, and every
// ResyncInterval, each group with local connections is re-read from the
// database. So delivery stays complete and ordered even when the broker loses
// messages or several instances publish concurrently.
package realtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/broker"
	"github.com/chatapp/chat/chat"
)

// Broker carries encoded events to the instances that subscribe to their
// topics (package broker).
type Broker interface {
	// Publish sends messages, in order, to the subscriptions of their
	// topics.
	Publish(ctx context.Context, msgs ...broker.Message) error
	// Subscribe runs one subscription to the topics of topics (as they
	// change) until ctx ends, calling deliver for every message in order,
	// and connected once the subscription is (re)established (no topic)
	// and with the topics that became active.
	Subscribe(ctx context.Context, topics *broker.Topics, deliver func(broker.Message), connected func([]string)) error
	Ping(ctx context.Context) error
}

// Store is the part of the database the hub reads.
type Store interface {
	Messages(ctx context.Context, groupID int64, q chat.HistoryQuery) ([]chat.Message, bool, error)
	// GroupIDsOfUsers maps each of the users to the groups they are members
	// of (users in none are left out).
	GroupIDsOfUsers(ctx context.Context, userIDs []int64) (map[int64][]int64, error)
}

// Presence records who is connected on any instance (package broker).
type Presence interface {
	// Connect reports true when the user was offline everywhere before.
	Connect(ctx context.Context, uid int64) (bool, error)
	// Disconnect reports true when the user is now offline everywhere.
	Disconnect(ctx context.Context, uid int64) (bool, error)
	Online(ctx context.Context, uid int64) (bool, error)
	// Heartbeat keeps this instance's entries of these users alive.
	Heartbeat(ctx context.Context, uids []int64) error
	// Sweep returns users whose entries all expired (a dead instance's).
	Sweep(ctx context.Context) ([]int64, error)
}

// Sessions is this instance's record of the sessions (refresh-token
// families) that ended (app.Sessions): a connection of an ended session
// is closed.
type Sessions interface {
	// Add records sessions heard of from another instance.
	Add(now time.Time, ends ...chat.SessionEnd) []chat.SessionEnd
	Ended(session string) bool
	// Since returns the sessions recorded after mark, and the next mark.
	Since(mark uint64) ([]chat.SessionEnd, uint64)
}

// Options configure a Hub. Broker and Store are required.
type Options struct {
	Broker   Broker
	Store    Store
	Presence Presence // nil: in-process (broker.NewMemoryPresence)
	// Sessions, when set, closes the connections of sessions that end on
	// any instance even when the broker lost the word of it (the record
	// reads the database); nil: only the broker's word closes them.
	Sessions Sessions
	Log      *slog.Logger // nil: discard
	Clock    func() time.Time
	// Pages, when set, is told what may change the latest pages the use
	// cases keep (pages.go).
	Pages Pages
	// Metrics is where the hub registers its Prometheus series (chatd's
	// /metrics registry); nil: counted but not exported.
	Metrics prometheus.Registerer

	// AllowedOrigins are the browser origins accepted besides the server's
	// own, as "scheme://host[:port]" (CORS_ORIGINS).
	AllowedOrigins []string
	// FrameRate is how many frames per second one connection may send,
	// with bursts of twice that (CHAT_WS_RATE). 0: 20; negative: no limit.
	FrameRate int
	// QueueSize bounds the unsent events of one connection (default 1024);
	// a connection that exceeds it is closed with 1013. It must absorb the
	// burst of one group commit (up to 256 messages into one group at
	// once, package store) several times over, or a busy group would cut
	// readers that keep up perfectly well.
	QueueSize int
	// MaxQueueDelay cuts a connection (1013, it resumes) whose oldest
	// unsent event has waited longer (default 1 s): a reader that far
	// behind would only see stale events and hold the others' memory.
	MaxQueueDelay time.Duration
	// MaxSendDelay is how long a send is held while the instance is behind
	// on its deliveries before it is refused with rate_limited (default
	// 500 ms; see Hub.Admit).
	MaxSendDelay time.Duration

	AuthTimeout      time.Duration // first auth frame (default 10 s)
	WriteTimeout     time.Duration // every write (default 10 s)
	PingInterval     time.Duration // keepalive ping (default 30 s)
	PongTimeout      time.Duration // dead peer after this without pong (default 15 s)
	ResyncInterval   time.Duration // re-read active groups (default 30 s)
	PresenceInterval time.Duration // presence heartbeat and sweep (default 20 s)
	PublishTimeout   time.Duration // one broker publish attempt (default 2 s)
	// TypingInterval is the shortest gap between two typing events one
	// connection forwards for one group (default 2 s).
	TypingInterval time.Duration
	// SessionCheck is how often the connections are checked against the
	// sessions recorded as ended (default 250 ms).
	SessionCheck time.Duration
	// TopicLinger is how long the broker topic of a group or user that no
	// local connection needs any more stays subscribed (default 5 s), so
	// that reconnects do not churn subscriptions.
	TopicLinger time.Duration

	// MaxPerUser bounds the open connections of one user on this instance
	// (CHAT_WS_MAX_PER_USER): a new one beyond it closes the user's oldest
	// with 4429. 0: 20; negative: no limit.
	MaxPerUser int
	// MaxPendingPerAddr bounds the connections of one client address (an
	// IPv6 address by its /64) that are not authenticated yet
	// (CHAT_WS_MAX_PENDING_PER_ADDR): beyond it an upgrade is refused with
	// 429. 0: 50; negative: no limit.
	MaxPendingPerAddr int
}

const (
	readLimit   = 64 << 10 // largest client frame (API.md)
	pageSize    = 100      // rows per database read
	fillWorkers = 2
)

func (o *Options) defaults() {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Presence == nil {
		o.Presence = broker.NewMemoryPresence()
	}
	if o.FrameRate == 0 {
		o.FrameRate = 20
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 1024
	}
	if o.MaxPerUser == 0 {
		o.MaxPerUser = 20
	}
	if o.MaxPendingPerAddr == 0 {
		o.MaxPendingPerAddr = 50
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.AuthTimeout, 10*time.Second)
	def(&o.WriteTimeout, 10*time.Second)
	def(&o.PingInterval, 30*time.Second)
	def(&o.PongTimeout, 15*time.Second)
	def(&o.ResyncInterval, 30*time.Second)
	def(&o.PresenceInterval, 20*time.Second)
	def(&o.PublishTimeout, 2*time.Second)
	def(&o.TypingInterval, 2*time.Second)
	def(&o.SessionCheck, 250*time.Millisecond)
	def(&o.TopicLinger, broker.DefaultLinger)
	def(&o.MaxQueueDelay, time.Second)
	def(&o.MaxSendDelay, 500*time.Millisecond)
}

// Hub is the realtime side of one instance. It implements app.Notifier and
// app.Presence.
type Hub struct {
	opt      Options
	log      *slog.Logger
	metrics  *metrics
	instance string
	connSeq  atomic.Uint64

	mu     sync.Mutex
	groups map[int64]*groupState
	users  map[int64]map[*conn]struct{}
	// joining are the connections between the last read of their groups
	// and their registration, with the membership changes routed to them
	// meanwhile (group -> joined, or left): register applies them.
	joining  map[*conn]map[int64]bool
	runCtx   context.Context // set by Run; nil before and after
	stopped  bool
	fillQ    []int64
	dirty    map[int64]struct{} // users whose presence may have changed
	pending  map[string]int     // client address → connections not yet authenticated
	handlers sync.WaitGroup     // live WebSocket handlers

	corkPool sync.Pool // *[]byte buffers of corkWriter, shared by all connections
	pub      *publisher
	// topics are the broker topics of the groups and users with local
	// connections (joined and left under mu).
	topics *broker.Topics
	// regroupQ are users whose topic became active: their groups are read
	// again (events sent before were not heard).
	regroupQ    map[int64]struct{}
	regroupKick chan struct{}
	press       *pressure // whether deliveries keep up (overload.go)

	fillKick     chan struct{}
	presenceKick chan struct{}
	ready        chan struct{}
	readyOnce    sync.Once
}

var (
	_ app.Notifier = (*Hub)(nil)
	_ app.Presence = (*Hub)(nil)
)

// NewHub returns a hub; call Run to start it.
func NewHub(opt Options) (*Hub, error) {
	if opt.Broker == nil || opt.Store == nil {
		return nil, fmt.Errorf("realtime: Broker and Store are required")
	}
	opt.defaults()
	m, err := newMetrics(opt.Metrics)
	if err != nil {
		return nil, err
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("realtime: instance id: %w", err)
	}
	h := &Hub{
		opt:          opt,
		log:          opt.Log,
		metrics:      m,
		instance:     hex.EncodeToString(b[:]),
		groups:       make(map[int64]*groupState),
		users:        make(map[int64]map[*conn]struct{}),
		joining:      make(map[*conn]map[int64]bool),
		dirty:        make(map[int64]struct{}),
		pending:      make(map[string]int),
		fillKick:     make(chan struct{}, 1),
		presenceKick: make(chan struct{}, 1),
		ready:        make(chan struct{}),
		topics:       broker.NewTopics(opt.TopicLinger),
		regroupQ:     make(map[int64]struct{}),
		regroupKick:  make(chan struct{}, 1),
	}
	h.pub = newPublisher(h)
	h.press = newPressure()
	return h, nil
}

// Ready is closed once the broker subscription is first in place; events
// published before that may reach this instance only through a re-sync.
func (h *Hub) Ready() <-chan struct{} { return h.ready }

// pingTimeout bounds the readiness check of the broker: a probe must answer
// quickly even while the broker is unreachable.
const pingTimeout = 50 * time.Millisecond

// Ping reports whether the broker answers (readiness): at once from the
// last publish when that failed, else by a ping bounded by pingTimeout.
func (h *Hub) Ping(ctx context.Context) error {
	if h.pub.brokerFailing() {
		return fmt.Errorf("realtime: %w: the last publish failed", chat.ErrUnavailable)
	}
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	return h.opt.Broker.Ping(ctx)
}

// Online tells whether the user has a live connection on any instance.
func (h *Hub) Online(ctx context.Context, uid int64) (bool, error) {
	ok, err := h.opt.Presence.Online(ctx, uid)
	if err != nil {
		return false, fmt.Errorf("realtime: online: %w: %w", chat.ErrUnavailable, err)
	}
	return ok, nil
}

// Run owns every goroutine of the hub: the broker subscription, the
// database fills, the periodic re-sync and presence. When ctx ends it closes
// every connection (1001), waits for their handlers and returns.
func (h *Hub) Run(ctx context.Context) error {
	h.mu.Lock()
	if h.runCtx != nil || h.stopped {
		h.mu.Unlock()
		return fmt.Errorf("realtime: hub already running")
	}
	connCtx, cancelConns := context.WithCancel(context.WithoutCancel(ctx))
	h.runCtx = connCtx
	h.mu.Unlock()
	defer cancelConns()

	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	var wg sync.WaitGroup
	wg.Go(func() { h.subscribe(workCtx) })
	wg.Go(func() { h.pub.routeLoop(workCtx) })
	wg.Go(func() { h.pub.sendLoop(workCtx) })
	for range fillWorkers {
		wg.Go(func() { h.fillLoop(workCtx) })
	}
	wg.Go(func() { h.resyncLoop(workCtx) })
	wg.Go(func() { h.writeWatchdog(workCtx) })
	wg.Go(func() { h.sessionsLoop(workCtx) })
	wg.Go(func() { h.regroupLoop(workCtx) })
	presenceCtx, cancelPresence := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelPresence()
	var pwg sync.WaitGroup
	pwg.Go(func() { h.presenceLoop(presenceCtx) })

	<-ctx.Done()

	// Shut down: no new connections, close the open ones, wait for them,
	// then let presence report their users offline, then stop the rest.
	h.mu.Lock()
	h.stopped = true
	open := h.appendConnsLocked(nil)
	h.mu.Unlock()
	for _, c := range open {
		c.closeWith(1001, "server shutting down")
	}
	cancelConns() // ends handlers still authenticating
	h.handlers.Wait()
	cancelPresence()
	pwg.Wait()
	cancelWork()
	wg.Wait()
	h.mu.Lock()
	h.runCtx = nil
	h.mu.Unlock()
	return nil
}

// Notify hands a committed change to this instance's connections and, through
// the broker, to the other instances: the event is encoded once here and the
// bytes are shared by every connection that gets it. It only queues (see
// publisher): the use case never waits for the delivery or the broker.
func (h *Hub) Notify(_ context.Context, ev chat.Event) {
	env, err := newEnvelope(ev)
	if err != nil {
		h.log.Error("realtime: notify", "err", err, "type", ev.Type)
		return
	}
	env.Origin = h.instance
	payload, err := env.encode()
	if err != nil {
		h.log.Error("realtime: notify", "err", err, "type", ev.Type)
		return
	}
	h.pub.enqueue(env, messagesOf(&env, payload))
}

func (h *Hub) subscribe(ctx context.Context) {
	for ctx.Err() == nil {
		err := h.opt.Broker.Subscribe(ctx, h.topics, h.deliver, h.connected)
		if ctx.Err() != nil {
			return
		}
		h.log.Error("realtime: broker subscription ended; retrying", "err", err)
		if !sleepCtx(ctx, time.Second) {
			return
		}
	}
}

// connected runs when the subscription is (re)established and when topics
// become active: whatever those topics carried before is read from the
// database (groups: their messages; users: their groups).
func (h *Hub) connected(topics []string) {
	h.readyOnce.Do(func() { close(h.ready) })
	h.connectedPages(topics)
	if len(topics) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	users := 0
	for _, t := range topics {
		kind, id, ok := parseTopic(t)
		switch {
		case !ok:
		case kind == 'g':
			h.resyncLocked(id)
		case h.users[id] != nil:
			h.regroupQ[id] = struct{}{}
			users++
		}
	}
	if users > 0 {
		kick(h.regroupKick)
	}
}

// deliver routes a broker message: the share of its event's audience that
// its topic carries (share), unless this instance published it (routed
// here when it was published).
func (h *Hub) deliver(msg broker.Message) {
	env, err := decodeEnvelope(msg.Payload)
	if err != nil {
		h.log.Warn("realtime: undecodable broker payload", "err", err)
		return
	}
	h.metrics.brokerDeliveries.Inc()
	if env.Origin == h.instance {
		return
	}
	h.heardPages(env)
	part, skip, ok := share(msg.Topic, env.Group, env.Audience)
	if !ok {
		return
	}
	env.Audience = part
	h.route(env, skip)
}

// ---- database fills ----

// ---- presence ----

// newConnID numbers a new connection (in the order they open) and names
// it uniquely across instances.
func (h *Hub) newConnID() (uint64, string) {
	n := h.connSeq.Add(1)
	return n, h.instance + "-" + strconv.FormatUint(n, 36)
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Package realtime serves the WebSocket endpoint (GET /api/v1/ws): it
// authenticates connections, reads client frames into the use cases, and
// delivers events to every local connection that should see them.
//
// One Hub per instance. It publishes every event once through the broker and
// holds ONE broker subscription, whatever the number of connections. Message
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
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/broker"
	"github.com/chatapp/chat/chat"
)

// Broker carries encoded events to every instance (package broker).
type Broker interface {
	// Publish sends payloads, in order, to every instance's subscription.
	Publish(ctx context.Context, payloads ...[]byte) error
	// Subscribe runs one subscription until ctx ends, calling deliver for
	// every payload in order and connected after every (re)subscription.
	Subscribe(ctx context.Context, deliver func([]byte), connected func()) error
	Ping(ctx context.Context) error
}

// Store is the part of the database the hub reads.
type Store interface {
	Messages(ctx context.Context, groupID int64, q app.HistoryQuery) ([]chat.Message, bool, error)
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

// Options configure a Hub. Broker and Store are required.
type Options struct {
	Broker   Broker
	Store    Store
	Presence Presence     // nil: in-process (broker.NewMemoryPresence)
	Log      *slog.Logger // nil: discard
	Clock    func() time.Time
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
}

// groupState is the sequencer and the local subscriber list of one group.
type groupState struct {
	conns map[*conn]sub
	// delivered is the last seq handed to the local connections; -1 until
	// the baseline has been read from the database.
	delivered int64
	// pendingMin is the lowest seq seen while the baseline was unknown.
	pendingMin int64
	// target is the highest seq known to exist beyond delivered (MaxInt64:
	// read to the end).
	target int64
	queued bool // in the fill queue or being filled
	// based is closed once delivered is known (replays wait for it); nil
	// until someone waits.
	based chan struct{}
}

// baseline returns a channel that is closed once the group's baseline is
// known (already closed if it is); h.mu is held.
func (st *groupState) baseline() <-chan struct{} {
	if st.based == nil {
		st.based = make(chan struct{})
		if st.delivered >= 0 {
			close(st.based)
		}
	}
	return st.based
}

// released wakes whoever waits for the baseline: it is known, or the state
// is dropped; h.mu is held.
func (st *groupState) released() {
	if st.based != nil {
		select {
		case <-st.based:
		default:
			close(st.based)
		}
	}
}

// sub is one connection's standing in one group. The messages sent on the
// connection are exactly the seqs in (from, sent]: live delivery extends the
// range upwards, a resume extends it downwards to its cursor.
type sub struct {
	from, sent int64
	replaying  bool // a resume replays from the database: live messages wait
}

// Hub is the realtime side of one instance. It implements app.Notifier and
// app.Presence.
type Hub struct {
	opt      Options
	log      *slog.Logger
	metrics  *metrics
	instance string
	connSeq  atomic.Uint64

	mu       sync.Mutex
	groups   map[int64]*groupState
	users    map[int64]map[*conn]struct{}
	runCtx   context.Context // set by Run; nil before and after
	stopped  bool
	fillQ    []int64
	dirty    map[int64]struct{} // users whose presence may have changed
	handlers sync.WaitGroup     // live WebSocket handlers

	corkPool sync.Pool // *[]byte buffers of corkWriter, shared by all connections
	pub      *publisher

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
		dirty:        make(map[int64]struct{}),
		fillKick:     make(chan struct{}, 1),
		presenceKick: make(chan struct{}, 1),
		ready:        make(chan struct{}),
	}
	h.pub = newPublisher(h)
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
	h.pub.enqueue(env, payload)
}

// appendConnsLocked appends every registered connection to dst; h.mu is
// held.
func (h *Hub) appendConnsLocked(dst []*conn) []*conn {
	for _, set := range h.users {
		for c := range set {
			dst = append(dst, c)
		}
	}
	return dst
}

// writeWatchdog bounds every connection's writes by WriteTimeout: each
// quarter of it, the connections whose current batch began WriteTimeout ago
// or more are cut (so a stuck write ends within 1.25 × WriteTimeout).
func (h *Hub) writeWatchdog(ctx context.Context) {
	timeout := h.opt.WriteTimeout
	t := time.NewTicker(max(timeout/4, 10*time.Millisecond))
	defer t.Stop()
	var open []*conn
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		h.mu.Lock()
		open = h.appendConnsLocked(open[:0])
		h.mu.Unlock()
		now := time.Now()
		for _, c := range open {
			if c.cutSlowWrite(now, timeout) {
				h.log.Info("realtime: write timed out; closing the connection", "conn", c.id, "user", c.uid)
			}
		}
		clear(open)
	}
}

func (h *Hub) subscribe(ctx context.Context) {
	for ctx.Err() == nil {
		err := h.opt.Broker.Subscribe(ctx, h.deliver, h.connected)
		if ctx.Err() != nil {
			return
		}
		h.log.Error("realtime: broker subscription ended; retrying", "err", err)
		if !sleepCtx(ctx, time.Second) {
			return
		}
	}
}

// connected runs after every (re)subscription: whatever was published while
// the subscription was down is read from the database.
func (h *Hub) connected() {
	h.readyOnce.Do(func() { close(h.ready) })
	h.resyncAll()
}

func (h *Hub) deliver(payload []byte) {
	env, err := decodeEnvelope(payload)
	if err != nil {
		h.log.Warn("realtime: undecodable broker payload", "err", err)
		return
	}
	if env.Origin == h.instance {
		return // routed here when it was published
	}
	h.route(env)
}

// route hands one event to the local connections that should get it.
func (h *Hub) route(env envelope) {
	frame := env.Event
	h.mu.Lock()
	defer h.mu.Unlock()
	switch env.Type {
	case chat.EventMessage:
		if st := h.groups[env.Group]; st != nil {
			h.sequence(env.Group, st, env.Seq, env.User, frame)
		}
	case chat.EventMemberJoined:
		// The new member's connections hear of the group from this event on.
		for c := range h.users[env.User] {
			h.subscribeLocked(c, env.Group, -1)
		}
		h.fanout(h.groups[env.Group], frame, env.Except, 0)
	case chat.EventMemberLeft:
		// The leaving member still learns that they left; nothing after.
		h.fanoutTo(env, frame)
		for c := range h.users[env.User] {
			h.unsubscribeLocked(c, env.Group)
		}
	case chat.EventSessionsEnded:
		// Never a frame: the user's password changed, so every connection
		// of the user ends; the clients log in again.
		for c := range h.users[env.User] {
			c.closeWith(CloseUnauthorized, "session ended")
		}
	case chat.EventGroupDeleted:
		h.fanoutTo(env, frame)
		if st := h.groups[env.Group]; st != nil {
			for c := range st.conns {
				h.unsubscribeLocked(c, env.Group)
			}
		}
	default:
		if len(env.To) > 0 {
			h.toUsers(env, frame)
			return
		}
		if len(env.Groups) > 0 {
			h.toGroups(env, frame)
			return
		}
		if env.Type == chat.EventTyping {
			// Not echoed to any connection of the typist.
			h.fanout(h.groups[env.Group], frame, env.Except, env.User)
			return
		}
		h.fanout(h.groups[env.Group], frame, env.Except, 0)
	}
}

// fanoutTo delivers to the listed users, or else to the group.
func (h *Hub) fanoutTo(env envelope, frame []byte) {
	if len(env.To) > 0 {
		h.toUsers(env, frame)
		return
	}
	h.fanout(h.groups[env.Group], frame, env.Except, 0)
}

func (h *Hub) toUsers(env envelope, frame []byte) {
	for _, uid := range env.To {
		for c := range h.users[uid] {
			if c.id != env.Except {
				c.push(frame)
			}
		}
	}
}

// toGroups delivers to the connections of the listed groups, each once,
// none of env.User's.
func (h *Hub) toGroups(env envelope, frame []byte) {
	var sent map[*conn]struct{} // only needed when groups can overlap
	if len(env.Groups) > 1 {
		sent = make(map[*conn]struct{})
	}
	for _, gid := range env.Groups {
		st := h.groups[gid]
		if st == nil {
			continue
		}
		for c := range st.conns {
			if c.uid == env.User || c.id == env.Except {
				continue
			}
			if sent != nil {
				if _, dup := sent[c]; dup {
					continue
				}
				sent[c] = struct{}{}
			}
			c.push(frame)
		}
	}
}

func (h *Hub) fanout(st *groupState, frame []byte, except string, exceptUser int64) {
	if st == nil {
		return
	}
	for c := range st.conns {
		if c.id == except || (exceptUser != 0 && c.uid == exceptUser) {
			continue
		}
		c.push(frame)
	}
}

// sequence is the per-group sequencer; h.mu is held.
func (h *Hub) sequence(gid int64, st *groupState, seq, sender int64, frame []byte) {
	switch {
	case st.delivered < 0:
		if st.pendingMin == 0 || seq < st.pendingMin {
			st.pendingMin = seq
		}
		st.target = max(st.target, seq)
	case seq <= st.delivered:
		// Already delivered (by a fill, or a duplicate).
	case seq == st.delivered+1:
		st.delivered = seq
		h.pushMessage(gid, st, seq, sender, frame)
	default:
		st.target = max(st.target, seq)
		if !st.queued {
			h.metrics.gapFills.Inc()
		}
		h.queueFill(gid, st)
	}
}

// pushMessage gives message seq (by sender) to every local subscriber that
// has not had it; h.mu is held.
func (h *Hub) pushMessage(gid int64, st *groupState, seq, sender int64, frame []byte) {
	for c, s := range st.conns {
		if s.replaying || seq <= s.sent {
			continue
		}
		s.sent = seq
		st.conns[c] = s
		c.pushMessage(gid, seq, sender, frame)
	}
}

// subscribeLocked adds a connection to a group's subscribers; h.mu is held.
// baseline is the group's last seq read before this call, or -1 when unknown.
func (h *Hub) subscribeLocked(c *conn, gid, baseline int64) {
	st := h.groups[gid]
	if st == nil {
		st = &groupState{conns: make(map[*conn]sub), delivered: baseline}
		if baseline >= 0 {
			// Whatever was committed between the read of the baseline and
			// now, and whose event came before the group had a state, is
			// read at once rather than at the next re-sync.
			st.target = math.MaxInt64
		}
		h.groups[gid] = st
		h.queueFill(gid, st)
	}
	if _, ok := st.conns[c]; ok {
		return
	}
	// Live delivery starts after what the group has delivered so far (or,
	// while that is unknown, once the baseline is read: see fill).
	start := max(st.delivered, 0)
	st.conns[c] = sub{from: start, sent: start}
	c.groups = append(c.groups, gid)
}

// unsubscribeLocked removes a connection from a group; h.mu is held.
func (h *Hub) unsubscribeLocked(c *conn, gid int64) {
	st := h.groups[gid]
	if st == nil {
		return
	}
	if _, ok := st.conns[c]; !ok {
		return
	}
	delete(st.conns, c)
	for i, g := range c.groups {
		if g == gid {
			last := len(c.groups) - 1
			c.groups[i] = c.groups[last]
			c.groups = c.groups[:last]
			break
		}
	}
	if len(st.conns) == 0 {
		delete(h.groups, gid)
		st.released()
	}
}

// register indexes an authenticated connection under its user and groups
// and queues first (the ready frame) before any event can reach it.
// A group new to this instance starts at the last seq read from the
// database BEFORE the connection is indexed: everything committed later
// reaches the connection, nothing committed before is owed to it.
func (h *Hub) register(ctx context.Context, c *conn, groups []int64, cursors map[int64]int64, first []byte) error {
	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		return errStopped
	}
	var missing []int64
	for _, g := range groups {
		if h.groups[g] == nil {
			missing = append(missing, g)
		}
	}
	h.mu.Unlock()
	baseline := make(map[int64]int64, len(missing))
	for _, g := range missing {
		seq, err := h.latestSeq(ctx, g)
		if err != nil {
			return err
		}
		baseline[g] = seq
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		return errStopped
	}
	set := h.users[c.uid]
	if set == nil {
		set = make(map[*conn]struct{}, 1)
		h.users[c.uid] = set
	}
	set[c] = struct{}{}
	h.metrics.connections.Inc()
	c.push(first)
	for _, g := range groups {
		b, ok := baseline[g]
		if !ok {
			b = -1 // the state existed; it may have gone meanwhile
		}
		h.subscribeLocked(c, g, b)
	}
	// Groups to resume wait for their replay from the first event on, so
	// the connection sees them in one unbroken order.
	for g := range cursors {
		if st := h.groups[g]; st != nil {
			if s, ok := st.conns[c]; ok {
				s.replaying = true
				st.conns[c] = s
			}
		}
	}
	if len(set) == 1 {
		h.markDirtyLocked(c.uid)
	}
	return nil
}

var errStopped = errors.New("realtime: hub stopped")

func (h *Hub) unregister(c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for len(c.groups) > 0 {
		h.unsubscribeLocked(c, c.groups[len(c.groups)-1])
	}
	set := h.users[c.uid]
	if _, ok := set[c]; !ok {
		return
	}
	delete(set, c)
	h.metrics.connections.Dec()
	if len(set) == 0 {
		delete(h.users, c.uid)
		h.markDirtyLocked(c.uid)
	}
}

// ---- database fills ----

func (h *Hub) queueFill(gid int64, st *groupState) {
	if st.queued {
		return
	}
	st.queued = true
	h.fillQ = append(h.fillQ, gid)
	select {
	case h.fillKick <- struct{}{}:
	default:
	}
}

// resyncAll makes every group with local connections read the database to
// its end: after a broker reconnect, and periodically, because pub/sub may
// have lost the last message of a group (a later one would reveal the gap).
func (h *Hub) resyncAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for gid, st := range h.groups {
		if st.delivered >= 0 {
			st.target = math.MaxInt64
			h.queueFill(gid, st)
		}
	}
}

func (h *Hub) resyncLoop(ctx context.Context) {
	t := time.NewTicker(h.opt.ResyncInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			h.resyncAll()
		}
	}
}

func (h *Hub) fillLoop(ctx context.Context) {
	for {
		h.mu.Lock()
		var gid int64
		if len(h.fillQ) > 0 {
			gid = h.fillQ[0]
			h.fillQ[0] = 0
			h.fillQ = h.fillQ[1:]
			if len(h.fillQ) == 0 {
				h.fillQ = nil
			}
		}
		h.mu.Unlock()
		if gid == 0 {
			select {
			case <-ctx.Done():
				return
			case <-h.fillKick:
			}
			continue
		}
		// Let the other worker wake for the rest of the queue.
		select {
		case h.fillKick <- struct{}{}:
		default:
		}
		if err := h.fill(ctx, gid); err != nil {
			if ctx.Err() != nil {
				return
			}
			level := slog.LevelWarn
			if errors.Is(err, chat.ErrUnavailable) {
				level = slog.LevelDebug // the store logs the outage once
			}
			h.log.Log(ctx, level, "realtime: reading a group from the database failed; will retry", "group", gid, "err", err)
			if !sleepCtx(ctx, 500*time.Millisecond) {
				return
			}
			h.mu.Lock()
			if st := h.groups[gid]; st != nil && st.queued {
				h.fillQ = append(h.fillQ, gid)
			}
			h.mu.Unlock()
		}
	}
}

// fill reads one group from the database: the baseline when it is not known
// yet, then every message above delivered up to target. On error the group
// stays queued (the caller re-queues it).
func (h *Hub) fill(ctx context.Context, gid int64) error {
	h.mu.Lock()
	st := h.groups[gid]
	if st == nil {
		h.mu.Unlock()
		return nil
	}
	base := st.delivered
	h.mu.Unlock()

	if base < 0 {
		latest, err := h.latestSeq(ctx, gid)
		if err != nil {
			return err
		}
		h.mu.Lock()
		if h.groups[gid] != st {
			h.mu.Unlock()
			return nil
		}
		// Messages whose events arrived while the baseline was being read
		// are delivered, even if the read already saw them.
		b := latest
		if st.pendingMin > 0 && st.pendingMin-1 < b {
			b = st.pendingMin - 1
		}
		st.delivered, st.pendingMin = b, 0
		st.released()
		base = b
		for c, s := range st.conns {
			if s.sent == 0 && !s.replaying { // nothing sent yet: start here
				st.conns[c] = sub{from: b, sent: b}
			}
		}
		if st.target <= b {
			st.target, st.queued = 0, false
			h.mu.Unlock()
			return nil
		}
		h.mu.Unlock()
	}

	for {
		items, more, err := h.page(ctx, gid, base, pageSize)
		if err != nil {
			return err
		}
		h.mu.Lock()
		if h.groups[gid] != st {
			h.mu.Unlock()
			return nil
		}
		for _, m := range items {
			if m.Seq <= st.delivered {
				continue
			}
			st.delivered = m.Seq
			h.pushMessage(gid, st, m.Seq, m.Sender.ID, messageFrame(m))
		}
		base = st.delivered
		if !more && st.target == math.MaxInt64 {
			st.target = st.delivered // "to the end" is reached
		}
		// target is checked under the lock: a gap revealed while the page was
		// being read keeps the fill going.
		if len(items) == 0 || (!more && st.target <= st.delivered) {
			st.target, st.queued = 0, false
			h.mu.Unlock()
			return nil
		}
		h.mu.Unlock()
	}
}

func (h *Hub) latestSeq(ctx context.Context, gid int64) (int64, error) {
	items, _, err := h.opt.Store.Messages(ctx, gid, app.HistoryQuery{Limit: 1})
	if err != nil {
		return 0, fmt.Errorf("realtime: latest seq of group %d: %w", gid, err)
	}
	if len(items) == 0 {
		return 0, nil
	}
	return items[len(items)-1].Seq, nil
}

// page reads up to limit messages above seq after, ascending.
func (h *Hub) page(ctx context.Context, gid, after int64, limit int) ([]chat.Message, bool, error) {
	items, more, err := h.opt.Store.Messages(ctx, gid, app.HistoryQuery{After: &after, Limit: limit})
	if err != nil {
		return nil, false, fmt.Errorf("realtime: messages of group %d after %d: %w", gid, after, err)
	}
	return items, more, nil
}

// ---- presence ----

func (h *Hub) markDirtyLocked(uid int64) {
	h.dirty[uid] = struct{}{}
	select {
	case h.presenceKick <- struct{}{}:
	default:
	}
}

// presenceLoop is the only caller of Presence.Connect/Disconnect, so one
// user's transitions reach the presence store in the order they happened.
func (h *Hub) presenceLoop(ctx context.Context) {
	reported := make(map[int64]bool) // users this instance reported connected
	t := time.NewTicker(h.opt.PresenceInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			// Every connection is closed by now: report their users gone.
			fctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			h.reconcile(fctx, reported)
			cancel()
			return
		case <-h.presenceKick:
			h.reconcile(ctx, reported)
		case <-t.C:
			uids := make([]int64, 0, len(reported))
			for uid := range reported {
				uids = append(uids, uid)
			}
			if err := h.opt.Presence.Heartbeat(ctx, uids); err != nil {
				h.log.Warn("realtime: presence heartbeat", "err", err)
			}
			gone, err := h.opt.Presence.Sweep(ctx)
			if err != nil {
				h.log.Warn("realtime: presence sweep", "err", err)
			}
			var offline []int64
			for _, uid := range gone {
				if reported[uid] {
					// Our own entry ran out (heartbeats failed): restore it.
					delete(reported, uid)
					h.mu.Lock()
					h.markDirtyLocked(uid)
					h.mu.Unlock()
					continue
				}
				offline = append(offline, uid)
			}
			h.announce(ctx, offline, false)
		}
	}
}

func (h *Hub) reconcile(ctx context.Context, reported map[int64]bool) {
	h.mu.Lock()
	type change struct {
		uid  int64
		want bool
	}
	var changes []change
	for uid := range h.dirty {
		changes = append(changes, change{uid, len(h.users[uid]) > 0})
	}
	clear(h.dirty)
	h.mu.Unlock()
	var online, offline []int64
	for _, ch := range changes {
		if ch.want == reported[ch.uid] {
			continue
		}
		if ch.want {
			reported[ch.uid] = true
			first, err := h.opt.Presence.Connect(ctx, ch.uid)
			if err != nil {
				h.log.Warn("realtime: presence connect", "user", ch.uid, "err", err)
				continue
			}
			if first {
				online = append(online, ch.uid)
			}
			continue
		}
		delete(reported, ch.uid)
		last, err := h.opt.Presence.Disconnect(ctx, ch.uid)
		if err != nil {
			h.log.Warn("realtime: presence disconnect", "user", ch.uid, "err", err)
			continue
		}
		if last {
			offline = append(offline, ch.uid)
		}
	}
	h.announce(ctx, online, true)
	h.announce(ctx, offline, false)
}

// announceChunk bounds the users whose groups one query reads.
const announceChunk = 500

// announce tells the users who share a group with each of uids that the
// user came online or went offline: one presence event per user, addressed
// to the user's groups (the instances deliver it to those groups'
// connections, each once). The groups of many users are read in one query,
// so that the thousands of users of a restarted instance are announced in
// a few queries rather than one each.
func (h *Hub) announce(ctx context.Context, uids []int64, online bool) {
	for len(uids) > 0 {
		chunk := uids[:min(len(uids), announceChunk)]
		uids = uids[len(chunk):]
		groups, err := h.opt.Store.GroupIDsOfUsers(ctx, chunk)
		if err != nil {
			if ctx.Err() == nil { // not a shutdown: that announces again
				h.log.Warn("realtime: presence groups", "users", len(chunk), "err", err)
			}
			continue
		}
		for _, uid := range chunk {
			if gids := groups[uid]; len(gids) > 0 {
				h.Notify(ctx, chat.Event{Type: chat.EventPresence, UserID: uid, Online: &online, ToGroups: gids})
			}
		}
	}
}

func (h *Hub) newConnID() string {
	return h.instance + "-" + strconv.FormatUint(h.connSeq.Add(1), 36)
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

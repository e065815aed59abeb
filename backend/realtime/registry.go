package realtime

import (
	"context"
	"errors"
	"math"
	"slices"
	"time"

	"github.com/chatapp/chat/chat"
)

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

// route applies one event's audience (chat.Event.Audience, or the share of
// it one broker topic carries) to this instance's connections: message
// events go through the group's sequencer, everything else to the
// connections the audience names, with the subscription changes it
// carries. Connections of the groups in skip get nothing (see share).
func (h *Hub) route(env envelope, skip []int64) {
	frame, a := env.Event, env.Audience
	if len(a.Sessions) > 0 && h.opt.Sessions != nil {
		// Recorded before the connections are looked at: one registering
		// meanwhile finds its session ended (register).
		ends := make([]chat.SessionEnd, len(a.Sessions))
		for i, s := range a.Sessions {
			ends[i] = chat.SessionEnd{Session: s, UserID: a.Close}
		}
		h.opt.Sessions.Add(h.opt.Clock(), ends...)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if a.Close != 0 {
		// Never a frame: the sessions ended; the clients log in again.
		for c := range h.users[a.Close] {
			if len(a.Sessions) == 0 || slices.Contains(a.Sessions, c.session) {
				c.closeWith(CloseUnauthorized, "session ended")
			}
		}
		return
	}
	h.noteJoiningLocked(env.Group, a)
	for c := range h.users[a.Join] {
		h.subscribeLocked(c, env.Group, -1)
	}
	switch {
	case env.Type == chat.EventMessage:
		if st := h.groups[env.Group]; st != nil {
			h.sequence(env.Group, st, env.Seq, env.Sender, frame)
		}
	case a.Group:
		h.fanout(h.groups[env.Group], frame, a.ExceptConn, a.ExceptUser)
	case len(a.Users) > 0:
		h.toUsers(a, frame)
	case len(a.Groups) > 0:
		h.toGroups(a, frame, skip)
	}
	for c := range h.users[a.Leave] {
		h.unsubscribeLocked(c, env.Group)
	}
	if st := h.groups[env.Group]; a.Dissolve && st != nil {
		for c := range st.conns {
			h.unsubscribeLocked(c, env.Group)
		}
	}
}

func (h *Hub) toUsers(a chat.Audience, frame []byte) {
	for _, uid := range a.Users {
		if uid == a.ExceptUser {
			continue
		}
		for c := range h.users[uid] {
			if c.id != a.ExceptConn {
				c.push(frame)
			}
		}
	}
}

// toGroups delivers to the connections of the listed groups, each once,
// but those of the groups in skip.
func (h *Hub) toGroups(a chat.Audience, frame []byte, skip []int64) {
	var sent map[*conn]struct{} // only needed when groups can overlap
	if len(a.Groups) > 1 {
		sent = make(map[*conn]struct{})
	}
	for _, gid := range a.Groups {
		st := h.groups[gid]
		if st == nil {
			continue
		}
		for c := range st.conns {
			if c.uid == a.ExceptUser || c.id == a.ExceptConn || h.inAnyLocked(c, skip) {
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

// inAnyLocked tells whether c is subscribed to any of groups; h.mu is held.
func (h *Hub) inAnyLocked(c *conn, groups []int64) bool {
	for _, g := range groups {
		if st := h.groups[g]; st != nil {
			if _, ok := st.conns[c]; ok {
				return true
			}
		}
	}
	return false
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

// beginJoining records from now on the membership changes of c's user
// (joined, left, dissolved groups) until register applies them to the
// groups it is given: call it before the last read of those groups, once
// the connection's topics are live, so that a change committed after that
// read is either applied here or routed to the registered connection.
func (h *Hub) beginJoining(c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.joining[c] = nil
}

// endJoining forgets c's handshake (register does it too).
func (h *Hub) endJoining(c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.joining, c)
}

// noteJoiningLocked records an event's membership changes of group for the
// connections between their groups' read and registration; h.mu is held.
func (h *Hub) noteJoiningLocked(group int64, a chat.Audience) {
	if len(h.joining) == 0 || (a.Join == 0 && a.Leave == 0 && !a.Dissolve) {
		return
	}
	for c, changes := range h.joining {
		var joined bool
		switch {
		case a.Dissolve && (slices.Contains(a.Users, c.uid) || a.Leave == c.uid):
		case a.Leave == c.uid:
		case a.Join == c.uid:
			joined = true
		default:
			continue
		}
		if changes == nil {
			changes = make(map[int64]bool, 1)
			h.joining[c] = changes
		}
		changes[group] = joined
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
	groups = applyChanges(groups, h.joining[c])
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
	// Changes routed while the baselines were read count too.
	groups = applyChanges(groups, h.joining[c])
	delete(h.joining, c)
	set := h.users[c.uid]
	if set == nil {
		set = make(map[*conn]struct{}, 1)
		h.users[c.uid] = set
		h.topics.Join(userTopic(c.uid))
	}
	set[c] = struct{}{}
	h.metrics.connections.Inc()
	h.capUserLocked(set)
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
		h.holdForReplayLocked(c, g)
	}
	if len(set) == 1 {
		h.markDirtyLocked(c.uid)
	}
	// Checked once the connection is indexed: a session that ends from
	// now on finds it (route), one that ended before is found here.
	if h.opt.Sessions != nil && h.opt.Sessions.Ended(c.session) {
		c.closeWith(CloseUnauthorized, "session ended")
	}
	return nil
}

// applyChanges is groups with the joined ones added and the left ones
// removed.
func applyChanges(groups []int64, changes map[int64]bool) []int64 {
	if len(changes) == 0 {
		return groups
	}
	out := make([]int64, 0, len(groups)+len(changes))
	for _, g := range groups {
		if joined, ok := changes[g]; !ok || joined {
			out = append(out, g)
		}
	}
	for g, joined := range changes {
		if joined && !slices.Contains(groups, g) {
			out = append(out, g)
		}
	}
	return out
}

// topicWait bounds how long a new connection waits for the broker to have
// its topics in place.
const topicWait = 2 * time.Second

// awaitTopics joins the broker topics of a connection about to register
// (its user's and its groups') and waits until the subscription has them in
// place, so that the connection hears every event published after its
// ready frame. The wait is bounded by topicWait: a broker that is away
// reports the topics when it is back, and their groups are re-read then.
// The returned func leaves the topics again, once register holds them.
func (h *Hub) awaitTopics(ctx context.Context, uid int64, groups []int64) (release func()) {
	topics := make([]string, 0, len(groups)+1)
	topics = append(topics, userTopic(uid))
	for _, g := range groups {
		topics = append(topics, groupTopic(g))
	}
	h.topics.Join(topics...)
	release = func() { h.topics.Leave(topics...) }
	if h.pub.brokerFailing() {
		return release // the broker is away: no point in making the client wait
	}
	wctx, cancel := context.WithTimeout(ctx, topicWait)
	defer cancel()
	if err := h.topics.Await(wctx, topics...); err != nil && ctx.Err() == nil {
		h.log.Warn("realtime: the broker has not subscribed a new connection's topics yet; going on", "err", err, "user", uid)
	}
	return release
}

// capUserLocked closes the oldest open connection of a user who has more
// than MaxPerUser (the newest is the one the user is looking at); h.mu is
// held.
func (h *Hub) capUserLocked(set map[*conn]struct{}) {
	limit := h.opt.MaxPerUser
	if limit < 0 || len(set) <= limit {
		return
	}
	open := 0
	var oldest *conn
	for c := range set {
		if c.isClosing() {
			continue // already going; not counted
		}
		open++
		if oldest == nil || c.seq < oldest.seq {
			oldest = c
		}
	}
	if open > limit {
		oldest.closeWith(CloseRateLimited, "too many connections")
	}
}

// regroup subscribes the connection to exactly groups, read after
// beginJoining, with the changes routed since applied.
func (h *Hub) regroup(c *conn, groups []int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	changes, ok := h.joining[c]
	if !ok {
		return // closed meanwhile, or registered after the read
	}
	delete(h.joining, c)
	groups = applyChanges(groups, changes)
	for _, g := range slices.Clone(c.groups) {
		if !slices.Contains(groups, g) {
			h.unsubscribeLocked(c, g)
		}
	}
	for _, g := range groups {
		if !slices.Contains(c.groups, g) {
			h.subscribeLocked(c, g, -1)
		}
	}
}

// regroupLoop reads the groups of the users whose topic became active, in
// batches, and subscribes their connections to exactly those: a join or a
// removal published before the topic was active was not heard here.
func (h *Hub) regroupLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.regroupKick:
		}
		h.mu.Lock()
		users := make([]int64, 0, len(h.regroupQ))
		for u := range h.regroupQ {
			users = append(users, u)
		}
		clear(h.regroupQ)
		// What is routed to their connections while the groups are read
		// is applied over what was read (regroup).
		for _, u := range users {
			for c := range h.users[u] {
				if _, ok := h.joining[c]; !ok {
					h.joining[c] = nil
				}
			}
		}
		h.mu.Unlock()
		groups, err := h.opt.Store.GroupIDsOfUsers(ctx, users)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			h.log.Warn("realtime: reading the groups of newly subscribed users failed; will retry", "err", err)
			h.mu.Lock()
			for _, u := range users {
				h.regroupQ[u] = struct{}{}
			}
			h.mu.Unlock()
			if !sleepCtx(ctx, 500*time.Millisecond) {
				return
			}
			kick(h.regroupKick)
			continue
		}
		for _, u := range users {
			h.mu.Lock()
			open := make([]*conn, 0, len(h.users[u]))
			for c := range h.users[u] {
				open = append(open, c)
			}
			h.mu.Unlock()
			for _, c := range open {
				h.regroup(c, groups[u])
			}
		}
	}
}

// adoptSession makes session the connection's (an in-band auth with a
// token of another login of the same user); false when it has ended.
func (h *Hub) adoptSession(c *conn, session string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	c.session = session
	return h.opt.Sessions == nil || !h.opt.Sessions.Ended(session)
}

// sessionsLoop closes the connections of sessions recorded as ended that
// no broker event closed (the broker lost it, or the connection registered
// after it came).
func (h *Hub) sessionsLoop(ctx context.Context) {
	if h.opt.Sessions == nil {
		return
	}
	_, mark := h.opt.Sessions.Since(math.MaxUint64)
	t := time.NewTicker(h.opt.SessionCheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var ends []chat.SessionEnd
		ends, mark = h.opt.Sessions.Since(mark)
		if len(ends) == 0 {
			continue
		}
		h.mu.Lock()
		for _, e := range ends {
			for c := range h.users[e.UserID] {
				if c.session == e.Session {
					c.closeWith(CloseUnauthorized, "session ended")
				}
			}
		}
		h.mu.Unlock()
	}
}

// beginPending counts a connection of a client address that is not
// authenticated yet; false when the address has MaxPendingPerAddr.
func (h *Hub) beginPending(addr string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if limit := h.opt.MaxPendingPerAddr; limit >= 0 && h.pending[addr] >= limit {
		return false
	}
	h.pending[addr]++
	return true
}

func (h *Hub) endPending(addr string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.pending[addr]--; h.pending[addr] <= 0 {
		delete(h.pending, addr)
	}
}

var errStopped = errors.New("realtime: hub stopped")

func (h *Hub) unregister(c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.joining, c)
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
		h.topics.Leave(userTopic(c.uid))
		h.markDirtyLocked(c.uid)
	}
}

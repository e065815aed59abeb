package realtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"time"

	"github.com/chatapp/chat/chat"
)

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
	// again: a re-sync was asked while the group was queued or being
	// filled; the fill reads one more page, begun after the request.
	again bool
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
		h.topics.Join(groupTopic(gid))
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
		h.dropPages(gid)
		h.topics.Leave(groupTopic(gid))
		st.released()
	}
}

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
// its end, periodically, because pub/sub may have lost the last message of
// a group (a later one would reveal the gap).
func (h *Hub) resyncAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.dropPages(0)
	for gid := range h.groups {
		h.resyncLocked(gid)
	}
}

// resyncLocked makes a group read the database to its end (its topic
// became active: what was published before was not heard); h.mu is held.
// A fill under way may have read its page before the request: it reads
// one more.
func (h *Hub) resyncLocked(gid int64) {
	st := h.groups[gid]
	if st == nil {
		return
	}
	st.target = math.MaxInt64
	if st.queued {
		st.again = true
		return
	}
	h.queueFill(gid, st)
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
		if st.target <= b && !st.again {
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
		// being read keeps the fill going, and so does a re-sync asked.
		done := len(items) == 0 || (!more && st.target <= st.delivered)
		if done && st.again {
			st.again, st.target, done = false, math.MaxInt64, false
		}
		if done {
			st.target, st.queued = 0, false
			h.mu.Unlock()
			return nil
		}
		h.mu.Unlock()
	}
}

func (h *Hub) latestSeq(ctx context.Context, gid int64) (int64, error) {
	items, _, err := h.opt.Store.Messages(ctx, gid, chat.HistoryQuery{Limit: 1})
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
	items, more, err := h.opt.Store.Messages(ctx, gid, chat.HistoryQuery{After: &after, Limit: limit})
	if err != nil {
		return nil, false, fmt.Errorf("realtime: messages of group %d after %d: %w", gid, after, err)
	}
	return items, more, nil
}

// holdForReplayLocked makes live messages of gid skip c until its replay
// (requested with the connection) has sent what came before; h.mu is held.
func (h *Hub) holdForReplayLocked(c *conn, gid int64) {
	if st := h.groups[gid]; st != nil {
		if s, ok := st.conns[c]; ok {
			s.replaying = true
			st.conns[c] = s
		}
	}
}

// replay sends the messages of one group above cursor that this connection
// has not been sent yet, in order, then hands the group back to live
// delivery with no gap and no repeat. While it runs, live messages of the
// group skip this connection (the sequencer still counts them as delivered),
// so it may only end once it has sent everything up to what the hub has
// delivered: checked under the hub's lock, after a page that reached the
// end of the group, and never while the hub does not know yet what it has
// delivered (the group's baseline is being read).
func (h *Hub) replay(c *conn, gid, cursor int64) error {
	h.mu.Lock()
	st := h.groups[gid]
	var s sub
	ok := false
	if st != nil {
		s, ok = st.conns[c]
	}
	if !ok {
		h.mu.Unlock()
		return notMemberError(gid)
	}
	switch {
	case s.sent <= s.from:
		// Nothing sent yet: the client has everything up to its cursor.
		s.from, s.sent = cursor, cursor
	case cursor > s.sent:
		// The client has more than this connection sent (seen elsewhere).
		s.sent = cursor
	}
	after := cursor
	if cursor >= s.from {
		after = max(cursor, s.sent) // (cursor, sent] was sent already
	}
	s.replaying = true
	st.conns[c] = s
	h.mu.Unlock()

	for {
		items, more, err := h.page(c.ctx, gid, after, max(1, min(pageSize, h.opt.QueueSize/2)))
		if err == nil {
			err = c.waitRoom(c.ctx, len(items))
		}
		if err != nil {
			// The live messages skipped so far were never sent: the
			// connection cannot go on without a gap. Its client resumes
			// on a new one.
			return err
		}
		h.mu.Lock()
		st := h.groups[gid]
		var s sub
		ok := false
		if st != nil {
			s, ok = st.conns[c]
		}
		if !ok || !s.replaying {
			// Removed from the group meanwhile (and perhaps added again,
			// starting afresh): nothing more of this replay.
			h.mu.Unlock()
			if !ok {
				return notMemberError(gid)
			}
			return nil
		}
		for _, m := range items {
			after = max(after, m.Seq)
			if m.Seq > s.from && m.Seq <= s.sent {
				continue // sent on this connection already
			}
			s.sent = max(s.sent, m.Seq)
			c.pushMessage(gid, m.Seq, m.Sender.ID, messageFrame(m))
		}
		if !more && st.delivered >= 0 && st.delivered <= s.sent {
			s.from = min(s.from, cursor)
			s.replaying = false
			st.conns[c] = s
			h.mu.Unlock()
			return nil
		}
		st.conns[c] = s
		if st.delivered < 0 {
			// The hub is reading where the group stands; its live
			// delivery starts from there, so the replay must reach it.
			based := st.baseline()
			h.mu.Unlock()
			select {
			case <-based:
			case <-c.ctx.Done():
				return c.ctx.Err()
			}
			continue
		}
		// More pages, or live messages were delivered during the read.
		h.mu.Unlock()
	}
}

func notMemberError(gid int64) error {
	e := *chat.ErrNotMember
	e.Details = map[string]string{"group_id": strconv.FormatInt(gid, 10)}
	return &e
}

package realtime

import (
	"context"
	"time"

	"github.com/chatapp/chat/chat"
)

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
				h.Notify(ctx, chat.Event{Type: chat.EventPresence, UserID: uid, Online: &online, Groups: gids})
			}
		}
	}
}

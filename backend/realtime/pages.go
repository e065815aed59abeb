package realtime

import (
	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/chat"
)

// Pages is the use cases' cache of latest pages (app.PageCache). It may
// keep a group's page only while the hub hears every event of the group
// (Live); the hub tells it what it hears from the other instances (their
// events, which may change a page) and when it may have missed something
// (a group no longer held, a topic or the whole subscription established
// again, a periodic re-sync). This instance's own events are dropped by the
// use cases before they answer.
type Pages interface {
	Changed(groupID int64, t chat.EventType)
	Drop(groupID int64)
	DropAll()
}

var _ app.LiveGroups = (*Hub)(nil)

// Live tells whether this instance hears every event of a group now: it
// holds the group (a local member's connection) and the group's topic is
// in place on the broker.
func (h *Hub) Live(gid int64) bool {
	h.mu.Lock()
	held := h.groups[gid] != nil
	h.mu.Unlock()
	return held && h.topics.Active(groupTopic(gid))
}

// heardPages passes an event of another instance to the pages, before any
// connection gets it: a client that saw the event and reads the page
// again sees the change.
func (h *Hub) heardPages(env envelope) {
	if h.opt.Pages != nil && env.Group != 0 {
		h.opt.Pages.Changed(env.Group, env.Type)
	}
}

// connectedPages drops what the topics now in place may have missed while
// they were not (every page when the subscription itself is new).
func (h *Hub) connectedPages(topics []string) {
	if h.opt.Pages == nil {
		return
	}
	if len(topics) == 0 {
		h.opt.Pages.DropAll()
		return
	}
	for _, t := range topics {
		if kind, id, ok := parseTopic(t); ok && kind == 'g' {
			h.opt.Pages.Drop(id)
		}
	}
}

// dropPages drops a group's page (the hub stops holding it), or every page
// (gid 0: a re-sync, because pub/sub may have lost an event).
func (h *Hub) dropPages(gid int64) {
	switch {
	case h.opt.Pages == nil:
	case gid == 0:
		h.opt.Pages.DropAll()
	default:
		h.opt.Pages.Drop(gid)
	}
}

package app

import (
	"container/list"
	"context"
	"fmt"
	"sync"

	"github.com/chatapp/chat/chat"
)

// The latest page of a group is the history read of every client that
// opens it. PageCache keeps it in memory for the groups whose events this
// instance hears, exactly: a page served from it is what the database
// would answer, because
//
//   - only a group whose events the instance hears now is cached and
//     served (LiveGroups, asked after the fill's version is taken, so a
//     group that stops being heard during the fill is dropped and the
//     fill is not kept; and on every hit, since a lost broker connection
//     is reported when it is lost but the pages are dropped when it is
//     back);
//   - every event of a group that may change its page drops the group:
//     this instance's own in Service.notify, before the use case answers,
//     and the other instances' when the hub hears them, before it hands
//     them to its connections; the hub also drops a group it stops
//     hearing, and everything after a broker reconnect or at a re-sync
//     (what pub/sub may have lost);
//   - a fill is kept only if nothing dropped its group since it began
//     (reserve gives a version, keep checks it), so a fill that raced an
//     event is never kept stale;
//   - what changes without an event, the senders' display names, and the
//     caller's membership are read from the database on every request,
//     in one statement (Store.MemberNames);
//   - what depends on the viewer (Presenter) is applied to a copy.

// LiveGroups tells whether this instance hears every event of a group now
// (package realtime: the hub holds the group, with its broker topic in
// place).
type LiveGroups interface {
	Live(groupID int64) bool
}

// PageCacheMessages is how many of a group's latest messages are kept: the
// default page; a larger page, or an older one, is read from the database.
const PageCacheMessages = chat.HistoryPageDefault

// DefaultPageCacheGroups bounds the groups whose page is kept (least
// recently used out): about 50 messages of up to a few KB each per group.
const DefaultPageCacheGroups = 512

// PageCache keeps the latest page of up to a fixed number of groups. It is
// safe for concurrent use; the pages it holds are never changed.
type PageCache struct {
	mu      sync.Mutex
	groups  int
	version uint64 // the last version given to an entry
	entries map[int64]*list.Element
	lru     list.List // of *pageEntry, most recently used first
	// afterRead, when set (tests), runs between a fill's database read and
	// its keep.
	afterRead func(groupID int64)
}

type pageEntry struct {
	group   int64
	version uint64 // unique across the cache's life: a fill keeps only with its own
	filled  bool
	page    cachedPage
}

// cachedPage is a group's latest messages as the store reads them, oldest
// first, and the users whose display names they show.
type cachedPage struct {
	items []chat.Message
	more  bool
	users []int64
}

// NewPageCache returns a cache of the latest page of up to groups groups
// (0: DefaultPageCacheGroups).
func NewPageCache(groups int) *PageCache {
	if groups <= 0 {
		groups = DefaultPageCacheGroups
	}
	return &PageCache{groups: groups, entries: make(map[int64]*list.Element)}
}

// Changed drops a group's page on an event of type t of the group, unless
// t is one that never changes a page.
func (c *PageCache) Changed(groupID int64, t chat.EventType) {
	switch t {
	case chat.EventTyping, chat.EventRead, chat.EventPresence:
		// Nothing of these is in a page; they come by the thousand.
		return
	}
	c.Drop(groupID)
}

// Drop forgets a group's page, and any fill of it under way.
func (c *PageCache) Drop(groupID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el := c.entries[groupID]; el != nil {
		c.lru.Remove(el)
		delete(c.entries, groupID)
	}
}

// DropAll forgets every page, and every fill under way.
func (c *PageCache) DropAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.entries)
	c.lru.Init()
}

// Holds tells whether a group's page is kept now.
func (c *PageCache) Holds(groupID int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	el := c.entries[groupID]
	return el != nil && el.Value.(*pageEntry).filled
}

// Len is how many groups have an entry (filled or being filled).
func (c *PageCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

func (c *PageCache) latest(groupID int64) (cachedPage, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el := c.entries[groupID]
	if el == nil {
		return cachedPage{}, false
	}
	e := el.Value.(*pageEntry)
	if !e.filled {
		return cachedPage{}, false
	}
	c.lru.MoveToFront(el)
	return e.page, true
}

// reserve begins a fill of a group's page: keep stores it only if nothing
// dropped the group meanwhile.
func (c *PageCache) reserve(groupID int64) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el := c.entries[groupID]; el != nil {
		c.lru.MoveToFront(el)
		return el.Value.(*pageEntry).version
	}
	c.version++
	c.entries[groupID] = c.lru.PushFront(&pageEntry{group: groupID, version: c.version})
	if c.lru.Len() > c.groups {
		last := c.lru.Back()
		c.lru.Remove(last)
		delete(c.entries, last.Value.(*pageEntry).group)
	}
	return c.version
}

// unreserve forgets a fill that will not be kept, unless its group was
// filled meanwhile.
func (c *PageCache) unreserve(groupID int64, version uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el := c.entries[groupID]; el != nil {
		if e := el.Value.(*pageEntry); e.version == version && !e.filled {
			c.lru.Remove(el)
			delete(c.entries, groupID)
		}
	}
}

// keep stores a fill begun by reserve with version, if the group was not
// dropped since; items are no longer changed by anyone.
func (c *PageCache) keep(groupID int64, version uint64, items []chat.Message, more bool) {
	p := cachedPage{items: items, more: more, users: shownUsers(items)}
	c.mu.Lock()
	defer c.mu.Unlock()
	el := c.entries[groupID]
	if el == nil {
		return
	}
	if e := el.Value.(*pageEntry); e.version == version {
		e.filled, e.page = true, p
	}
}

// shownUsers lists the users whose display names items show (senders and
// the senders of reply previews), each once.
func shownUsers(items []chat.Message) []int64 {
	var out []int64
	add := func(id int64) {
		for _, u := range out {
			if u == id {
				return
			}
		}
		out = append(out, id)
	}
	for _, m := range items {
		add(m.Sender.ID)
		if m.ReplyTo != nil {
			add(m.ReplyTo.Sender.ID)
		}
	}
	return out
}

// tail returns a copy of the last limit messages of p, with the display
// names of names where it has them, and whether older messages exist.
// Nothing p shares with other readers is written.
func (p cachedPage) tail(limit int, names map[int64]string) ([]chat.Message, bool) {
	n := min(limit, len(p.items))
	out := make([]chat.Message, n)
	copy(out, p.items[len(p.items)-n:])
	for i := range out {
		m := &out[i]
		if name, ok := names[m.Sender.ID]; ok {
			m.Sender.DisplayName = name
		}
		if m.ReplyTo != nil {
			r := *m.ReplyTo
			if name, ok := names[r.Sender.ID]; ok {
				r.Sender.DisplayName = name
			}
			m.ReplyTo = &r
		}
	}
	return out, p.more || len(p.items) > n
}

// latestPage answers a read of the latest limit messages of a group from
// the cache, filling it on a miss when the group is live; served is false
// when the read is not one the cache answers.
func (s *Service) latestPage(ctx context.Context, uid, gid int64, limit int) (items []chat.Message, more, served bool, err error) {
	if s.Pages == nil || s.Live == nil || limit > PageCacheMessages {
		return nil, false, false, nil
	}
	// Asked on a hit too: while the broker connection is lost nothing is
	// heard, and the pages kept are dropped only once it is back.
	if p, ok := s.Pages.latest(gid); ok && s.Live.Live(gid) {
		var names map[int64]string
		err := s.asMember(ctx, uid, gid, func() (err error) {
			names, err = s.Store.MemberNames(ctx, gid, uid, p.users)
			return err
		})
		if err != nil {
			return nil, false, true, fmt.Errorf("history: %w", err)
		}
		items, more = p.tail(limit, names)
		return items, more, true, nil
	}
	if !s.Live.Live(gid) {
		return nil, false, false, nil // and no place taken from a kept page
	}
	version := s.Pages.reserve(gid)
	// Asked again after reserve: a group that stops being live from here
	// on is dropped by the hub, which makes keep a no-op.
	if !s.Live.Live(gid) {
		s.Pages.unreserve(gid, version)
		return nil, false, false, nil
	}
	var page []chat.Message
	var pageMore bool
	err = s.asMember(ctx, uid, gid, func() (err error) {
		page, pageMore, err = s.Store.Messages(ctx, gid, chat.HistoryQuery{Limit: PageCacheMessages, Member: uid})
		return err
	})
	if err != nil {
		s.Pages.unreserve(gid, version)
		return nil, false, true, fmt.Errorf("history: %w", err)
	}
	if s.Pages.afterRead != nil {
		s.Pages.afterRead(gid)
	}
	s.Pages.keep(gid, version, page, pageMore)
	items, more = cachedPage{items: page, more: pageMore}.tail(limit, nil)
	return items, more, true, nil
}

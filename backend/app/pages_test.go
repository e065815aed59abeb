package app_test

import (
	"context"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/blob"
	"github.com/chatapp/chat/chat"
)

// countingStore counts the page reads that reach the database.
type countingStore struct {
	app.Store
	reads atomic.Int64
}

func (c *countingStore) Messages(ctx context.Context, gid int64, q chat.HistoryQuery) ([]chat.Message, bool, error) {
	c.reads.Add(1)
	return c.Store.Messages(ctx, gid, q)
}

// liveSet is a fake app.LiveGroups.
type liveSet struct {
	mu sync.Mutex
	m  map[int64]bool
}

func (l *liveSet) Live(gid int64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.m[gid]
}

func (l *liveSet) set(gid int64, live bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.m[gid] = live
}

// pagesFx is one instance with the page cache (cached) and another on the
// same database without it (remote), whose events the test hands to the
// cache as the hub would when it hears them; f.svc reads the truth.
type pagesFx struct {
	*fx
	cached, remote *app.Service
	cache          *app.PageCache
	store          *countingStore
	live           *liveSet
	heard          *recorder // the remote instance's events
}

func newPagesFx(t *testing.T, f *fx) *pagesFx {
	t.Helper()
	blobs, err := blob.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = blobs.Close() })
	p := &pagesFx{fx: f, cache: app.NewPageCache(4), store: &countingStore{Store: f.svc.Store}, live: &liveSet{m: map[int64]bool{}}, heard: &recorder{}}
	d := f.svc.Deps
	d.Store, d.Pages, d.Live, d.Blobs, d.Notifier = p.store, p.cache, p.live, blobs, &recorder{}
	p.cached = app.New(d, app.Config{})
	r := f.svc.Deps
	r.Blobs, r.Notifier = blobs, p.heard
	p.remote = app.New(r, app.Config{})
	return p
}

// hear hands the remote instance's events to the cache, as the hub does.
func (p *pagesFx) hear() {
	for _, ev := range p.heard.take() {
		p.cache.Changed(ev.GroupID, ev.Type)
	}
}

// page reads the latest page through the cache and reports whether the
// database's page read was skipped.
func (p *pagesFx) page(t *testing.T, uid, gid int64, limit int) (items []chat.Message, more bool, hit bool) {
	t.Helper()
	before := p.store.reads.Load()
	items, more, err := p.cached.History(ctx, uid, gid, chat.HistoryQuery{Limit: limit})
	if err != nil {
		t.Fatalf("cached history of %d as %d: %v", gid, uid, err)
	}
	return items, more, p.store.reads.Load() == before
}

// same fails unless the cached page (read twice: a fill or a hit, then a
// hit) equals the database's, for each viewer and limit.
func (p *pagesFx) same(t *testing.T, gid int64, viewers ...int64) {
	t.Helper()
	for _, uid := range viewers {
		for _, limit := range []int{0, 2, app.PageCacheMessages} {
			want, wantMore, err := p.svc.History(ctx, uid, gid, chat.HistoryQuery{Limit: limit})
			if err != nil {
				t.Fatal(err)
			}
			for round := range 2 {
				got, more, hit := p.page(t, uid, gid, limit)
				if round == 1 && !hit {
					t.Errorf("viewer %d, limit %d: the second read went to the database", uid, limit)
				}
				if more != wantMore || !reflect.DeepEqual(got, want) {
					t.Fatalf("viewer %d, limit %d, read %d (hit %v):\n got %+v (more %v)\nwant %+v (more %v)", uid, limit, round, hit, got, more, want, wantMore)
				}
			}
		}
	}
}

func TestCachedPageEqualsTheDatabaseAfterEveryChange(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, f *fx) {
		p := newPagesFx(t, f)
		w := f.world(t)
		p.live.set(w.pub, true)
		p.same(t, w.pub, w.owner, w.member)
		var last int64 // the last message sent by a step
		on := func(remote bool) *app.Service {
			if remote {
				return p.remote
			}
			return p.cached
		}
		steps := []struct {
			name   string
			remote bool // made on the other instance: the cache hears its events
			do     func(s *app.Service) error
		}{
			{"send", false, func(s *app.Service) error {
				m, _, err := s.Send(ctx, w.member, w.pub, app.Outgoing{Body: "@" + "own1 hi"})
				last = m.ID
				return err
			}},
			{"send remote", true, func(s *app.Service) error {
				m, _, err := s.Send(ctx, w.admin, w.pub, app.Outgoing{Body: "yo"})
				last = m.ID
				return err
			}},
			{"reply", true, func(s *app.Service) error {
				_, _, err := s.Send(ctx, w.owner, w.pub, app.Outgoing{Body: "re", ReplyTo: &last})
				return err
			}},
			{"edit the replied-to message", true, func(s *app.Service) error {
				_, err := s.EditMessage(ctx, w.admin, last, "yo (edited)")
				return err
			}},
			{"edit", false, func(s *app.Service) error {
				_, err := s.EditMessage(ctx, w.member, w.memberMsg, "hello (edited)")
				return err
			}},
			{"attachment", false, func(s *app.Service) error {
				a, err := s.Upload(ctx, w.member, w.pub, "notes.txt", strings.NewReader("some notes"))
				if err != nil {
					return err
				}
				m, _, err := s.Send(ctx, w.member, w.pub, app.Outgoing{Attachments: []int64{a.ID}})
				last = m.ID
				return err
			}},
			{"react", true, func(s *app.Service) error { return s.React(ctx, w.owner, last, "👍", true) }},
			{"react too", false, func(s *app.Service) error { return s.React(ctx, w.member, last, "👍", true) }},
			{"unreact", true, func(s *app.Service) error { return s.React(ctx, w.owner, last, "👍", false) }},
			{"display name (no event)", true, func(s *app.Service) error {
				_, err := s.UpdateMe(ctx, w.admin, app.ProfileChange{DisplayName: ptr("Admin Renamed")})
				return err
			}},
			{"delete", true, func(s *app.Service) error { return s.DeleteMessage(ctx, w.member, last) }},
			{"delete local", false, func(s *app.Service) error { return s.DeleteMessage(ctx, w.admin, w.adminMsg) }},
			{"rename group", true, func(s *app.Service) error {
				_, err := s.UpdateGroup(ctx, w.owner, w.pub, chat.GroupPatch{Name: ptr("Renamed")})
				return err
			}},
		}
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				if err := st.do(on(st.remote)); err != nil {
					t.Fatal(err)
				}
				p.hear()
				p.same(t, w.pub, w.owner, w.member)
			})
		}
	})
}

func TestAFillRacingAnEventIsNotKept(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, f *fx) {
		p := newPagesFx(t, f)
		w := f.world(t)
		p.live.set(w.pub, true)
		var fills atomic.Int32
		app.SetAfterFillRead(p.cache, func(int64) {
			if fills.Add(1) != 1 {
				return
			}
			// Committed and heard after the first fill read its page; then
			// another read fills the group again, and keeps its page,
			// before the first fill comes to keep its own.
			if _, err := p.remote.EditMessage(ctx, w.member, w.memberMsg, "changed during the fill"); err != nil {
				t.Error(err)
			}
			p.hear()
			if second, _, hit := p.page(t, w.member, w.pub, 0); hit || second[0].Body != "changed during the fill" {
				t.Errorf("the second fill: hit %v, %+v", hit, second[0])
			}
		})
		first, _, hit := p.page(t, w.owner, w.pub, 0)
		if hit || first[0].Body != "hello" {
			t.Fatalf("the first fill: hit %v, %+v", hit, first[0])
		}
		again, _, hit := p.page(t, w.owner, w.pub, 0)
		if !hit || again[0].Body != "changed during the fill" {
			t.Fatalf("the read after the fills: hit %v, %+v (the stale fill was kept)", hit, again[0])
		}
		p.same(t, w.pub, w.owner)
	})
}

func TestAGroupNotLiveIsNeverServedFromMemory(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, f *fx) {
		p := newPagesFx(t, f)
		w := f.world(t)
		for i := range 3 {
			if _, _, hit := p.page(t, w.owner, w.pub, 0); hit {
				t.Fatalf("read %d of a group not live came from memory", i)
			}
		}
		if n := p.cache.Len(); n != 0 {
			t.Fatalf("%d groups kept", n)
		}
		// Kept, then not live (a lost broker connection): not served.
		p.live.set(w.pub, true)
		p.page(t, w.owner, w.pub, 0)
		if _, _, hit := p.page(t, w.owner, w.pub, 0); !hit {
			t.Fatal("a live group's page was not kept")
		}
		p.live.set(w.pub, false)
		if _, _, hit := p.page(t, w.owner, w.pub, 0); hit {
			t.Fatal("a kept page was served while its group was not live")
		}
		p.cache.Drop(w.pub)
		// Live while the fill runs, then not: the hub drops it then.
		p.live.set(w.pub, true)
		app.SetAfterFillRead(p.cache, func(gid int64) {
			p.live.set(gid, false)
			p.cache.Drop(gid)
		})
		if _, _, hit := p.page(t, w.owner, w.pub, 0); hit {
			t.Fatal("hit before any fill")
		}
		if _, _, hit := p.page(t, w.owner, w.pub, 0); hit {
			t.Fatal("a group that stopped being live during its fill was served from memory")
		}
	})
}

func TestCachedPagesStillCheckMembership(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, f *fx) {
		p := newPagesFx(t, f)
		w := f.world(t)
		p.live.set(w.pub, true)
		p.live.set(w.priv, true)
		p.same(t, w.pub, w.owner, w.member)
		p.same(t, w.priv, w.owner)
		// Removed on the other instance: the removal's event changes no
		// page, and is not even needed for the refusal.
		if err := p.remote.RemoveMember(ctx, w.owner, w.pub, w.member); err != nil {
			t.Fatal(err)
		}
		if err := p.remote.RemoveMember(ctx, w.owner, w.priv, w.member); err != nil {
			t.Fatal(err)
		}
		for _, gid := range []int64{w.pub, w.priv} {
			_, _, want := p.svc.History(ctx, w.member, gid, chat.HistoryQuery{})
			_, _, got := p.cached.History(ctx, w.member, gid, chat.HistoryQuery{})
			if want == nil || got == nil || got.Error() != want.Error() {
				t.Errorf("group %d: removed member got %v, the database path %v", gid, got, want)
			}
			_, _, got = p.cached.History(ctx, w.outsider, gid, chat.HistoryQuery{})
			_, _, want = p.svc.History(ctx, w.outsider, gid, chat.HistoryQuery{})
			if want == nil || got == nil || got.Error() != want.Error() {
				t.Errorf("group %d: outsider got %v, the database path %v", gid, got, want)
			}
		}
		p.same(t, w.pub, w.owner)
	})
}

func TestPageCacheKeepsAFixedNumberOfGroups(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, f *fx) {
		p := newPagesFx(t, f) // 4 groups
		owner := f.user(t, "own").User.ID
		var groups []int64
		for i := range 6 {
			g, err := f.svc.CreateGroup(ctx, owner, app.GroupInput{Name: "g" + string(rune('a'+i))})
			wantCode(t, err, "")
			p.live.set(g.ID, true)
			groups = append(groups, g.ID)
			p.page(t, owner, g.ID, 0)
		}
		if n := p.cache.Len(); n != 4 {
			t.Fatalf("%d groups kept, want 4", n)
		}
		// Reads of groups not live take no place: they push nothing out.
		for _, g := range groups[:2] {
			p.live.set(g, false)
			p.page(t, owner, g, 0)
		}
		for _, g := range groups[2:] {
			if _, _, hit := p.page(t, owner, g, 0); !hit {
				t.Errorf("group %d was dropped", g)
			}
		}
		for _, g := range groups[:2] {
			p.live.set(g, true)
		}
		if _, _, hit := p.page(t, owner, groups[5], 0); !hit {
			t.Error("the most recent group was dropped")
		}
		if _, _, hit := p.page(t, owner, groups[0], 0); hit {
			t.Error("the least recently used group was kept")
		}
	})
}

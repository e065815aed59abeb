package realtime

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/chat"
)

// samePage fails unless the latest page read on inst (from its cache when
// it holds the group) equals the database's, read through truth (an
// instance that does not hold the group, so never from memory).
func samePage(t *testing.T, inst, truth *instance, uid, gid int64, what string) {
	t.Helper()
	ctx := context.Background()
	want, wantMore, err := truth.svc.History(ctx, uid, gid, chat.HistoryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if truth.pages.Holds(gid) {
		t.Fatalf("%s: the instance read as the truth keeps the page", what)
	}
	for range 2 { // a fill, then from memory
		got, more, err := inst.svc.History(ctx, uid, gid, chat.HistoryQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if more != wantMore || !reflect.DeepEqual(got, want) {
			t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
		}
	}
	if !inst.pages.Holds(gid) {
		t.Fatalf("%s: the page of a live group was not kept", what)
	}
}

// A change made on another instance is in the next page read on this one
// once this one's member has its event; a change without an event (a
// display name) at once.
func TestPagesSeeChangesMadeOnAnotherInstance(t *testing.T) {
	eachStack(t, func(t *testing.T, cfg clusterConfig) {
		cfg.mod = func(o *Options) { o.ResyncInterval = time.Hour }
		cl := startCluster(t, 2, cfg)
		a, b := cl.insts[0], cl.insts[1]
		ctx := context.Background()
		alice, bob := register(t, a.svc, "alice"), register(t, a.svc, "bob")
		gid := createGroup(t, a.svc, alice, "general")
		join(t, a.svc, bob, gid)
		if _, _, err := a.svc.Send(ctx, alice.ID, gid, app.Outgoing{Body: "first"}); err != nil {
			t.Fatal(err)
		}
		c := connect(t, a, alice)
		eventually(t, "the group live on instance a", func() bool { return a.hub.Live(gid) })
		samePage(t, a, b, alice.ID, gid, "before any change")

		var last int64
		steps := []struct {
			name  string
			event string // what alice's socket on a gets; "": no event
			do    func() error
		}{
			{"send", "message", func() error {
				m, _, err := b.svc.Send(ctx, bob.ID, gid, app.Outgoing{Body: "from b"})
				last = m.ID
				return err
			}},
			{"edit", "message_updated", func() error {
				_, err := b.svc.EditMessage(ctx, bob.ID, last, "from b (edited)")
				return err
			}},
			{"reply", "message", func() error {
				_, _, err := b.svc.Send(ctx, bob.ID, gid, app.Outgoing{Body: "re", ReplyTo: &last})
				return err
			}},
			{"react", "reaction", func() error { return b.svc.React(ctx, bob.ID, last, "🎉", true) }},
			{"unreact", "reaction", func() error { return b.svc.React(ctx, bob.ID, last, "🎉", false) }},
			{"display name", "", func() error {
				_, err := b.svc.UpdateMe(ctx, bob.ID, app.ProfileChange{DisplayName: new("Bob B")})
				return err
			}},
			{"delete", "message_deleted", func() error { return b.svc.DeleteMessage(ctx, bob.ID, last) }},
		}
		for _, st := range steps {
			if err := st.do(); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			if st.event != "" {
				c.until(t, st.event)
			}
			samePage(t, a, b, alice.ID, gid, st.name)
		}
	})
}

// Only a group with a member connected to the instance (its topic in
// place) is kept, and no longer once the last one leaves.
func TestPagesOnlyOfLiveGroups(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	if _, _, err := f.inst.svc.Send(ctx, f.alice.ID, f.gid, app.Outgoing{Body: "hi"}); err != nil {
		t.Fatal(err)
	}
	read := func() {
		t.Helper()
		for range 2 {
			if _, _, err := f.inst.svc.History(ctx, f.bob.ID, f.gid, chat.HistoryQuery{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	read()
	if f.inst.pages.Holds(f.gid) {
		t.Fatal("kept the page of a group without a local member")
	}
	c := connect(t, f.inst, f.alice)
	eventually(t, "the group live", func() bool { return f.inst.hub.Live(f.gid) })
	read()
	if !f.inst.pages.Holds(f.gid) {
		t.Fatal("the page of a live group was not kept")
	}
	_ = c.ws.Close(websocket.StatusNormalClosure, "")
	eventually(t, "the page dropped with the group", func() bool { return !f.inst.pages.Holds(f.gid) })
	read()
	if f.inst.pages.Holds(f.gid) {
		t.Fatal("kept the page of a group after its last local member left")
	}
}

// What the broker lost while the subscription was down is not served
// from memory once it is back.
func TestPagesAreDroppedWhenTheSubscriptionComesBack(t *testing.T) {
	other, fb, f := newFlapFixture(t)
	ctx := context.Background()
	msg, _, err := other.svc.Send(ctx, f.bob.ID, f.gid, app.Outgoing{Body: "before"})
	if err != nil {
		t.Fatal(err)
	}
	connect(t, f.inst, f.alice) // holds the group on the instance
	eventually(t, "the group live", func() bool { return f.inst.hub.Live(f.gid) })
	samePage(t, f.inst, other, f.alice.ID, f.gid, "before the gap")

	fb.setDown(true)
	if _, err := other.svc.EditMessage(ctx, f.bob.ID, msg.ID, "edited in the gap"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the edit lost", func() bool { return fb.lostOn(groupTopic(f.gid)) > 0 })
	fb.setDown(false)
	if f.inst.pages.Holds(f.gid) {
		t.Fatal("the page survived the subscription coming back")
	}
	samePage(t, f.inst, other, f.alice.ID, f.gid, "after the gap")
}

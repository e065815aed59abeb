package realtime

import (
	"context"
	"testing"
	"time"

	"github.com/chatapp/chat/app"
	"github.com/coder/websocket"
)

func TestSendAcksBeforeTheMessageEventAndReachesEveryConnection(t *testing.T) {
	f := newFixture(t, nil)
	a1 := connect(t, f.inst, f.alice)
	a2 := connect(t, f.inst, f.alice)
	b := connect(t, f.inst, f.bob)
	c := connect(t, f.inst, f.carol)
	for i := range 5 {
		ref := "s" + itoa(int64(i))
		a1.send(map[string]any{"type": "send", "group_id": f.gid, "body": "hello " + ref, "client_id": "c-" + ref, "ref": ref})
		ack := a1.until(t, "ack", "message")
		if ack.Ref != ref || ack.Message == nil || ack.Message.Seq != int64(i+1) || ack.Message.Body != "hello "+ref {
			t.Fatalf("ack = %s", ack.raw)
		}
		for _, cl := range []*client{a1, a2, b} {
			m := cl.until(t, "message")
			if m.Message == nil || m.Message.ID != ack.Message.ID || m.Message.Seq != int64(i+1) || m.Message.Sender.ID != f.alice.ID {
				t.Fatalf("%s got %s", cl.name, m.raw)
			}
		}
	}
	// A repeated client_id answers the original without a new event.
	a1.send(map[string]any{"type": "send", "group_id": f.gid, "body": "again", "client_id": "c-s0", "ref": "rep"})
	ack := a1.until(t, "ack", "message")
	if ack.Message.Seq != 1 || ack.Message.Body != "hello s0" {
		t.Fatalf("repeat ack = %s", ack.raw)
	}
	for _, cl := range []*client{a1, a2, b, c} {
		if got := ofType(cl.sync(t), "message"); len(got) != 0 {
			t.Fatalf("%s: unexpected %v", cl.name, got)
		}
	}
}

func TestTypingGoesToOthersOnlyAndIsThrottled(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.TypingInterval = time.Hour })
	a1 := connect(t, f.inst, f.alice)
	a2 := connect(t, f.inst, f.alice)
	b := connect(t, f.inst, f.bob)
	c := connect(t, f.inst, f.carol)
	a1.send(map[string]any{"type": "typing", "group_id": f.gid})
	a1.send(map[string]any{"type": "typing", "group_id": f.gid}) // throttled
	ty := b.until(t, "typing")
	if ty.GroupID != f.gid || ty.UserID != f.alice.ID {
		t.Fatalf("typing = %s", ty.raw)
	}
	if got := ofType(b.sync(t), "typing"); len(got) != 0 {
		t.Fatalf("bob got a second typing event: %v", got)
	}
	for _, cl := range []*client{a1, a2, c} {
		if got := ofType(cl.sync(t), "typing"); len(got) != 0 {
			t.Fatalf("%s got %v", cl.name, got)
		}
	}
}

func TestReadGoesToTheReadersOtherConnections(t *testing.T) {
	f := newFixture(t, nil)
	a1 := connect(t, f.inst, f.alice)
	a2 := connect(t, f.inst, f.alice)
	b := connect(t, f.inst, f.bob)
	for range 3 {
		if _, _, err := f.inst.svc.Send(context.Background(), f.bob.ID, f.gid, app.Outgoing{Body: "hi"}); err != nil {
			t.Fatal(err)
		}
	}
	a1.send(map[string]any{"type": "read", "group_id": f.gid, "seq": 2, "ref": "rd"})
	r := a2.until(t, "read")
	if r.GroupID != f.gid || r.Seq != 2 || r.UserID != 0 {
		t.Fatalf("read = %s, want the reader's own event (no user_id)", r.raw)
	}
	// bob shares a group with alice, who shares read receipts (the
	// default): he gets her receipt, once (receipts_test.go has the rest).
	if r := b.until(t, "read"); r.UserID != f.alice.ID || r.Seq != 2 || r.GroupID != f.gid {
		t.Fatalf("bob's read = %s, want alice's receipt", r.raw)
	}
	for _, cl := range []*client{a1, a2, b} {
		for _, fr := range cl.sync(t) {
			if fr.Type == "read" || fr.Type == "error" {
				t.Fatalf("%s got %s", cl.name, fr.raw)
			}
		}
	}
}

func TestRemovalStopsEventsAtOnceAndJoinStartsThem(t *testing.T) {
	f := newFixture(t, nil)
	a := connect(t, f.inst, f.alice)
	b := connect(t, f.inst, f.bob)
	c := connect(t, f.inst, f.carol)
	ctx := context.Background()

	if err := f.inst.svc.RemoveMember(ctx, f.alice.ID, f.gid, f.bob.ID); err != nil {
		t.Fatal(err)
	}
	left := b.until(t, "member_left")
	if left.GroupID != f.gid || left.UserID != f.bob.ID {
		t.Fatalf("member_left = %s", left.raw)
	}
	a.until(t, "member_left")
	// The very next message is not delivered to bob any more.
	if _, _, err := f.inst.svc.Send(ctx, f.alice.ID, f.gid, app.Outgoing{Body: "after removal"}); err != nil {
		t.Fatal(err)
	}
	a.until(t, "message")
	for _, fr := range b.sync(t) {
		if fr.Type == "message" || fr.Type == "typing" {
			t.Fatalf("bob still receives the group: %s", fr.raw)
		}
	}
	// Typing in it is refused now.
	b.send(map[string]any{"type": "typing", "group_id": f.gid, "ref": "t"})
	if e := b.until(t, "error"); e.Error.Code != "not_member" {
		t.Fatalf("error = %s", e.raw)
	}

	// carol joins while connected: from then on she gets the group.
	join(t, f.inst.svc, f.carol, f.gid)
	j := c.until(t, "member_joined")
	if j.GroupID != f.gid || j.User == nil || j.User.ID != f.carol.ID {
		t.Fatalf("member_joined = %s", j.raw)
	}
	if _, _, err := f.inst.svc.Send(ctx, f.alice.ID, f.gid, app.Outgoing{Body: "welcome"}); err != nil {
		t.Fatal(err)
	}
	if m := c.until(t, "message"); m.Message.Body != "welcome" || m.Message.Seq != 2 {
		t.Fatalf("carol got %s", m.raw)
	}

	// Deleting the group tells the members and ends its events.
	if err := f.inst.svc.DeleteGroup(ctx, f.alice.ID, f.gid); err != nil {
		t.Fatal(err)
	}
	for _, cl := range []*client{a, c} {
		if d := cl.until(t, "group_deleted"); d.GroupID != f.gid {
			t.Fatalf("%s: %s", cl.name, d.raw)
		}
	}
	if f.inst.hub.subscribedGroups() != 0 {
		t.Fatalf("hub still indexes %d groups", f.inst.hub.subscribedGroups())
	}
}

func TestPresence(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	// alice and bob share two groups (f.gid and a direct one): each
	// presence change still reaches alice once.
	if _, _, err := f.inst.svc.Direct(ctx, f.alice.ID, f.bob.ID); err != nil {
		t.Fatal(err)
	}
	a := connect(t, f.inst, f.alice)
	online := func(uid int64) bool {
		ok, err := f.inst.hub.Online(ctx, uid)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	eventually(t, "alice online", func() bool { return online(f.alice.ID) })

	b1 := connect(t, f.inst, f.bob)
	p := a.until(t, "presence")
	if p.UserID != f.bob.ID || p.Online == nil || !*p.Online {
		t.Fatalf("presence = %s", p.raw)
	}
	if !online(f.bob.ID) {
		t.Fatal("bob not online")
	}
	// carol shares no group with bob: she hears nothing of him.
	c := connect(t, f.inst, f.carol)
	b2 := connect(t, f.inst, f.bob) // a second connection is no news
	_ = b2.sync(t)
	// carol is not alice's contact either, and bob was online already.
	if got := ofType(a.sync(t), "presence"); len(got) != 0 {
		t.Fatalf("alice got %v", got)
	}

	closeClient(t, b1)
	if got := ofType(a.sync(t), "presence"); len(got) != 0 {
		t.Fatalf("bob still has a connection, alice got %v", got)
	}
	closeClient(t, b2)
	p = a.until(t, "presence")
	if p.UserID != f.bob.ID || p.Online == nil || *p.Online {
		t.Fatalf("presence = %s", p.raw)
	}
	eventually(t, "bob offline", func() bool { return !online(f.bob.ID) })
	if got := ofType(a.sync(t), "presence"); len(got) != 0 {
		t.Fatalf("alice got a second offline event: %v", got)
	}
	for _, fr := range c.sync(t) {
		if fr.Type == "presence" {
			t.Fatalf("carol got %s", fr.raw)
		}
	}
	u, err := f.inst.svc.User(ctx, f.carol.ID, f.alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	if u.Online == nil || !*u.Online {
		t.Fatalf("GET /users/{alice}: online = %v, want true", u.Online)
	}
}

func closeClient(t *testing.T, c *client) {
	t.Helper()
	_ = c.ws.Close(websocket.StatusNormalClosure, "bye")
	<-c.done
}

package app_test

import (
	"context"
	"slices"
	"testing"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/chat"
)

func TestSendIsIdempotentAndOrdered(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, f *fx) {
		w := f.world(t) // pub already holds seq 1 and 2
		m1, created, err := f.svc.Send(ctx, w.member, w.pub, app.Outgoing{Body: "  one  ", ClientID: ptr("c-1")})
		if err != nil || !created || m1.Seq != 3 || m1.Body != "one" || m1.Sender.ID != w.member {
			t.Fatalf("first send %+v %v %v", m1, created, err)
		}
		evs := f.rec.take()
		if len(evs) != 1 || evs[0].Type != chat.EventMessage || evs[0].GroupID != w.pub || evs[0].Message == nil || evs[0].Message.ID != m1.ID {
			t.Fatalf("message event %+v", evs)
		}
		again, created, err := f.svc.Send(ctx, w.member, w.pub, app.Outgoing{Body: "one (retry)", ClientID: ptr("c-1")})
		if err != nil || created || again.ID != m1.ID || again.Seq != 3 || again.Body != "one" {
			t.Fatalf("repeat %+v %v %v", again, created, err)
		}
		if evs := f.rec.take(); len(evs) != 0 {
			t.Fatalf("a repeat was announced again: %+v", evs)
		}
		// Another sender may use the same client_id; an empty one means none.
		other, created, err := f.svc.Send(ctx, w.admin, w.pub, app.Outgoing{Body: "two", ClientID: ptr("c-1")})
		if err != nil || !created || other.Seq != 4 {
			t.Fatalf("other sender %+v %v %v", other, created, err)
		}
		for i := range 2 {
			m, created, err := f.svc.Send(ctx, w.member, w.pub, app.Outgoing{Body: "x", ClientID: ptr("")})
			if err != nil || !created || m.Seq != int64(5+i) {
				t.Fatalf("empty client id %d: %+v %v %v", i, m, created, err)
			}
		}
		_, _, err = f.svc.Send(ctx, w.member, w.pub, app.Outgoing{Body: "x", ClientID: ptr(string(make([]rune, 65)))})
		wantCode(t, err, "validation_failed")

		items, more, err := f.svc.History(ctx, w.owner, w.pub, chat.HistoryQuery{})
		if err != nil || more || !slices.Equal(seqs(items), []int64{1, 2, 3, 4, 5, 6}) {
			t.Fatalf("history %v %v %v", seqs(items), more, err)
		}
		items, more, err = f.svc.History(ctx, w.owner, w.pub, chat.HistoryQuery{BeforeSeq: 5, Limit: 2})
		if err != nil || !more || !slices.Equal(seqs(items), []int64{3, 4}) {
			t.Fatalf("history before %v %v %v", seqs(items), more, err)
		}
		_, _, err = f.svc.History(ctx, w.owner, w.pub, chat.HistoryQuery{BeforeSeq: 5, After: new(int64(1))})
		wantCode(t, err, "validation_failed")
	})
}

func TestEvents(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, f *fx) {
		w := f.world(t)
		one := func(want chat.EventType) chat.Event {
			t.Helper()
			evs := f.rec.take()
			if len(evs) != 1 || evs[0].Type != want {
				t.Fatalf("want one %s event, got %+v", want, evs)
			}
			return evs[0]
		}

		// Edit and delete.
		edited, err := f.svc.EditMessage(ctx, w.member, w.memberMsg, " changed ")
		if err != nil || edited.Body != "changed" || edited.EditedAt == nil {
			t.Fatalf("edit %+v %v", edited, err)
		}
		if ev := one(chat.EventMessageUpdated); ev.Message.ID != w.memberMsg || ev.GroupID != w.pub {
			t.Fatalf("updated event %+v", ev)
		}
		wantCode(t, f.svc.DeleteMessage(ctx, w.owner, w.memberMsg), "")
		if ev := one(chat.EventMessageDeleted); ev.Message.ID != w.memberMsg || !ev.Message.Deleted || ev.Message.Body != "" {
			t.Fatalf("deleted event %+v", ev)
		}
		wantCode(t, f.svc.DeleteMessage(ctx, w.member, w.memberMsg), "") // again: fine, silent
		if evs := f.rec.take(); len(evs) != 0 {
			t.Fatalf("second delete emitted %+v", evs)
		}
		_, err = f.svc.EditMessage(ctx, w.member, w.memberMsg, "back")
		wantCode(t, err, "conflict")

		// Read markers go to the reader's other connections and, as a
		// receipt (the reader shares them by default), to the other
		// members; only when they move.
		wantCode(t, f.svc.MarkRead(ctx, w.member, w.pub, 2, "conn-1"), "")
		evs := f.rec.take()
		if len(evs) != 2 || evs[0].Type != chat.EventRead || evs[1].Type != chat.EventRead {
			t.Fatalf("want two read events, got %+v", evs)
		}
		own, receipt := evs[0], evs[1]
		if a := own.Audience(); own.GroupID != w.pub || own.Seq != 2 || own.UserID != 0 || !slices.Equal(a.Users, []int64{w.member}) || a.ExceptConn != "conn-1" || a.Group {
			t.Fatalf("read event %+v", own)
		}
		if a := receipt.Audience(); receipt.GroupID != w.pub || receipt.Seq != 2 || receipt.UserID != w.member || !a.Group || a.ExceptUser != w.member || len(a.Users) != 0 {
			t.Fatalf("receipt event %+v, audience %+v", receipt, receipt.Audience())
		}
		wantCode(t, f.svc.MarkRead(ctx, w.member, w.pub, 1, "conn-1"), "")
		if evs := f.rec.take(); len(evs) != 0 {
			t.Fatalf("a marker that did not move emitted %+v", evs)
		}

		// Typing.
		wantCode(t, f.svc.Typing(ctx, w.admin, w.pub, "conn-9"), "")
		if ev := one(chat.EventTyping); ev.UserID != w.admin || ev.GroupID != w.pub || ev.Audience().ExceptConn != "conn-9" || ev.Audience().ExceptUser != w.admin {
			t.Fatalf("typing event %+v", ev)
		}

		// Membership.
		if _, err := f.svc.Join(ctx, w.outsider, w.pub); err != nil {
			t.Fatal(err)
		}
		if ev := one(chat.EventMemberJoined); ev.GroupID != w.pub || ev.User == nil || ev.User.ID != w.outsider {
			t.Fatalf("joined event %+v", ev)
		}
		if _, err := f.svc.Join(ctx, w.outsider, w.pub); err != nil {
			t.Fatal(err)
		}
		if evs := f.rec.take(); len(evs) != 0 {
			t.Fatalf("joining again emitted %+v", evs)
		}
		wantCode(t, f.svc.Leave(ctx, w.outsider, w.pub), "")
		if ev := one(chat.EventMemberLeft); ev.UserID != w.outsider || !slices.Contains(ev.Audience().Users, w.outsider) || !slices.Contains(ev.Audience().Users, w.owner) || ev.Audience().Leave != w.outsider {
			t.Fatalf("left event %+v", ev)
		}
		wantCode(t, f.svc.RemoveMember(ctx, w.admin, w.pub, w.member), "")
		if ev := one(chat.EventMemberLeft); ev.UserID != w.member || !slices.Contains(ev.Audience().Users, w.member) {
			t.Fatalf("removed event must reach the removed user: %+v", ev)
		}
		if _, err := f.svc.AddMember(ctx, w.admin, w.pub, w.member); err != nil {
			t.Fatal(err)
		}
		if ev := one(chat.EventMemberJoined); ev.User == nil || ev.User.ID != w.member {
			t.Fatalf("added event %+v", ev)
		}

		// Group changes.
		g, err := f.svc.UpdateGroup(ctx, w.owner, w.pub, chat.GroupPatch{Name: ptr(" New name "), Description: ptr("about")})
		if err != nil || g.Name == nil || *g.Name != "New name" || g.Description != "about" {
			t.Fatalf("update %+v %v", g, err)
		}
		if ev := one(chat.EventGroupUpdated); ev.Group == nil || ev.Group.ID != w.pub || *ev.Group.Name != "New name" {
			t.Fatalf("group event %+v", ev)
		}
		wantCode(t, f.svc.DeleteGroup(ctx, w.owner, w.pub), "")
		ev := one(chat.EventGroupDeleted)
		to := slices.Sorted(slices.Values(ev.Audience().Users))
		want := []int64{w.owner, w.admin, w.member}
		slices.Sort(want)
		if ev.GroupID != w.pub || !slices.Equal(to, want) || !ev.Audience().Dissolve {
			t.Fatalf("deleted event %+v, want to %v", ev, want)
		}
		_, err = f.svc.Group(ctx, w.owner, w.pub)
		wantCode(t, err, "not_found")

		// Creating a group tells the owner's connections.
		g, err = f.svc.CreateGroup(ctx, w.member, app.GroupInput{Name: "Mine"})
		if err != nil || g.OwnerID != w.member || g.Visibility != chat.Public || g.Kind != chat.KindGroup {
			t.Fatalf("create %+v %v", g, err)
		}
		if ev := one(chat.EventMemberJoined); ev.GroupID != g.ID || ev.User.ID != w.member {
			t.Fatalf("create event %+v", ev)
		}
		_, err = f.svc.CreateGroup(ctx, w.member, app.GroupInput{Name: "x", Visibility: "secret"})
		wantCode(t, err, "validation_failed")
	})
}

// admission is a fake Admission that refuses while busy is set.
type admission struct{ busy bool }

func (a *admission) Admit(context.Context) error {
	if a.busy {
		e := chat.Fail(chat.ErrRateLimited, "busy")
		e.RetryAfter = 1
		return e
	}
	return nil
}

// A send the Admission refuses answers rate_limited before anything is
// stored: no seq is taken and nobody hears of it; the same send goes
// through once the instance has caught up.
func TestSendRefusedByAdmissionTakesNoSeq(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, f *fx) {
		w := f.world(t) // pub already holds seq 1 and 2
		adm := &admission{busy: true}
		f.svc.Admission = adm
		_, _, err := f.svc.Send(ctx, w.member, w.pub, app.Outgoing{Body: "later", ClientID: ptr("c-late")})
		wantCode(t, err, "rate_limited")
		if evs := f.rec.take(); len(evs) != 0 {
			t.Fatalf("a refused send was announced: %+v", evs)
		}
		adm.busy = false
		m, created, err := f.svc.Send(ctx, w.member, w.pub, app.Outgoing{Body: "later", ClientID: ptr("c-late")})
		if err != nil || !created || m.Seq != 3 {
			t.Fatalf("the send again: %+v %v %v (want seq 3: the refusal took none)", m, created, err)
		}
	})
}

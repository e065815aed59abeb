package realtime

import (
	"context"
	"net/http"
	"testing"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/chat"
)

// Read receipts across two instances: a reader who shares them is heard of
// by the other members (with user_id) on every instance, their own other
// connections get the event without user_id, and once they stop sharing no
// other member hears of their reads, by event or by GET /groups/{id}/reads.
func TestReadReceiptsReachOtherMembersOnlyWhenShared(t *testing.T) {
	eachStack(t, func(t *testing.T, cfg clusterConfig) {
		ctx := context.Background()
		cl := startCluster(t, 2, cfg)
		i0, i1 := cl.insts[0], cl.insts[1]
		alice := register(t, i0.svc, "alice")
		bob := register(t, i0.svc, "bob")
		carol := register(t, i0.svc, "carol")
		dave := register(t, i0.svc, "dave") // in no group of alice's
		gid := createGroup(t, i0.svc, alice, "receipts")
		join(t, i0.svc, bob, gid)
		join(t, i0.svc, carol, gid)
		other := createGroup(t, i0.svc, dave, "elsewhere")

		a1, a2 := connect(t, i0, alice), connect(t, i1, alice)
		cb, cc, cd := connect(t, i1, bob), connect(t, i0, carol), connect(t, i1, dave)
		for range 3 {
			if _, _, err := i0.svc.Send(ctx, bob.ID, gid, app.Outgoing{Body: "hi"}); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := i0.svc.Send(ctx, dave.ID, other, app.Outgoing{Body: "not yours"}); err != nil {
			t.Fatal(err)
		}

		a1.send(map[string]any{"type": "read", "group_id": gid, "seq": 2})
		if r := a2.until(t, "read"); r.UserID != 0 || r.Seq != 2 || r.GroupID != gid {
			t.Fatalf("alice's other connection got %s, want {read, group_id, seq}", r.raw)
		}
		for _, c := range []*client{cb, cc} {
			if r := c.until(t, "read"); r.UserID != alice.ID || r.Seq != 2 || r.GroupID != gid {
				t.Fatalf("%s got %s, want alice's receipt at 2", c.name, r.raw)
			}
		}
		for _, c := range []*client{a1, a2, cb, cc, cd} {
			if got := ofType(c.sync(t), "read"); len(got) != 0 {
				t.Fatalf("%s got more reads: %v", c.name, got)
			}
		}
		reads, err := i1.svc.ReadReceipts(ctx, carol.ID, gid)
		if err != nil {
			t.Fatal(err)
		}
		if !hasReceipt(reads, alice.ID, 2) {
			t.Fatalf("reads = %+v, want alice at 2", reads)
		}

		// The privacy switch: hidden everywhere, events included.
		me, err := i1.svc.UpdateMe(ctx, alice.ID, app.ProfileChange{ShareReadReceipts: new(false)})
		if err != nil || me.ShareReadReceipts == nil || *me.ShareReadReceipts {
			t.Fatalf("UpdateMe(share off) = %+v, %v", me, err)
		}
		a2.send(map[string]any{"type": "read", "group_id": gid, "seq": 3})
		if r := a1.until(t, "read"); r.UserID != 0 || r.Seq != 3 {
			t.Fatalf("alice's other connection got %s", r.raw)
		}
		// A marker moved by REST on the other instance: still nothing.
		if _, _, err := i1.svc.Send(ctx, bob.ID, gid, app.Outgoing{Body: "more"}); err != nil {
			t.Fatal(err)
		}
		if err := i1.svc.MarkRead(ctx, alice.ID, gid, 4, ""); err != nil {
			t.Fatal(err)
		}
		a1.until(t, "read")
		a2.until(t, "read")
		// carol's read still reaches alice and bob: she shares.
		cc.send(map[string]any{"type": "read", "group_id": gid, "seq": 4})
		if r := cb.until(t, "read"); r.UserID != carol.ID || r.Seq != 4 {
			t.Fatalf("bob got %s, want carol's receipt", r.raw)
		}
		if r := a1.until(t, "read"); r.UserID != carol.ID {
			t.Fatalf("alice got %s, want carol's receipt", r.raw)
		}
		for _, c := range []*client{cb, cc, cd} {
			for _, f := range ofType(c.sync(t), "read") {
				if f.UserID == alice.ID || f.UserID == 0 {
					t.Fatalf("%s got %s after alice hid her receipts", c.name, f.raw)
				}
			}
		}
		reads, err = i0.svc.ReadReceipts(ctx, bob.ID, gid)
		if err != nil {
			t.Fatal(err)
		}
		if hasReceipt(reads, alice.ID, -1) || !hasReceipt(reads, bob.ID, 4) || !hasReceipt(reads, carol.ID, 4) {
			t.Fatalf("reads after hiding = %+v, want bob's and carol's, not alice's", reads)
		}
		// Her own ready frame says so; bob's says he shares.
		for _, a := range []struct {
			acct  account
			share bool
		}{{alice, false}, {bob, true}} {
			c, _, err := dial(t, i0.url, dialOpt{header: http.Header{"Authorization": {"Bearer " + a.acct.token}}})
			if err != nil {
				t.Fatal(err)
			}
			f := c.next(t)
			if f.Type != "ready" || f.User == nil || f.User.ShareReadReceipts == nil || *f.User.ShareReadReceipts != a.share {
				t.Fatalf("ready of %s = %s, want share_read_receipts %v", a.acct.Username, f.raw, a.share)
			}
		}
	})
}

// hasReceipt reports whether reads holds uid's marker at seq (any seq
// when seq is -1).
func hasReceipt(reads []chat.ReadReceipt, uid, seq int64) bool {
	for _, r := range reads {
		if r.UserID == uid && (seq == -1 || r.LastReadSeq == seq) {
			return true
		}
	}
	return false
}

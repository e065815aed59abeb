package storetest

import (
	"errors"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chatapp/chat/chat"
)

// The cases below send one message at a time, with nothing to batch with:
// on Postgres a plain one is stored by one statement of its own (issue 13),
// and everything it cannot answer goes through the batch transaction. The
// answers must not tell the two paths apart.

// testLoneSendRepeat: a repeated client_id, sent alone, answers with the
// original and takes no seq; so does a repeat with another body.
func testLoneSendRepeat(t *testing.T, s Store) {
	ctx := t.Context()
	u := newUser(t, s, "repeater", "")
	g := newGroup(t, s, u.ID, "repeats", chat.Public)
	orig, created, err := s.InsertMessage(ctx, chat.NewMessage{GroupID: g.ID, SenderID: u.ID, Body: "once", ClientID: ptr("r1"), At: baseTime()})
	noErr(t, err)
	if !created || orig.Seq != 1 {
		t.Fatalf("first send = seq %d, created %v", orig.Seq, created)
	}
	for _, body := range []string{"once", "changed my mind"} {
		again, created, err := s.InsertMessage(ctx, chat.NewMessage{GroupID: g.ID, SenderID: u.ID, Body: body, ClientID: ptr("r1"), At: time.Now()})
		noErr(t, err)
		if created || !reflect.DeepEqual(again, orig) {
			t.Errorf("repeat (%q) = %+v, created %v; want the original %+v", body, again, created, orig)
		}
	}
	if next := send(t, s, g.ID, u.ID, "next", baseTime()); next.Seq != 2 {
		t.Errorf("next seq = %d, want 2 (the repeats took none)", next.Seq)
	}
	wantGapless(t, s, g.ID, u.ID, 2)
}

// testLoneSendNonMember: a lone send by a non-member, or to a group that
// does not exist, fails with chat.ErrNoMembership and takes no seq.
func testLoneSendNonMember(t *testing.T, s Store) {
	ctx := t.Context()
	owner := newUser(t, s, "keeper", "")
	outsider := newUser(t, s, "outsider", "")
	g := newGroup(t, s, owner.ID, "closed", chat.Public)
	for _, m := range []chat.NewMessage{
		{GroupID: g.ID, SenderID: outsider.ID, Body: "let me in", At: baseTime()},
		{GroupID: g.ID, SenderID: outsider.ID, Body: "let me in", ClientID: ptr("o1"), At: baseTime()},
		{GroupID: g.ID + 1000, SenderID: owner.ID, Body: "nowhere", At: baseTime()},
	} {
		_, _, err := s.InsertMessage(ctx, m)
		if !errors.Is(err, chat.ErrNoMembership) {
			t.Errorf("send to %d by %d: err = %v, want chat.ErrNoMembership", m.GroupID, m.SenderID, err)
		}
	}
	if m := send(t, s, g.ID, owner.ID, "first", baseTime()); m.Seq != 1 {
		t.Errorf("member's send = seq %d, want 1", m.Seq)
	}
	wantGapless(t, s, g.ID, owner.ID, 1)
}

// testLoneSendReadMarker: a send moves its sender's read marker to it and
// no one else's.
func testLoneSendReadMarker(t *testing.T, s Store) {
	ctx := t.Context()
	a := newUser(t, s, "marka", "")
	b := newUser(t, s, "markb", "")
	g := newGroup(t, s, a.ID, "markers", chat.Public)
	_, err := s.AddMember(ctx, g.ID, b.ID, chat.RoleMember)
	noErr(t, err)
	wantMarks := func(wa, wb int64) {
		t.Helper()
		ma, err := s.Membership(ctx, g.ID, a.ID)
		noErr(t, err)
		mb, err := s.Membership(ctx, g.ID, b.ID)
		noErr(t, err)
		if ma.LastReadSeq != wa || mb.LastReadSeq != wb {
			t.Errorf("read markers = %d, %d; want %d, %d", ma.LastReadSeq, mb.LastReadSeq, wa, wb)
		}
	}
	send(t, s, g.ID, b.ID, "from b", baseTime())
	wantMarks(0, 1)
	send(t, s, g.ID, a.ID, "from a", baseTime())
	wantMarks(2, 1)
	send(t, s, g.ID, b.ID, "b again", baseTime())
	wantMarks(2, 3)
}

// testLoneSendAnswerIsHistory: the answer to a send is the message as
// history reads it, whichever path stored it: plain bodies, an e-mail
// address (no mention), a mention of a member and of no one, an empty
// client_id (stored as none).
func testLoneSendAnswerIsHistory(t *testing.T, s Store) {
	ctx := t.Context()
	a := newUser(t, s, "answerer", "Ann Answer")
	b := newUser(t, s, "mentioned", "")
	g := newGroup(t, s, a.ID, "answers", chat.Public)
	_, err := s.AddMember(ctx, g.ID, b.ID, chat.RoleMember)
	noErr(t, err)
	sends := []chat.NewMessage{
		{Body: "plain"},
		{Body: "plain with an id", ClientID: ptr("h1")},
		{Body: "an empty id", ClientID: ptr("")},
		{Body: "write to bob@example.com"},
		{Body: "hello @mentioned"},
		{Body: "hello @nobody"},
	}
	var answers []chat.Message
	for _, m := range sends {
		m.GroupID, m.SenderID, m.At = g.ID, a.ID, baseTime()
		got, created, err := s.InsertMessage(ctx, m)
		noErr(t, err)
		if !created {
			t.Fatalf("send %q not created", m.Body)
		}
		answers = append(answers, got)
	}
	items, _, err := s.Messages(ctx, g.ID, chat.HistoryQuery{Limit: 100})
	noErr(t, err)
	if !reflect.DeepEqual(items, answers) {
		t.Errorf("history differs from the answers:\n history %+v\n answers %+v", items, answers)
	}
	if got := answers[4].Mentions; len(got) != 1 || got[0] != b.ID {
		t.Errorf("mentions = %v, want [%d]", got, b.ID)
	}
	if answers[0].Sender.DisplayName != "Ann Answer" || answers[2].ClientID != nil {
		t.Errorf("answers = %+v", answers)
	}
}

// testClientIDOnTwoInstances: two instances of the server (two stores on
// one database) store the same client_id at the same moment, round after
// round: each round stores one message, both answer with it, and no seq is
// lost.
func testClientIDOnTwoInstances(t *testing.T, one, two Store) {
	ctx := t.Context()
	u := newUser(t, one, "twin", "")
	g := newGroup(t, one, u.ID, "twins", chat.Public)
	const rounds = 30
	for i := range rounds {
		cid := ptr("twin-" + strconv.Itoa(i))
		var (
			start   sync.WaitGroup
			done    sync.WaitGroup
			got     [2]chat.Message
			created [2]bool
			errs    [2]error
		)
		start.Add(1)
		for j, s := range []Store{one, two} {
			done.Go(func() {
				start.Wait()
				got[j], created[j], errs[j] = s.InsertMessage(ctx, chat.NewMessage{GroupID: g.ID, SenderID: u.ID, Body: "same", ClientID: cid, At: baseTime()})
			})
		}
		start.Done()
		done.Wait()
		noErr(t, errs[0])
		noErr(t, errs[1])
		if created[0] == created[1] || !reflect.DeepEqual(got[0], got[1]) || got[0].Seq != int64(i+1) {
			t.Fatalf("round %d: answers %+v (created %v) and %+v (created %v), want one message with seq %d",
				i, got[0], created[0], got[1], created[1], i+1)
		}
	}
	wantGapless(t, one, g.ID, u.ID, rounds)
}

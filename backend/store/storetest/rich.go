package storetest

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatapp/chat/chat"
)

func testReplies(t *testing.T, s Store) {
	ctx := t.Context()
	base := baseTime()
	a := newUser(t, s, "asker", "Asker")
	b := newUser(t, s, "answerer", "")
	g := newGroup(t, s, a.ID, "qa", chat.Public)
	_, err := s.AddMember(ctx, g.ID, b.ID, chat.RoleMember)
	noErr(t, err)
	other := newGroup(t, s, a.ID, "elsewhere", chat.Public)

	long := strings.Repeat("é", 150) + strings.Repeat("x", 100)
	q := send(t, s, g.ID, a.ID, long, base)
	foreign := send(t, s, other.ID, a.ID, "not here", base)

	r, created, err := s.InsertMessage(ctx, chat.NewMessage{GroupID: g.ID, SenderID: b.ID, Body: "answer", At: base, ReplyTo: &q.ID, ClientID: ptr("r1")})
	noErr(t, err)
	want := chat.ReplyPreview{ID: q.ID, Seq: q.Seq, Sender: q.Sender, Body: long[:len(strings.Repeat("é", 150))+50]}
	if !created || r.ReplyTo == nil || *r.ReplyTo != want {
		t.Fatalf("reply = %+v (created %v), reply_to = %+v, want %+v", r, created, r.ReplyTo, want)
	}
	if len([]rune(r.ReplyTo.Body)) != chat.ReplyPreviewMax {
		t.Errorf("preview has %d characters, want %d", len([]rune(r.ReplyTo.Body)), chat.ReplyPreviewMax)
	}
	// The idempotent repeat answers with the original, reply included,
	// whatever the repeat names.
	again, created, err := s.InsertMessage(ctx, chat.NewMessage{GroupID: g.ID, SenderID: b.ID, Body: "answer", At: base, ReplyTo: &foreign.ID, ClientID: ptr("r1")})
	noErr(t, err)
	if created || again.ID != r.ID || again.ReplyTo == nil || *again.ReplyTo != want {
		t.Errorf("repeat = %+v (created %v), want the original", again, created)
	}

	// Another group's message, or a missing one: refused, no seq taken.
	for _, target := range []int64{foreign.ID, foreign.ID + 1000} {
		_, _, err = s.InsertMessage(ctx, chat.NewMessage{GroupID: g.ID, SenderID: b.ID, Body: "x", At: base, ReplyTo: &target})
		wantErr(t, err, chat.ErrInvalid)
		if ce := (*chat.Error)(nil); !errors.As(err, &ce) || ce.Details["reply_to_id"] == "" {
			t.Errorf("reply to %d: error %v does not name reply_to_id", target, err)
		}
	}
	// A non-member hears of its membership first.
	c := newUser(t, s, "outsider", "")
	_, _, err = s.InsertMessage(ctx, chat.NewMessage{GroupID: g.ID, SenderID: c.ID, Body: "x", At: base, ReplyTo: &foreign.ID})
	wantErr(t, err, chat.ErrNoMembership)
	next := send(t, s, g.ID, a.ID, "next", base)
	if next.Seq != r.Seq+1 {
		t.Errorf("seq after refused replies = %d, want %d", next.Seq, r.Seq+1)
	}
	if next.ReplyTo != nil {
		t.Errorf("a plain message has reply_to %+v", next.ReplyTo)
	}

	// History, MessageByID and the group list carry the preview; a
	// deleted original shows as deleted with an empty body.
	_, err = s.DeleteMessage(ctx, q.ID, base)
	noErr(t, err)
	deleted := chat.ReplyPreview{ID: q.ID, Seq: q.Seq, Sender: q.Sender, Deleted: true}
	page, _, err := s.Messages(ctx, g.ID, chat.HistoryQuery{Limit: 10})
	noErr(t, err)
	if len(page) != 3 || page[1].ReplyTo == nil || *page[1].ReplyTo != deleted || page[0].ReplyTo != nil {
		t.Errorf("history = %+v", page)
	}
	byID, err := s.MessageByID(ctx, r.ID)
	noErr(t, err)
	if byID.ReplyTo == nil || *byID.ReplyTo != deleted {
		t.Errorf("MessageByID reply_to = %+v, want %+v", byID.ReplyTo, deleted)
	}
	last := send(t, s, g.ID, b.ID, "last", base.Add(time.Hour))
	_, _, err = s.InsertMessage(ctx, chat.NewMessage{GroupID: g.ID, SenderID: b.ID, Body: "re last", At: base.Add(2 * time.Hour), ReplyTo: &last.ID})
	noErr(t, err)
	mine, err := s.MyGroups(ctx, b.ID)
	noErr(t, err)
	if len(mine) != 1 || mine[0].LastMessage == nil || mine[0].LastMessage.ReplyTo == nil || mine[0].LastMessage.ReplyTo.ID != last.ID ||
		mine[0].LastMessage.ReplyTo.Body != "last" {
		t.Errorf("my groups' last message = %+v", mine[0].LastMessage)
	}
}

func testReactions(t *testing.T, s Store) {
	ctx := t.Context()
	base := baseTime()
	a := newUser(t, s, "ann", "")
	b := newUser(t, s, "bob", "")
	g := newGroup(t, s, a.ID, "fun", chat.Public)
	_, err := s.AddMember(ctx, g.ID, b.ID, chat.RoleMember)
	noErr(t, err)
	m := send(t, s, g.ID, a.ID, "react to me", base)
	if m.Reactions != nil {
		t.Errorf("a new message has reactions %+v", m.Reactions)
	}

	add := func(uid int64, emoji string, at time.Time, want bool) {
		t.Helper()
		added, err := s.AddReaction(ctx, m.ID, uid, emoji, at)
		noErr(t, err)
		if added != want {
			t.Errorf("AddReaction(%d, %s) added = %v, want %v", uid, emoji, added, want)
		}
	}
	add(b.ID, "👍", base, true)
	add(a.ID, "❤️", base.Add(time.Second), true)
	add(a.ID, "👍", base.Add(2*time.Second), true)
	add(a.ID, "👍", base.Add(3*time.Second), false) // idempotent
	want := []chat.Reaction{{Emoji: "👍", Count: 2, UserIDs: []int64{b.ID, a.ID}}, {Emoji: "❤️", Count: 1, UserIDs: []int64{a.ID}}}
	got, err := s.MessageByID(ctx, m.ID)
	noErr(t, err)
	if !reactionsEqual(got.Reactions, want) {
		t.Errorf("reactions = %+v, want %+v", got.Reactions, want)
	}
	page, _, err := s.Messages(ctx, g.ID, chat.HistoryQuery{Limit: 5})
	noErr(t, err)
	if len(page) != 1 || !reactionsEqual(page[0].Reactions, want) {
		t.Errorf("history reactions = %+v, want %+v", page, want)
	}

	removed, err := s.RemoveReaction(ctx, m.ID, b.ID, "👍")
	noErr(t, err)
	again, err2 := s.RemoveReaction(ctx, m.ID, b.ID, "👍")
	noErr(t, err2)
	if !removed || again {
		t.Errorf("RemoveReaction = %v then %v, want true then false", removed, again)
	}
	got, err = s.MessageByID(ctx, m.ID)
	noErr(t, err)
	want = []chat.Reaction{{Emoji: "❤️", Count: 1, UserIDs: []int64{a.ID}}, {Emoji: "👍", Count: 1, UserIDs: []int64{a.ID}}}
	if !reactionsEqual(got.Reactions, want) {
		t.Errorf("after removal reactions = %+v, want %+v (first use moves with the first reactor)", got.Reactions, want)
	}

	// At most chat.ReactionsMax distinct emoji; more of an existing one
	// is fine.
	for i := 2; i < chat.ReactionsMax; i++ {
		add(b.ID, emojiN(i), base.Add(time.Duration(i)*time.Minute), true)
	}
	_, err = s.AddReaction(ctx, m.ID, b.ID, emojiN(99), base.Add(time.Hour))
	wantErr(t, err, chat.ErrInvalid)
	add(b.ID, "❤️", base.Add(time.Hour), true)

	_, err = s.AddReaction(ctx, m.ID+1000, a.ID, "👍", base)
	wantErr(t, err, chat.ErrNotFound)

	// A deleted message loses its reactions and takes no more.
	_, err = s.DeleteMessage(ctx, m.ID, base)
	noErr(t, err)
	got, err = s.MessageByID(ctx, m.ID)
	noErr(t, err)
	if len(got.Reactions) != 0 {
		t.Errorf("deleted message's reactions = %+v", got.Reactions)
	}
	_, err = s.AddReaction(ctx, m.ID, a.ID, "👍", base)
	wantErr(t, err, chat.ErrConflict)
}

// testReactionRace toggles reactions from many goroutines: counts end
// exact, and concurrent new emoji never pass the limit.
func testReactionRace(t *testing.T, s Store) {
	ctx := t.Context()
	base := baseTime()
	owner := newUser(t, s, "owner", "")
	g := newGroup(t, s, owner.ID, "busy", chat.Public)
	m := send(t, s, g.ID, owner.ID, "popular", base)
	const users = 12
	var ids []int64
	for i := range users {
		u := newUser(t, s, "user"+string(rune('a'+i)), "")
		_, err := s.AddMember(ctx, g.ID, u.ID, chat.RoleMember)
		noErr(t, err)
		ids = append(ids, u.ID)
	}
	var wg sync.WaitGroup
	errs := make(chan error, users*3*4)
	for _, uid := range ids {
		for _, emoji := range []string{"👍", "❤️", "😂"} {
			wg.Go(func() {
				// Toggle a few times, ending added (odd uids) or removed.
				for i := range 4 {
					if _, err := s.AddReaction(ctx, m.ID, uid, emoji, base.Add(time.Duration(i)*time.Millisecond)); err != nil {
						errs <- err
					}
					if i < 3 || uid%2 == 0 {
						if _, err := s.RemoveReaction(ctx, m.ID, uid, emoji); err != nil {
							errs <- err
						}
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent toggle: %v", err)
	}
	var odd []int64
	for _, uid := range ids {
		if uid%2 == 1 {
			odd = append(odd, uid)
		}
	}
	got, err := s.MessageByID(ctx, m.ID)
	noErr(t, err)
	if len(odd) > 0 && len(got.Reactions) != 3 {
		t.Fatalf("reactions = %+v, want 3 emoji", got.Reactions)
	}
	for _, r := range got.Reactions {
		u := slices.Clone(r.UserIDs)
		slices.Sort(u)
		if r.Count != int64(len(odd)) || !slices.Equal(u, odd) {
			t.Errorf("%s: count %d by %v, want %d by %v", r.Emoji, r.Count, u, len(odd), odd)
		}
	}

	// 40 new emoji at once on a fresh message: exactly 20 get in.
	m2 := send(t, s, g.ID, owner.ID, "limit", base)
	var in sync.WaitGroup
	var mu sync.Mutex
	ok, invalid := 0, 0
	for i := range 2 * chat.ReactionsMax {
		in.Go(func() {
			_, err := s.AddReaction(ctx, m2.ID, ids[i%users], emojiN(i), base)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, chat.ErrInvalid):
				invalid++
			default:
				t.Errorf("add %d: %v", i, err)
			}
		})
	}
	in.Wait()
	got, err = s.MessageByID(ctx, m2.ID)
	noErr(t, err)
	if ok != chat.ReactionsMax || invalid != chat.ReactionsMax || len(got.Reactions) != chat.ReactionsMax {
		t.Errorf("%d added, %d refused, %d stored; want %d each", ok, invalid, len(got.Reactions), chat.ReactionsMax)
	}
}

// emojiN is the i-th of a run of distinct emoji (U+1F600 on).
func emojiN(i int) string { return string(rune(0x1F600 + i)) }

func reactionsEqual(a, b []chat.Reaction) bool {
	return slices.EqualFunc(a, b, func(x, y chat.Reaction) bool {
		return x.Emoji == y.Emoji && x.Count == y.Count && slices.Equal(x.UserIDs, y.UserIDs)
	})
}

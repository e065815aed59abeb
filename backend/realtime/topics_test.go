package realtime

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/broker"
	"github.com/chatapp/chat/chat"
)

// The topics an event goes out on, and the share each delivery serves:
// every connection of the audience gets the event exactly once in all, on
// whichever instance it is, and no one else gets it.
func TestEachConnectionGetsAnEventOnceAcrossItsTopics(t *testing.T) {
	on := true
	// Connections of one instance: user, groups. User 4 is joining group 10
	// and has no group yet; user 1 has two connections.
	conns := []testConn{
		{id: "1a", uid: 1, groups: []int64{10, 20}},
		{id: "1b", uid: 1, groups: []int64{10, 20}},
		{id: "2a", uid: 2, groups: []int64{10}},
		{id: "3a", uid: 3, groups: []int64{20}},
		{id: "4a", uid: 4},
	}
	tests := []struct {
		name   string
		ev     chat.Event
		topics []string
		want   []string // connections that get a frame
	}{
		{"message", chat.Event{Type: chat.EventMessage, GroupID: 10}, []string{"g:10"}, []string{"1a", "1b", "2a"}},
		{"typing: not the typist", chat.Event{Type: chat.EventTyping, GroupID: 10, UserID: 1, Conn: "1a"}, []string{"g:10"}, []string{"2a"}},
		{"read receipt", chat.Event{Type: chat.EventRead, GroupID: 20, UserID: 3, Actor: 3}, []string{"g:20"}, []string{"1a", "1b"}},
		{"own read marker: the reader's other connections", chat.Event{Type: chat.EventRead, GroupID: 10, Actor: 1, Conn: "1a"}, []string{"u:1"}, []string{"1b"}},
		{"member joined: the members and the joiner", chat.Event{Type: chat.EventMemberJoined, GroupID: 10, User: &chat.User{ID: 4}}, []string{"g:10", "u:4"}, []string{"1a", "1b", "2a", "4a"}},
		{"member left: the members and who left", chat.Event{Type: chat.EventMemberLeft, GroupID: 10, UserID: 2, Members: []int64{1}}, []string{"u:1", "u:2"}, []string{"1a", "1b", "2a"}},
		{"group deleted", chat.Event{Type: chat.EventGroupDeleted, GroupID: 20, Members: []int64{1, 3}}, []string{"u:1", "u:3"}, []string{"1a", "1b", "3a"}},
		{"presence: everyone sharing a group, once", chat.Event{Type: chat.EventPresence, UserID: 9, Online: &on, Groups: []int64{20, 10}}, []string{"g:20", "g:10"}, []string{"1a", "1b", "2a", "3a"}},
		{"presence of a member: not to them", chat.Event{Type: chat.EventPresence, UserID: 1, Online: &on, Groups: []int64{10, 20}}, []string{"g:10", "g:20"}, []string{"2a", "3a"}},
		{"sessions ended: closed, no frame", chat.Event{Type: chat.EventSessionsEnded, UserID: 1, Sessions: []string{"s"}}, []string{"u:1"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.ev.Audience()
			topics := topicsOf(tc.ev.GroupID, a)
			if !slices.Equal(topics, tc.topics) {
				t.Fatalf("topics = %v, want %v", topics, tc.topics)
			}
			// The whole audience, as the publishing instance routes it.
			whole := deliveries(conns, tc.ev.GroupID, a, nil)
			var got []string
			for _, topic := range topics {
				part, skip, ok := share(topic, tc.ev.GroupID, a)
				if !ok {
					t.Fatalf("share(%s) serves no one", topic)
				}
				if a.Close != 0 && part.Close != a.Close {
					t.Fatalf("share(%s) = %+v does not close", topic, part)
				}
				got = append(got, deliveries(conns, tc.ev.GroupID, part, skip)...)
			}
			slices.Sort(got)
			slices.Sort(whole)
			if !slices.Equal(got, tc.want) || !slices.Equal(whole, tc.want) {
				t.Fatalf("by topic %v, whole audience %v; want each of %v once", got, whole, tc.want)
			}
		})
	}
	t.Run("a topic the event is not on serves no one", func(t *testing.T) {
		a := chat.Event{Type: chat.EventMemberLeft, GroupID: 10, UserID: 2, Members: []int64{1}}.Audience()
		for _, topic := range []string{"u:3", "g:10", "x:1", "u:", "g:abc"} {
			if part, _, ok := share(topic, 10, a); ok {
				t.Errorf("share(%s) = %+v", topic, part)
			}
		}
	})
	t.Run("no audience names both an exception and a joiner", func(t *testing.T) {
		for _, typ := range []chat.EventType{chat.EventMessage, chat.EventMessageUpdated, chat.EventMessageDeleted, chat.EventTyping,
			chat.EventRead, chat.EventPresence, chat.EventMemberJoined, chat.EventMemberLeft, chat.EventGroupUpdated,
			chat.EventGroupDeleted, chat.EventReaction, chat.EventSessionsEnded} {
			a := chat.Event{Type: typ, GroupID: 1, UserID: 2, Actor: 2, User: &chat.User{ID: 2}}.Audience()
			if a.Join != 0 && a.ExceptUser != 0 {
				t.Errorf("%s: %+v (share drops the exception on the group's topic)", typ, a)
			}
		}
	})
}

type testConn struct {
	id     string
	uid    int64
	groups []int64
}

// deliveries models Hub.route on conns: who gets a frame of audience a.
func deliveries(conns []testConn, group int64, a chat.Audience, skip []int64) []string {
	if a.Close != 0 {
		return nil
	}
	var out []string
	for _, c := range conns {
		in := func(gs []int64) bool {
			return slices.ContainsFunc(gs, func(g int64) bool { return slices.Contains(c.groups, g) })
		}
		if c.uid == a.ExceptUser || c.id == a.ExceptConn {
			continue
		}
		switch {
		case a.Group:
			if slices.Contains(c.groups, group) || c.uid == a.Join {
				out = append(out, c.id)
			}
		case len(a.Users) > 0:
			if slices.Contains(a.Users, c.uid) {
				out = append(out, c.id)
			}
		case len(a.Groups) > 0:
			if in(a.Groups) && !in(skip) {
				out = append(out, c.id)
			}
		}
	}
	return out
}

// countingBroker counts what its subscription delivers, by topic.
type countingBroker struct {
	broker.Inner
	mu     sync.Mutex
	topics map[string]int
}

func (b *countingBroker) Subscribe(ctx context.Context, topics *broker.Topics, deliver func(broker.Message), connected func([]string)) error {
	return b.Inner.Subscribe(ctx, topics, func(m broker.Message) {
		b.mu.Lock()
		b.topics[m.Topic]++
		b.mu.Unlock()
		deliver(m)
	}, connected)
}

func (b *countingBroker) heard() map[string]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return maps.Clone(b.topics)
}

func (b *countingBroker) total() int {
	n := 0
	for _, v := range b.heard() {
		n += v
	}
	return n
}

// Three instances: the members of a busy group are on the first two; the
// third serves only another group. Its subscription hears nothing of the
// busy group, however much is sent; a member who then connects there
// (resuming from the start) gets every message once, in order, and the
// ones sent after it connected live.
func TestAnInstanceHearsNothingOfGroupsItDoesNotServe(t *testing.T) {
	eachStack(t, func(t *testing.T, cfg clusterConfig) {
		cl := startCluster(t, 3, cfg)
		svc := cl.insts[0].svc
		owner := register(t, svc, "owner")
		busy := createGroup(t, svc, owner, "busy")
		other := createGroup(t, svc, owner, "other")
		var members []*client
		for i := range 4 {
			a := register(t, svc, fmt.Sprintf("member%d", i))
			join(t, svc, a, busy)
			members = append(members, connect(t, cl.insts[i%2], a))
		}
		late := register(t, svc, "late")
		join(t, svc, late, busy)
		loner := register(t, svc, "loner")
		join(t, svc, loner, other)
		connect(t, cl.insts[2], loner)
		before := cl.heard[2].total()

		const n = 60
		for i := range n {
			m := members[i%len(members)]
			m.send(map[string]any{"type": "send", "group_id": busy, "body": fmt.Sprintf("before %d", i), "ref": itoa(int64(i))})
		}
		for _, m := range members {
			if err := collect(m, busy, n, n/len(members)); err != nil {
				t.Fatal(err)
			}
		}
		heard := cl.heard[2].heard()
		if got := heard[groupTopic(busy)]; got != 0 {
			t.Fatalf("the third instance heard %d messages of a group it does not serve", got)
		}
		t.Logf("%d messages into the busy group: instances 0 and 1 heard %d and %d broker messages, instance 2 heard %d (%v)",
			n, cl.heard[0].total(), cl.heard[1].total(), cl.heard[2].total()-before, heard)

		// A member connects on the third instance and resumes from the start
		// while the others go on sending.
		lc, _, err := dial(t, cl.insts[2].url, dialOpt{authMsg: map[string]any{"type": "auth", "token": late.token, "cursors": map[string]int64{itoa(busy): 0}}})
		if err != nil {
			t.Fatal(err)
		}
		lc.name = late.Username
		for i := range n {
			m := members[i%len(members)]
			m.send(map[string]any{"type": "send", "group_id": busy, "body": fmt.Sprintf("after %d", i), "ref": itoa(int64(n + i))})
		}
		if err := collect(lc, busy, 2*n, 0); err != nil {
			t.Fatal(err)
		}
		if got := cl.heard[2].heard()[groupTopic(busy)]; got == 0 {
			t.Fatal("the third instance never subscribed to the group of its new member")
		}
	})
}

// When the last local member of a group disconnects, the instance stops
// hearing the group once the topic's linger has passed.
func TestAnInstanceStopsHearingAGroupItNoLongerServes(t *testing.T) {
	cl := startCluster(t, 2, clusterConfig{mod: func(o *Options) { o.TopicLinger = 50 * time.Millisecond }})
	svc := cl.insts[0].svc
	alice := register(t, svc, "alice")
	bob := register(t, svc, "bob")
	gid := createGroup(t, svc, alice, "g")
	join(t, svc, bob, gid)
	ca := connect(t, cl.insts[0], alice)
	cb := connect(t, cl.insts[1], bob)
	heard := func() int { return cl.heard[1].heard()[groupTopic(gid)] }
	send := func(body string) {
		t.Helper()
		if _, _, err := svc.Send(context.Background(), alice.ID, gid, app.Outgoing{Body: body}); err != nil {
			t.Fatal(err)
		}
		ca.until(t, "message")
	}
	send("while bob is here")
	cb.until(t, "message")
	if heard() == 0 {
		t.Fatal("the instance of a member did not hear the group")
	}
	closeClient(t, cb)
	eventually(t, "the group's topic left", func() bool {
		before := heard()
		send("probe")
		time.Sleep(30 * time.Millisecond)
		return heard() == before
	})
	before := heard()
	for i := range 20 {
		send(fmt.Sprintf("after %d", i))
	}
	time.Sleep(100 * time.Millisecond)
	if got := heard() - before; got != 0 {
		t.Fatalf("the instance without members heard %d messages of the group", got)
	}
}

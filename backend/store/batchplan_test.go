package store

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/chatapp/chat/chat"
)

func TestPlanBatch(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	req := func(g, u int64, cid ...string) chat.NewMessage {
		m := chat.NewMessage{GroupID: g, SenderID: u, Body: fmt.Sprintf("g%d u%d", g, u), At: t0}
		if len(cid) > 0 {
			m.ClientID = &cid[0]
		}
		return m
	}
	members := func(pairs ...member) map[member]userRow {
		out := map[member]userRow{}
		for _, p := range pairs {
			out[p] = userRow{ID: p.user, Username: fmt.Sprint("user", p.user)}
		}
		return out
	}
	original := chat.Message{ID: 99, GroupID: 1, Seq: 7, Body: "stored before"}
	// want is one request's answer: an outcome and, for fresh ones, the seq
	// it takes; for repeats the request they repeat.
	type want struct {
		outcome outcome
		seq     int64
		first   int
	}
	tests := []struct {
		name    string
		ms      []chat.NewMessage
		senders map[member]userRow
		stored  map[clientKey]chat.Message
		need    []groupNeed     // what the batch asks of each group, in order
		last    map[int64]int64 // each group's last_seq after the allocation
		want    []want          // per request
		marks   []memberSeq     // read markers to move
	}{
		{
			name:    "groups numbered apart, in request order",
			ms:      []chat.NewMessage{req(1, 10), req(2, 10), req(1, 11), req(1, 10)},
			senders: members(member{1, 10}, member{2, 10}, member{1, 11}),
			need:    []groupNeed{{group: 1, n: 3, lastAt: t0}, {group: 2, n: 1, lastAt: t0}},
			last:    map[int64]int64{1: 8, 2: 1},
			want:    []want{{fresh, 6, 0}, {fresh, 1, 0}, {fresh, 7, 0}, {fresh, 8, 0}},
			marks:   []memberSeq{{member{1, 10}, 8}, {member{2, 10}, 1}, {member{1, 11}, 7}},
		},
		{
			name:    "non-members take no seq",
			ms:      []chat.NewMessage{req(1, 10), req(1, 12, "x"), req(3, 10), req(1, 10)},
			senders: members(member{1, 10}),
			need:    []groupNeed{{group: 1, n: 2, lastAt: t0}},
			last:    map[int64]int64{1: 2},
			want:    []want{{fresh, 1, 0}, {notMember, 0, 0}, {notMember, 0, 0}, {fresh, 2, 0}},
			marks:   []memberSeq{{member{1, 10}, 2}},
		},
		{
			name:    "repeats in the batch and of stored messages",
			ms:      []chat.NewMessage{req(1, 10, "a"), req(1, 10, "a"), req(1, 10, "old"), req(1, 11, "a"), req(1, 10, "a")},
			senders: members(member{1, 10}, member{1, 11}),
			stored:  map[clientKey]chat.Message{{1, 10, "old"}: original},
			need:    []groupNeed{{group: 1, n: 2, lastAt: t0}},
			last:    map[int64]int64{1: 9},
			want:    []want{{fresh, 8, 0}, {repeat, 0, 0}, {storedBefore, 0, 0}, {fresh, 9, 0}, {repeat, 0, 0}},
			marks:   []memberSeq{{member{1, 10}, 8}, {member{1, 11}, 9}},
		},
		{
			name:    "membership comes before a stored repeat",
			ms:      []chat.NewMessage{req(1, 12, "old")},
			senders: members(),
			stored:  map[clientKey]chat.Message{{1, 12, "old"}: original},
			want:    []want{{notMember, 0, 0}},
		},
		{
			name:    "an empty client_id is none",
			ms:      []chat.NewMessage{req(1, 10, ""), req(1, 10, "")},
			senders: members(member{1, 10}),
			need:    []groupNeed{{group: 1, n: 2, lastAt: t0}},
			last:    map[int64]int64{1: 2},
			want:    []want{{fresh, 1, 0}, {fresh, 2, 0}},
			marks:   []memberSeq{{member{1, 10}, 2}},
		},
		{
			name:    "a group deleted before its lock",
			ms:      []chat.NewMessage{req(1, 10), req(2, 10, "k"), req(2, 10, "k")},
			senders: members(member{1, 10}, member{2, 10}),
			need:    []groupNeed{{group: 1, n: 1, lastAt: t0}, {group: 2, n: 1, lastAt: t0}},
			last:    map[int64]int64{1: 4},
			want:    []want{{fresh, 4, 0}, {notMember, 0, 0}, {repeat, 0, 1}},
			marks:   []memberSeq{{member{1, 10}, 4}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := planBatch(tc.ms, tc.stored, tc.senders, nil, nil)
			if !slices.Equal(p.groups, tc.need) {
				t.Errorf("groups = %+v, want %+v", p.groups, tc.need)
			}
			rows, rowOf := p.number(tc.ms, tc.last)
			for i, w := range tc.want {
				if p.outcomes[i] != w.outcome {
					t.Errorf("request %d: outcome %d, want %d", i, p.outcomes[i], w.outcome)
				}
				switch {
				case w.outcome == fresh && (rowOf[i] < 0 || rows[rowOf[i]].Seq != w.seq):
					t.Errorf("request %d: row %d, want seq %d (rows %+v)", i, rowOf[i], w.seq, rows)
				case w.outcome != fresh && rowOf[i] >= 0:
					t.Errorf("request %d: got row %+v, want none", i, rows[rowOf[i]])
				case w.outcome == repeat && p.first[i] != w.first:
					t.Errorf("request %d repeats %d, want %d", i, p.first[i], w.first)
				}
			}
			if got := readMarkers(rows); !slices.Equal(got, tc.marks) {
				t.Errorf("read markers = %+v, want %+v", got, tc.marks)
			}

			// Once committed, each request gets its answer.
			for i := range rows {
				rows[i].ID = int64(100 + i)
			}
			res := p.answers(tc.ms, rows, rowOf, tc.senders)
			for i, w := range tc.want {
				r := res[i]
				switch w.outcome {
				case fresh:
					m := tc.ms[i]
					if r.err != nil || !r.val.created || r.val.msg.Seq != w.seq || r.val.msg.Body != m.Body ||
						r.val.msg.Sender.Username != tc.senders[member{m.GroupID, m.SenderID}].Username {
						t.Errorf("answer %d = %+v, want the new message with seq %d", i, r, w.seq)
					}
				case storedBefore:
					if r.err != nil || r.val.created || r.val.msg.ID != original.ID {
						t.Errorf("answer %d = %+v, want the original", i, r)
					}
				case repeat:
					f := res[w.first]
					if r.val.created || r.val.msg.ID != f.val.msg.ID || !errors.Is(r.err, f.err) {
						t.Errorf("answer %d = %+v, want that of request %d (%+v) without created", i, r, w.first, f)
					}
				case notMember:
					if !errors.Is(r.err, chat.ErrNoMembership) || r.val.msg.ID != 0 {
						t.Errorf("answer %d = %+v, want ErrNoMembership", i, r)
					}
				}
			}
		})
	}
}

func TestBatchReads(t *testing.T) {
	a, b := "a", "b"
	ms := []chat.NewMessage{
		{GroupID: 1, SenderID: 10, ClientID: &a}, {GroupID: 1, SenderID: 10, ClientID: &a},
		{GroupID: 2, SenderID: 10}, {GroupID: 1, SenderID: 11, ClientID: &b}, {GroupID: 1, SenderID: 10, ClientID: new("")},
	}
	if got, want := clientKeys(ms), []clientKey{{1, 10, "a"}, {1, 11, "b"}}; !slices.Equal(got, want) {
		t.Errorf("clientKeys = %+v, want %+v", got, want)
	}
	if got, want := senderPairs(ms), []member{{1, 10}, {2, 10}, {1, 11}}; !slices.Equal(got, want) {
		t.Errorf("senderPairs = %+v, want %+v", got, want)
	}
}

func TestOneStatement(t *testing.T) {
	plain := chat.NewMessage{GroupID: 1, SenderID: 2, Body: "hello", ClientID: new("c1")}
	with := func(f func(m *chat.NewMessage)) []chat.NewMessage {
		m := plain
		f(&m)
		return []chat.NewMessage{m}
	}
	tests := []struct {
		name string
		d    dialect
		ms   []chat.NewMessage
		want bool
	}{
		{"a lone plain send", dialectPostgres, []chat.NewMessage{plain}, true},
		{"an e-mail address names no one", dialectPostgres, with(func(m *chat.NewMessage) { m.Body = "write to bob@example.com" }), true},
		{"a possible mention", dialectPostgres, with(func(m *chat.NewMessage) { m.Body = "hi @bob" }), false},
		{"a reply", dialectPostgres, with(func(m *chat.NewMessage) { m.ReplyTo = new(int64(7)) }), false},
		{"attachments", dialectPostgres, with(func(m *chat.NewMessage) { m.Attachments = []int64{3} }), false},
		{"a few sends", dialectPostgres, []chat.NewMessage{plain, {GroupID: 3, SenderID: 4, Body: "x"}, {GroupID: 1, SenderID: 2, Body: "y", ClientID: new("")}}, true},
		{"a client_id twice", dialectPostgres, []chat.NewMessage{plain, plain}, false},
		{"one of a few is not plain", dialectPostgres, []chat.NewMessage{plain, {GroupID: 1, SenderID: 2, Body: "@bob"}}, false},
		{"too many", dialectPostgres, slices.Repeat([]chat.NewMessage{{GroupID: 1, SenderID: 2, Body: "x"}}, fewMax+1), false},
		{"as many as may", dialectPostgres, slices.Repeat([]chat.NewMessage{{GroupID: 1, SenderID: 2, Body: "x"}}, fewMax), true},
		{"SQLite", dialectSQLite, []chat.NewMessage{plain}, false},
	}
	for _, tc := range tests {
		if got := oneStatement(tc.d, tc.ms); got != tc.want {
			t.Errorf("%s: oneStatement = %v, want %v", tc.name, got, tc.want)
		}
	}
}

package store

import (
	"fmt"
	"time"

	"github.com/chatapp/chat/chat"
)

// The plan of one group commit (see insertBatch): pure functions from the
// requests and what the batch's transaction read to what it stores and
// answers. They touch no database, so every case is a table test
// (batchplan_test.go).

// clientKey identifies an idempotent send.
type clientKey struct {
	group, sender int64
	client        string
}

func keyOf(m chat.NewMessage) (clientKey, bool) {
	id := m.StoredClientID()
	if id == nil {
		return clientKey{}, false
	}
	return clientKey{m.GroupID, m.SenderID, *id}, true
}

// member names a membership: a group and a user.
type member struct{ group, user int64 }

// clientKeys lists the requests' idempotency keys, each once, in request
// order: the originals to read.
func clientKeys(ms []chat.NewMessage) []clientKey {
	var keys []clientKey
	seen := map[clientKey]bool{}
	for _, m := range ms {
		if k, ok := keyOf(m); ok && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	return keys
}

// senderPairs lists the requests' (group, sender) pairs, each once, in
// request order: the memberships to read.
func senderPairs(ms []chat.NewMessage) []member {
	var pairs []member
	seen := make(map[member]bool, len(ms))
	for _, m := range ms {
		if k := (member{m.GroupID, m.SenderID}); !seen[k] {
			seen[k] = true
			pairs = append(pairs, k)
		}
	}
	return pairs
}

// outcome is what becomes of one request of a batch.
type outcome int

const (
	fresh        outcome = iota // a new message: it takes a seq
	storedBefore                // a repeat of a message stored before the batch
	repeat                      // a repeat of an earlier request of the batch
	notMember                   // the sender is not a member of the group
	badReply                    // it answers a message that is not in its group
	badFiles                    // it names attachments it may not send
)

// groupNeed is how many seqs a group's new messages take, and the time of
// the last of them (the group's activity).
type groupNeed struct {
	group  int64
	n      int64
	lastAt time.Time
}

// batchPlan is what a batch does with each request.
type batchPlan struct {
	outcomes []outcome
	// original answers a storedBefore request; first names the fresh
	// request a repeat repeats.
	original map[int]chat.Message
	first    map[int]int
	// groups are the groups that get new messages, in the order of their
	// first one.
	groups []groupNeed
}

// planBatch decides each request from what the batch's transaction read:
// stored, the messages already stored under the requests' client_ids, and
// senders, the memberships that exist (with the senders' public columns).
// Membership comes first, for repeats too: a sender removed from the group
// must not get a stored message back by repeating its client_id. targets
// are the groups of the messages the requests answer (replyTargets); a
// repeat answers with its original whatever it answers.
//
// uploads are the attachments the requests name (uploads): each must be
// the sender's, to the request's group, not sent yet, and not taken by an
// earlier request of the batch.
func planBatch(ms []chat.NewMessage, stored map[clientKey]chat.Message, senders map[member]userRow, targets map[int64]int64, uploads map[int64]upload) batchPlan {
	p := batchPlan{outcomes: make([]outcome, len(ms)), original: map[int]chat.Message{}, first: map[int]int{}}
	taken := map[int64]bool{}
	firstOf := map[clientKey]int{}
	need := map[int64]int{} // index into p.groups
	for i, m := range ms {
		if _, ok := senders[member{m.GroupID, m.SenderID}]; !ok {
			p.outcomes[i] = notMember
			continue
		}
		if k, ok := keyOf(m); ok {
			if orig, found := stored[k]; found {
				p.outcomes[i], p.original[i] = storedBefore, orig
				continue
			}
			if j, found := firstOf[k]; found {
				p.outcomes[i], p.first[i] = repeat, j
				continue
			}
			firstOf[k] = i
		}
		bad := outcome(fresh)
		if m.ReplyTo != nil {
			if g, ok := targets[*m.ReplyTo]; !ok || g != m.GroupID {
				bad = badReply
			}
		}
		for _, a := range m.Attachments {
			if u, ok := uploads[a]; !ok || u.sent || taken[a] || u.group != m.GroupID || u.uploader != m.SenderID {
				bad = badFiles
			}
		}
		if bad != fresh {
			p.outcomes[i] = bad
			if k, ok := keyOf(m); ok && firstOf[k] == i {
				delete(firstOf, k)
			}
			continue
		}
		for _, a := range m.Attachments {
			taken[a] = true
		}
		p.outcomes[i] = fresh
		g, ok := need[m.GroupID]
		if !ok {
			g = len(p.groups)
			need[m.GroupID] = g
			p.groups = append(p.groups, groupNeed{group: m.GroupID})
		}
		p.groups[g].n++
		p.groups[g].lastAt = m.At
	}
	return p
}

// oneStatement decides which batches take the one-statement path
// (insertFew) instead of insertBatch's transaction: on Postgres, a batch of
// up to fewMax plain messages, with no reply, no attachment and no "@" that
// may be a mention (resolving one needs the members' names first), and no
// client_id twice (the repeat answers with the first's message). SQLite
// runs in-process, where a round trip costs no network; it keeps
// insertBatch.
func oneStatement(d dialect, ms []chat.NewMessage) bool {
	if d != dialectPostgres || len(ms) == 0 || len(ms) > fewMax {
		return false
	}
	ids := 0
	for _, m := range ms {
		if m.ReplyTo != nil || len(m.Attachments) > 0 || len(chat.ParseMentions(m.Body)) > 0 {
			return false
		}
		if m.StoredClientID() != nil {
			ids++
		}
	}
	return ids == len(clientKeys(ms))
}

// number gives the fresh requests their rows: last holds each group's
// last_seq after the batch added its need, so a group's new messages take
// the seqs up to it in request order. A group missing from last was
// deleted after its membership was read (the delete took the group's row
// lock first): its requests have no membership any more. It returns the
// rows and, per request, the index of its row (-1: none).
func (p *batchPlan) number(ms []chat.NewMessage, last map[int64]int64) (rows []messageRow, rowOf []int) {
	next := make(map[int64]int64, len(p.groups))
	for _, g := range p.groups {
		if l, ok := last[g.group]; ok {
			next[g.group] = l - g.n + 1
		}
	}
	rowOf = make([]int, len(ms))
	for i, m := range ms {
		rowOf[i] = -1
		if p.outcomes[i] != fresh {
			continue
		}
		seq, ok := next[m.GroupID]
		if !ok {
			p.outcomes[i] = notMember
			continue
		}
		next[m.GroupID] = seq + 1
		rowOf[i] = len(rows)
		rows = append(rows, messageRow{GroupID: m.GroupID, Seq: seq, SenderID: m.SenderID, Body: m.Body, ClientID: m.StoredClientID(), CreatedAt: m.At, ReplyToID: m.ReplyTo, Decorated: len(m.Attachments) > 0})
	}
	return rows, rowOf
}

// answers are the batch's results once it is committed: rows hold the ids
// the insert gave them.
func (p *batchPlan) answers(ms []chat.NewMessage, rows []messageRow, rowOf []int, senders map[member]userRow) []batchResult[inserted] {
	res := make([]batchResult[inserted], len(ms))
	for i, m := range ms {
		switch p.outcomes[i] {
		case fresh:
			r := rows[rowOf[i]]
			res[i].val = freshAnswer(r, senders[member{r.GroupID, r.SenderID}])
		case storedBefore:
			res[i].val = inserted{msg: p.original[i]}
		case repeat:
			// Requests are in order: the first is already answered.
			first := res[p.first[i]]
			res[i] = batchResult[inserted]{val: inserted{msg: first.val.msg}, err: first.err}
		case notMember:
			res[i].err = fmt.Errorf("group %d, user %d: %w", m.GroupID, m.SenderID, chat.ErrNoMembership)
		case badReply:
			res[i].err = ErrReplyElsewhere
		case badFiles:
			res[i].err = ErrNotYourUpload
		}
	}
	return res
}

// freshAnswer is the answer to a send that stored row r (with its id), sent
// by u.
func freshAnswer(r messageRow, u userRow) inserted {
	return inserted{created: true, msg: messageView{
		Msg: r, SenderUsername: u.Username, SenderDisplayName: u.DisplayName, SenderCreatedAt: u.CreatedAt,
	}.message()}
}

// ErrReplyElsewhere answers a send whose reply_to_id names no message of
// its group (a missing one, or another group's: the sender learns nothing
// of other groups).
var ErrReplyElsewhere = chat.Invalid(map[string]string{"reply_to_id": "must be a message of this group"})

// ErrNotYourUpload answers a send naming an attachment that is missing,
// another user's or group's, or in a message already.
var ErrNotYourUpload = chat.Invalid(map[string]string{"attachment_ids": "must be your own uploads to this group, not yet in a message"})

// readMarkers is each sender's highest new seq in each group, in order of
// first appearance: where the batch moves their read markers.
func readMarkers(rows []messageRow) []memberSeq {
	var out []memberSeq
	at := map[member]int{}
	for _, r := range rows {
		k := member{r.GroupID, r.SenderID}
		i, ok := at[k]
		if !ok {
			i = len(out)
			at[k] = i
			out = append(out, memberSeq{member: k})
		}
		out[i].seq = max(out[i].seq, r.Seq)
	}
	return out
}

// memberSeq is a read marker to move.
type memberSeq struct {
	member
	seq int64
}

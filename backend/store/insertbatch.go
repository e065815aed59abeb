package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/chatapp/chat/chat"
)

// Group commit of message inserts (see batcher), the one way a message is
// stored: a lone send is a batch of one. On Postgres a batch of up to
// fewMax plain messages runs as one statement (oneStatement, insertFew in
// lonesend.go); every other batch, and a small one that statement cannot
// answer, is one transaction of set-based statements, whatever its size:
//
//  1. read the originals of client_ids already stored (only when some
//     request has one);
//  2. read the senders' memberships with the senders' public columns;
//  3. plan (planBatch): a request whose sender is not a member of its
//     group fails alone with chat.ErrNoMembership and takes no seq, a
//     repeat of a stored client_id too (the check is part of the
//     transaction, so the send path needs no read of its own before it);
//     a repeat answers with its original; the others are new;
//  4. lock the batch's groups in id order and add to each group's last_seq
//     the number of its new messages, returning the new last_seq; the
//     messages of one group are numbered consecutively in request order;
//  5. insert all new rows at once;
//  6. move the senders' read markers to their highest new seq.
//
// The statements run on database/sql directly, not through GORM: they are
// the hot path and their arguments are whole columns (see dialect.rows).

const (
	// maxBatch bounds one group commit: 256 rows of 8 parameters stay far
	// below SQLite's limit on bound parameters, and a batch this large
	// already amortizes the commit.
	maxBatch = 256
	// batchTimeout bounds one batch, whose callers may have long deadlines
	// or none.
	batchTimeout = 30 * time.Second
	// raceTries bounds the tries of a lone send that keeps meeting its own
	// client_id stored by another instance meanwhile.
	raceTries = 3
)

// inserted is the answer to one InsertMessage.
type inserted struct {
	msg     chat.Message
	created bool
}

// errBatchRace rolls a batch back when a client_id it took for new was
// stored meanwhile by another instance; its requests are then tried again
// one by one, and find the other instance's message.
var errBatchRace = errors.New("client_id stored concurrently")

// commitInserts is the batcher's commit function. A batch that
// oneStatement accepts tries insertFew first; what that leaves, and every
// other batch, goes through commitBatch.
func (s *Store) commitInserts(ctx context.Context, ms []chat.NewMessage) []batchResult[inserted] {
	if !oneStatement(s.d, ms) {
		return s.commitBatch(ctx, ms)
	}
	res, rest, err := s.insertFew(ctx, ms)
	switch {
	case err != nil:
		return failAll(len(ms), err)
	case len(rest) == 0:
		return res
	case len(rest) == len(ms):
		return s.commitBatch(ctx, ms)
	}
	// The statement stored the others: these are of a group deleted
	// meanwhile, which insertBatch answers.
	sub := make([]chat.NewMessage, len(rest))
	for j, i := range rest {
		sub[j] = ms[i]
	}
	for j, r := range s.commitBatch(ctx, sub) {
		res[rest[j]] = r
	}
	return res
}

// failAll answers every request of a batch of n with err.
func failAll(n int, err error) []batchResult[inserted] {
	res := make([]batchResult[inserted], n)
	for i := range res {
		res[i].err = err
	}
	return res
}

// commitBatch commits a batch through insertBatch's transaction. A batch
// that never reached the database (its connection had been dropped) is
// tried again at once. A batch failure that may come from one request (a
// unique, foreign-key or data error, a deadlock) makes the requests run
// again as batches of one, so one bad request fails alone; a failure of the
// database itself fails them all.
func (s *Store) commitBatch(ctx context.Context, ms []chat.NewMessage) []batchResult[inserted] {
	res, err := s.insertBatch(ctx, ms)
	if connClosed(err) {
		res, err = s.insertBatch(ctx, ms)
	}
	if err == nil {
		return res
	}
	if errors.Is(classify(err), chat.ErrUnavailable) || ctx.Err() != nil || s.closed.Load() ||
		(len(ms) == 1 && !errors.Is(err, errBatchRace)) {
		return failAll(len(ms), err)
	}
	res = make([]batchResult[inserted], len(ms))
	s.log.DebugContext(ctx, "group commit failed; inserting one by one", "size", len(ms), "err", err)
	for i, m := range ms {
		res[i] = s.insertAlone(ctx, m)
	}
	return res
}

// insertAlone commits one request as a batch of its own. A client_id race
// is tried again: the other instance's message is committed by then (ON
// CONFLICT waited for it), so the next try answers with it.
func (s *Store) insertAlone(ctx context.Context, m chat.NewMessage) batchResult[inserted] {
	var err error
	for range raceTries {
		var res []batchResult[inserted]
		if res, err = s.insertBatch(ctx, []chat.NewMessage{m}); err == nil {
			return res[0]
		}
		if !errors.Is(err, errBatchRace) {
			break
		}
	}
	return batchResult[inserted]{err: err}
}

// insertBatch stores a batch in one transaction. Outcomes of one request
// that need no rollback (its sender is not a member) are in that request's
// result; any other error fails the whole batch.
func (s *Store) insertBatch(ctx context.Context, ms []chat.NewMessage) ([]batchResult[inserted], error) {
	tx, err := s.wsql.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()

	stored, err := s.originals(ctx, tx, clientKeys(ms))
	if err != nil {
		return nil, fmt.Errorf("read originals: %w", err)
	}
	senders, err := s.senders(ctx, tx, senderPairs(ms))
	if err != nil {
		return nil, fmt.Errorf("read memberships: %w", err)
	}
	targets, err := s.replyTargets(ctx, tx, ms)
	if err != nil {
		return nil, fmt.Errorf("read reply targets: %w", err)
	}
	files, err := s.uploads(ctx, tx, ms, ts(s.now()))
	if err != nil {
		return nil, fmt.Errorf("read attachments: %w", err)
	}
	p := planBatch(ms, stored, senders, targets, files)
	last, err := s.allocateSeqs(ctx, tx, p.groups)
	if err != nil {
		return nil, fmt.Errorf("allocate seqs: %w", err)
	}
	rows, rowOf := p.number(ms, last)
	if err := s.mentionRows(ctx, tx, rows); err != nil {
		return nil, fmt.Errorf("resolve mentions: %w", err)
	}
	if err := s.insertRows(ctx, tx, rows); err != nil {
		return nil, err
	}
	if err := s.recordMentions(ctx, tx, rows); err != nil {
		return nil, fmt.Errorf("record mentions: %w", err)
	}
	if err := s.moveReadMarkers(ctx, tx, readMarkers(rows)); err != nil {
		return nil, fmt.Errorf("move read markers: %w", err)
	}
	if err := s.attach(ctx, tx, ms, rows, rowOf); err != nil {
		return nil, fmt.Errorf("attach: %w", err)
	}
	res := p.answers(ms, rows, rowOf, senders)
	if err := s.hydrateAnswers(ctx, tx, ms, res, &p); err != nil {
		return nil, fmt.Errorf("hydrate: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return res, nil
}

// hydrateAnswers reads, in the batch's transaction, what the answers carry
// beside their rows: originals everything (they may have reactions by
// now), new messages their reply previews and attachments. A plain new
// message (most of them) needs no read.
func (s *Store) hydrateAnswers(ctx context.Context, tx *sql.Tx, ms []chat.NewMessage, res []batchResult[inserted], p *batchPlan) error {
	outcomes := p.outcomes
	var need []chat.Message
	var at []int
	for i, o := range outcomes {
		if (o == fresh && (ms[i].ReplyTo != nil || len(ms[i].Attachments) > 0)) || o == storedBefore {
			need = append(need, res[i].val.msg)
			at = append(at, i)
		}
	}
	if err := s.hydrate(ctx, tx, need); err != nil {
		return err
	}
	for j, i := range at {
		res[i].val.msg = need[j]
	}
	// Repeats within the batch answer with their first's message.
	for i, o := range outcomes {
		if o == repeat {
			res[i].val.msg = res[p.first[i]].val.msg
		}
	}
	return nil
}

// originals returns the stored messages of the given idempotency keys.
func (s *Store) originals(ctx context.Context, tx *sql.Tx, keys []clientKey) (map[clientKey]chat.Message, error) {
	out := map[clientKey]chat.Message{}
	if len(keys) == 0 {
		return out, nil
	}
	gs, ss, cs := make([]int64, len(keys)), make([]int64, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		gs[i], ss[i], cs[i] = k.group, k.sender, k.client
	}
	src, args := s.d.rows(len(keys), int64s(gs), int64s(ss), texts(cs))
	rs, err := tx.QueryContext(ctx, `WITH k(gid, sid, cid) AS (`+src+`) `+messageSelect+`
	JOIN k ON msg.group_id = k.gid AND msg.sender_id = k.sid AND msg.client_id = k.cid
WHERE msg.client_id IS NOT NULL`, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	for rs.Next() {
		var v messageView
		if err := rs.Scan(v.fields()...); err != nil {
			return nil, err
		}
		out[clientKey{v.Msg.GroupID, v.Msg.SenderID, *v.Msg.ClientID}] = v.message()
	}
	return out, rs.Err()
}

// senders reads the memberships of the given (group, sender) pairs that
// exist, each with the sender's public columns. A pair missing from the
// answer is a sender who is not a member of the group (or a group or user
// that does not exist).
func (s *Store) senders(ctx context.Context, tx *sql.Tx, pairs []member) (map[member]userRow, error) {
	gs, us := make([]int64, len(pairs)), make([]int64, len(pairs))
	for i, p := range pairs {
		gs[i], us[i] = p.group, p.user
	}
	src, args := s.d.rows(len(pairs), int64s(gs), int64s(us))
	rs, err := tx.QueryContext(ctx, `WITH v(gid, uid) AS (`+src+`)
SELECT m.group_id, u.id, u.username, u.display_name, u.created_at
FROM v JOIN memberships m ON m.group_id = v.gid AND m.user_id = v.uid
JOIN users u ON u.id = m.user_id`, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := make(map[member]userRow, len(pairs))
	for rs.Next() {
		var g int64
		var u userRow
		if err := rs.Scan(&g, &u.ID, &u.Username, &u.DisplayName, &u.CreatedAt); err != nil {
			return nil, err
		}
		out[member{g, u.ID}] = u
	}
	return out, rs.Err()
}

// allocateSeqs adds each group's need to its last_seq (for the groups that
// exist) and returns the new values. The row locks serialize the senders of
// a group until commit, so seqs are gapless and commit in order.
func (s *Store) allocateSeqs(ctx context.Context, tx *sql.Tx, groups []groupNeed) (map[int64]int64, error) {
	out := make(map[int64]int64, len(groups))
	if len(groups) == 0 {
		return out, nil
	}
	ids, ns, ats := make([]int64, len(groups)), make([]int64, len(groups)), make([]time.Time, len(groups))
	for i, g := range groups {
		ids[i], ns[i], ats[i] = g.group, g.n, g.lastAt
	}
	src, args := s.d.rows(len(groups), int64s(ids), int64s(ns), times(ats))
	lock, join := s.d.lockGroups()
	rs, err := tx.QueryContext(ctx, `WITH v(gid, n, at) AS (`+src+`)`+lock+`
UPDATE groups SET last_seq = last_seq + v.n, last_activity_at = v.at
FROM v`+join+` WHERE groups.id = v.gid
RETURNING id, last_seq`, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	for rs.Next() {
		var id, last int64
		if err := rs.Scan(&id, &last); err != nil {
			return nil, err
		}
		out[id] = last
	}
	return out, rs.Err()
}

// insertRows inserts the batch's new rows and fills in their ids. A row
// that conflicts on its client_id was stored by another instance after the
// originals were read: the batch fails with errBatchRace (it holds seqs
// that must not be used).
func (s *Store) insertRows(ctx context.Context, tx *sql.Tx, rows []messageRow) error {
	if len(rows) == 0 {
		return nil
	}
	n := len(rows)
	gs, seqs, ss, bodies, cids, ats := make([]int64, n), make([]int64, n), make([]int64, n), make([]string, n), make([]*string, n), make([]time.Time, n)
	replies, decorated, mentions := make([]*int64, n), make([]bool, n), make([]string, n)
	for i, r := range rows {
		gs[i], seqs[i], ss[i], bodies[i], cids[i], ats[i] = r.GroupID, r.Seq, r.SenderID, r.Body, r.ClientID, r.CreatedAt
		replies[i], decorated[i], mentions[i] = r.ReplyToID, r.Decorated, r.MentionIDs
	}
	src, args := s.d.rows(n, int64s(gs), int64s(seqs), int64s(ss), texts(bodies), optionalTexts(cids), times(ats),
		optionalInt64s(replies), bools(decorated), texts(mentions))
	// "WHERE true" tells SQLite that ON CONFLICT is the upsert clause, not
	// a join's.
	rs, err := tx.QueryContext(ctx, `WITH v(group_id, seq, sender_id, body, client_id, created_at, reply_to_id, decorated, mention_ids) AS (`+src+`)
INSERT INTO messages (group_id, seq, sender_id, body, client_id, created_at, reply_to_id, decorated, mention_ids) SELECT * FROM v WHERE true
ON CONFLICT (group_id, sender_id, client_id) WHERE client_id IS NOT NULL DO NOTHING
RETURNING id, group_id, seq`, args...)
	if err != nil {
		return fmt.Errorf("insert: %w", err)
	}
	defer rs.Close()
	type groupSeq struct{ group, seq int64 }
	ids := make(map[groupSeq]int64, n)
	for rs.Next() {
		var id, g, seq int64
		if err := rs.Scan(&id, &g, &seq); err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		ids[groupSeq{g, seq}] = id
	}
	if err := rs.Err(); err != nil {
		return fmt.Errorf("insert: %w", err)
	}
	if len(ids) != n {
		return errBatchRace
	}
	for i := range rows {
		rows[i].ID = ids[groupSeq{rows[i].GroupID, rows[i].Seq}]
	}
	return nil
}

// moveReadMarkers moves read markers forward to the given seqs (never
// back).
func (s *Store) moveReadMarkers(ctx context.Context, tx *sql.Tx, marks []memberSeq) error {
	if len(marks) == 0 {
		return nil
	}
	gs, us, seqs := make([]int64, len(marks)), make([]int64, len(marks)), make([]int64, len(marks))
	for i, m := range marks {
		gs[i], us[i], seqs[i] = m.group, m.user, m.seq
	}
	src, args := s.d.rows(len(marks), int64s(gs), int64s(us), int64s(seqs))
	_, err := tx.ExecContext(ctx, `WITH v(gid, uid, seq) AS (`+src+`)
UPDATE memberships SET last_read_seq = v.seq FROM v
WHERE memberships.group_id = v.gid AND memberships.user_id = v.uid AND memberships.last_read_seq < v.seq`, args...)
	return err
}

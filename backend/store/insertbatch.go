package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/chatapp/chat/chat"
)

// Group commit of message inserts (see batcher). One batch is one
// transaction of set-based statements, whatever its size:
//
//  1. read the originals of client_ids already stored (only when some
//     request has one): those requests take no seq;
//  2. read the senders' memberships with the senders' public columns: a
//     request whose sender is not a member of its group fails alone with
//     chat.ErrNoMembership and takes no seq, a repeat of a stored client_id
//     too (the check is part of the transaction, so the send path needs no
//     read of its own before it);
//  3. lock the batch's groups in id order and add to each group's last_seq
//     the number of its new messages, returning the new last_seq; the
//     messages of one group are numbered consecutively in request order;
//  4. insert all new rows at once;
//  5. move the senders' read markers to their highest new seq.
//
// The statements run on database/sql directly, not through GORM: they are
// the hot path, their arguments are whole columns (Postgres arrays, which
// GORM would expand into lists), and they are written per dialect anyway.
// On Postgres the arrays keep each statement's text fixed, so pgx prepares
// it once per connection whatever the batch size.

const (
	// maxBatch bounds one group commit: 256 rows of 6 parameters stay far
	// below SQLite's limit on bound parameters, and a batch this large
	// already amortizes the commit.
	maxBatch = 256
	// batchTimeout bounds one batch, whose callers may have long deadlines
	// or none.
	batchTimeout = 30 * time.Second
)

// inserted is the answer to one InsertMessage.
type inserted struct {
	msg     chat.Message
	created bool
}

// errBatchRace rolls a batch back when a client_id it took for new was
// stored meanwhile by another instance; the requests then run one by one.
var errBatchRace = errors.New("client_id stored concurrently")

// clientKey identifies an idempotent send.
type clientKey struct {
	group, sender int64
	client        string
}

func keyOf(m chat.NewMessage) (clientKey, bool) {
	if m.ClientID == nil {
		return clientKey{}, false
	}
	return clientKey{m.GroupID, m.SenderID, *m.ClientID}, true
}

// commitInserts is the batcher's commit function. A batch failure that may
// come from one request (a unique, foreign-key or data error, a deadlock)
// makes the requests run one by one in their own transactions, so one bad
// request fails alone; a failure of the database itself fails them all.
func (s *Store) commitInserts(ctx context.Context, ms []chat.NewMessage) []batchResult[inserted] {
	res, err := s.insertBatch(ctx, ms)
	if err == nil {
		return res
	}
	res = make([]batchResult[inserted], len(ms))
	if errors.Is(classify(err), chat.ErrUnavailable) || ctx.Err() != nil || s.closed.Load() {
		for i := range res {
			res[i].err = err
		}
		return res
	}
	s.log.DebugContext(ctx, "group commit failed; inserting one by one", "size", len(ms), "err", err)
	for i, m := range ms {
		msg, created, err := s.insertOne(ctx, m)
		res[i] = batchResult[inserted]{val: inserted{msg, created}, err: err}
	}
	return res
}

// insertBatch stores a batch in one transaction. Errors that concern one
// request only and need no rollback (its group does not exist) are in that
// request's result; any other error fails the whole batch.
func (s *Store) insertBatch(ctx context.Context, ms []chat.NewMessage) ([]batchResult[inserted], error) {
	res := make([]batchResult[inserted], len(ms))
	tx, err := s.wsql.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()

	var existing map[clientKey]chat.Message
	var keys []clientKey
	seen := map[clientKey]int{} // first request of each key in the batch
	for _, m := range ms {
		if k, ok := keyOf(m); ok {
			if _, dup := seen[k]; !dup {
				seen[k] = -1
				keys = append(keys, k)
			}
		}
	}
	if len(keys) > 0 {
		if existing, err = s.messagesByClientKeys(ctx, tx, keys); err != nil {
			return nil, fmt.Errorf("read originals: %w", err)
		}
	}

	senders, err := s.senders(ctx, tx, ms)
	if err != nil {
		return nil, fmt.Errorf("read memberships: %w", err)
	}

	// Plan: which requests are new, which repeat another one of the batch
	// (dupOf), and how many seqs each group needs.
	dupOf := make([]int, len(ms))
	var fresh []int
	need := map[int64]int64{}
	lastAt := map[int64]time.Time{}
	var groupOrder []int64
	for i, m := range ms {
		dupOf[i] = -1
		// Membership first, repeats included: a sender removed from the
		// group must not get a stored message back by repeating its
		// client_id.
		if _, ok := senders[member{m.GroupID, m.SenderID}]; !ok {
			res[i].err = fmt.Errorf("group %d, user %d: %w", m.GroupID, m.SenderID, chat.ErrNoMembership)
			continue
		}
		if k, ok := keyOf(m); ok {
			if orig, found := existing[k]; found {
				res[i].val = inserted{msg: orig}
				continue
			}
			if first := seen[k]; first >= 0 {
				dupOf[i] = first
				continue
			}
		}
		if k, ok := keyOf(m); ok {
			seen[k] = i
		}
		if _, ok := need[m.GroupID]; !ok {
			groupOrder = append(groupOrder, m.GroupID)
		}
		need[m.GroupID]++
		lastAt[m.GroupID] = m.At
		fresh = append(fresh, i)
	}

	// next[g] is the seq the next new message of group g takes.
	next := map[int64]int64{}
	if len(groupOrder) > 0 {
		last, err := s.allocateSeqs(ctx, tx, groupOrder, need, lastAt)
		if err != nil {
			return nil, fmt.Errorf("allocate seqs: %w", err)
		}
		for g, l := range last {
			next[g] = l - need[g] + 1
		}
	}
	rows := make([]messageRow, 0, len(fresh))
	rowOf := make([]int, len(ms)) // index into rows, or -1
	for i := range rowOf {
		rowOf[i] = -1
	}
	for _, i := range fresh {
		m := ms[i]
		seq, ok := next[m.GroupID]
		if !ok {
			// The group was deleted after its membership was read (the
			// delete took the group's row lock first): no membership now.
			res[i].err = fmt.Errorf("group %d: %w", m.GroupID, chat.ErrNoMembership)
			continue
		}
		next[m.GroupID] = seq + 1
		rowOf[i] = len(rows)
		rows = append(rows, messageRow{GroupID: m.GroupID, Seq: seq, SenderID: m.SenderID, Body: m.Body, ClientID: m.ClientID, CreatedAt: m.At})
	}

	if len(rows) > 0 {
		if err := s.insertRows(ctx, tx, rows); err != nil {
			return nil, err
		}
		if err := s.moveReadMarkers(ctx, tx, rows); err != nil {
			return nil, fmt.Errorf("move read markers: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}

	for i := range ms {
		if r := rowOf[i]; r >= 0 {
			u := senders[member{rows[r].GroupID, rows[r].SenderID}]
			res[i].val = inserted{created: true, msg: messageView{
				Msg: rows[r], SenderUsername: u.Username, SenderDisplayName: u.DisplayName, SenderCreatedAt: u.CreatedAt,
			}.message()}
		}
	}
	// Repeats within the batch answer with their first request's outcome;
	// requests are in order, so the first is already decided.
	for i, first := range dupOf {
		if first >= 0 {
			res[i] = batchResult[inserted]{val: inserted{msg: res[first].val.msg}, err: res[first].err}
		}
	}
	return res, nil
}

// messagesByClientKeys returns the stored messages of the given idempotency
// keys.
func (s *Store) messagesByClientKeys(ctx context.Context, tx *sql.Tx, keys []clientKey) (map[clientKey]chat.Message, error) {
	var q string
	var args []any
	if s.d == dialectPostgres {
		gs, ss, cs := make([]int64, len(keys)), make([]int64, len(keys)), make([]string, len(keys))
		for i, k := range keys {
			gs[i], ss[i], cs[i] = k.group, k.sender, k.client
		}
		q = messageSelect + ` JOIN unnest($1::bigint[], $2::bigint[], $3::text[]) AS k(gid, sid, cid)
	ON msg.group_id = k.gid AND msg.sender_id = k.sid AND msg.client_id = k.cid
WHERE msg.client_id IS NOT NULL`
		args = []any{gs, ss, cs}
	} else {
		for _, k := range keys {
			args = append(args, k.group, k.sender, k.client)
		}
		q = `WITH k(gid, sid, cid) AS (VALUES ` + placeholders(len(keys), 3) + `) ` + messageSelect + `
	JOIN k ON msg.group_id = k.gid AND msg.sender_id = k.sid AND msg.client_id = k.cid
WHERE msg.client_id IS NOT NULL`
	}
	rs, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := map[clientKey]chat.Message{}
	for rs.Next() {
		var v messageView
		m := &v.Msg
		if err := rs.Scan(&m.ID, &m.GroupID, &m.Seq, &m.SenderID, &m.Body, &m.ClientID, &m.CreatedAt, &m.EditedAt, &m.DeletedAt,
			&v.SenderUsername, &v.SenderDisplayName, &v.SenderCreatedAt); err != nil {
			return nil, err
		}
		out[clientKey{m.GroupID, m.SenderID, *m.ClientID}] = v.message()
	}
	return out, rs.Err()
}

// allocateSeqs adds need[g] to the last_seq of every group g that exists and
// returns the new values. The row locks serialize the senders of a group
// until commit, so seqs are gapless and commit in order. On Postgres the
// rows are locked in id order first, so that two instances committing
// batches with common groups cannot deadlock.
func (s *Store) allocateSeqs(ctx context.Context, tx *sql.Tx, groups []int64, need map[int64]int64, lastAt map[int64]time.Time) (map[int64]int64, error) {
	var q string
	var args []any
	if s.d == dialectPostgres {
		ns, ats := make([]int64, len(groups)), make([]time.Time, len(groups))
		for i, g := range groups {
			ns[i], ats[i] = need[g], lastAt[g]
		}
		q = `WITH v(id, n, at) AS (SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[])),
locked AS MATERIALIZED (SELECT id FROM groups WHERE id IN (SELECT id FROM v) ORDER BY id FOR UPDATE)
UPDATE groups g SET last_seq = g.last_seq + v.n, last_activity_at = v.at
FROM v JOIN locked ON locked.id = v.id
WHERE g.id = v.id
RETURNING g.id, g.last_seq`
		args = []any{groups, ns, ats}
	} else {
		for _, g := range groups {
			args = append(args, g, need[g], lastAt[g])
		}
		q = `WITH v(gid, n, at) AS (VALUES ` + placeholders(len(groups), 3) + `)
UPDATE groups SET last_seq = last_seq + v.n, last_activity_at = v.at FROM v WHERE groups.id = v.gid
RETURNING id, last_seq`
	}
	rs, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := make(map[int64]int64, len(groups))
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
// that must not be used) and its requests run one by one.
func (s *Store) insertRows(ctx context.Context, tx *sql.Tx, rows []messageRow) error {
	const conflict = ` ON CONFLICT (group_id, sender_id, client_id) WHERE client_id IS NOT NULL DO NOTHING RETURNING id, group_id, seq`
	var q string
	var args []any
	if s.d == dialectPostgres {
		n := len(rows)
		gs, seqs, ss, bodies, cids, ats := make([]int64, n), make([]int64, n), make([]int64, n), make([]string, n), make([]*string, n), make([]time.Time, n)
		for i, r := range rows {
			gs[i], seqs[i], ss[i], bodies[i], cids[i], ats[i] = r.GroupID, r.Seq, r.SenderID, r.Body, r.ClientID, r.CreatedAt
		}
		q = `INSERT INTO messages (group_id, seq, sender_id, body, client_id, created_at)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::timestamptz[])` + conflict
		args = []any{gs, seqs, ss, bodies, cids, ats}
	} else {
		for _, r := range rows {
			args = append(args, r.GroupID, r.Seq, r.SenderID, r.Body, r.ClientID, r.CreatedAt)
		}
		q = `INSERT INTO messages (group_id, seq, sender_id, body, client_id, created_at) VALUES ` + placeholders(len(rows), 6) + conflict
	}
	rs, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("insert: %w", err)
	}
	defer rs.Close()
	type groupSeq struct{ group, seq int64 }
	ids := make(map[groupSeq]int64, len(rows))
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
	if len(ids) != len(rows) {
		return errBatchRace
	}
	for i := range rows {
		rows[i].ID = ids[groupSeq{rows[i].GroupID, rows[i].Seq}]
	}
	return nil
}

// moveReadMarkers moves each sender's read marker forward to their highest
// new seq in each group (never back).
func (s *Store) moveReadMarkers(ctx context.Context, tx *sql.Tx, rows []messageRow) error {
	top := map[member]int64{}
	var order []member
	for _, r := range rows {
		k := member{r.GroupID, r.SenderID}
		if _, ok := top[k]; !ok {
			order = append(order, k)
		}
		top[k] = max(top[k], r.Seq)
	}
	var q string
	var args []any
	if s.d == dialectPostgres {
		gs, us, seqs := make([]int64, len(order)), make([]int64, len(order)), make([]int64, len(order))
		for i, k := range order {
			gs[i], us[i], seqs[i] = k.group, k.user, top[k]
		}
		q = `UPDATE memberships m SET last_read_seq = v.seq
FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS v(gid, uid, seq)
WHERE m.group_id = v.gid AND m.user_id = v.uid AND m.last_read_seq < v.seq`
		args = []any{gs, us, seqs}
	} else {
		for _, k := range order {
			args = append(args, k.group, k.user, top[k])
		}
		q = `WITH v(gid, uid, seq) AS (VALUES ` + placeholders(len(order), 3) + `)
UPDATE memberships SET last_read_seq = v.seq FROM v
WHERE memberships.group_id = v.gid AND memberships.user_id = v.uid AND memberships.last_read_seq < v.seq`
	}
	_, err := tx.ExecContext(ctx, q, args...)
	return err
}

// member names a membership: a group and a user.
type member struct{ group, user int64 }

// senders reads the memberships of the requests' (group, sender) pairs
// that exist, each with the sender's public columns. A pair missing from
// the answer is a sender who is not a member of the group (or a group or
// user that does not exist).
func (s *Store) senders(ctx context.Context, tx *sql.Tx, ms []chat.NewMessage) (map[member]userRow, error) {
	var pairs []member
	seen := make(map[member]bool, len(ms))
	for _, m := range ms {
		k := member{m.GroupID, m.SenderID}
		if !seen[k] {
			seen[k] = true
			pairs = append(pairs, k)
		}
	}
	const cols = `SELECT m.group_id, u.id, u.username, u.display_name, u.created_at`
	var q string
	var args []any
	if s.d == dialectPostgres {
		gs, us := make([]int64, len(pairs)), make([]int64, len(pairs))
		for i, p := range pairs {
			gs[i], us[i] = p.group, p.user
		}
		q = cols + `
FROM unnest($1::bigint[], $2::bigint[]) AS v(gid, uid)
JOIN memberships m ON m.group_id = v.gid AND m.user_id = v.uid
JOIN users u ON u.id = m.user_id`
		args = []any{gs, us}
	} else {
		for _, p := range pairs {
			args = append(args, p.group, p.user)
		}
		q = `WITH v(gid, uid) AS (VALUES ` + placeholders(len(pairs), 2) + `) ` + cols + `
FROM v JOIN memberships m ON m.group_id = v.gid AND m.user_id = v.uid
JOIN users u ON u.id = m.user_id`
	}
	rs, err := tx.QueryContext(ctx, q, args...)
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

// placeholders returns n rows of a VALUES list of width columns for SQLite:
// "(?, ?), (?, ?)".
func placeholders(n, width int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", width), ", ") + ")"
	var b strings.Builder
	b.Grow(n * (len(row) + 2))
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	return b.String()
}

package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chatapp/chat/chat"
)

// Small batches in one round trip (issue 13). At low load every send is a
// batch of one, or of a few, and insertBatch's transaction costs six or
// seven round trips (BEGIN, originals, memberships, seqs, insert, read
// markers, COMMIT). A batch that oneStatement accepts (up to fewMax plain
// messages, on Postgres) runs fewInsert instead: one autocommitted
// statement that does the same work. Large batches keep insertBatch, whose
// statements take whole columns: making every batch one statement slowed
// 256-row batches from 12 to 30 ms.
//
// The statement stores nothing when it cannot tell every answer alone (a
// sender is not a member, or a client_id is stored already), and fails
// whole when another instance stores one of its client_ids meanwhile (the
// unique index answers it after the groups' locks): either way no seq was
// taken, and the batch runs through insertBatch, which answers it exactly
// as it would have without this path.

// fewMax bounds the batches that take the one-statement path: about the
// batches of a handful of concurrent senders (BenchmarkFewSenders), far
// below the 256 rows at which one statement lost to the transaction. It
// was not tuned further.
const fewMax = 8

// fewInsert checks the memberships and the client_ids, and only when every
// request passes (ok) takes the groups' next seqs under their row locks (in
// id order, as allocateSeqs), inserts the rows and moves the senders' read
// markers, returning each row's request (ord), id and seq with the sender's
// public columns. Each write depends on the one before through its rows,
// which orders them: Postgres runs a statement's CTEs in no set order
// otherwise. The read markers' CTE is not read by the main query; Postgres
// runs it all the same.
const fewInsert = `WITH v AS (
	SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::timestamptz[])
		WITH ORDINALITY AS v(gid, sid, body, cid, at, ord)
), s AS (
	SELECT v.*, u.username, u.display_name, u.created_at AS user_created_at
	FROM v JOIN memberships m ON m.group_id = v.gid AND m.user_id = v.sid
	JOIN users u ON u.id = v.sid
	WHERE NOT EXISTS (SELECT 1 FROM messages
		WHERE messages.group_id = v.gid AND messages.sender_id = v.sid AND messages.client_id = v.cid)
), ok AS (
	SELECT (SELECT count(*) FROM s) = cardinality($1::bigint[]) AS ok
), need AS (
	SELECT gid, count(*) AS n, (array_agg(at ORDER BY ord DESC))[1] AS last_at
	FROM s WHERE (SELECT ok FROM ok) GROUP BY gid
), locked AS MATERIALIZED (
	SELECT id AS locked_id FROM groups WHERE id IN (SELECT gid FROM need) ORDER BY id FOR UPDATE
), g AS (
	UPDATE groups SET last_seq = last_seq + need.n, last_activity_at = need.last_at
	FROM need JOIN locked ON locked.locked_id = need.gid WHERE groups.id = need.gid
	RETURNING groups.id, groups.last_seq - need.n AS before
), numbered AS (
	SELECT s.*, g.before + row_number() OVER (PARTITION BY s.gid ORDER BY s.ord) AS seq
	FROM s JOIN g ON g.id = s.gid
), i AS (
	INSERT INTO messages (group_id, seq, sender_id, body, client_id, created_at)
	SELECT gid, seq, sid, body, cid, at FROM numbered
	RETURNING id, group_id, seq
), r AS (
	UPDATE memberships SET last_read_seq = x.seq
	FROM (SELECT n.gid, n.sid, max(i.seq) AS seq FROM i JOIN numbered n ON n.gid = i.group_id AND n.seq = i.seq GROUP BY n.gid, n.sid) x
	WHERE memberships.group_id = x.gid AND memberships.user_id = x.sid AND memberships.last_read_seq < x.seq
)
SELECT n.ord, i.id, i.seq, n.username, n.display_name, n.user_created_at
FROM i JOIN numbered n ON n.gid = i.group_id AND n.seq = i.seq`

// insertFew runs fewInsert for a batch that oneStatement accepted. It
// answers the requests it stored; rest lists the others, in order, for
// insertBatch: all of them when the statement stored nothing or failed in
// a way that insertBatch answers (see fewFallback), those of a group
// deleted meanwhile otherwise. An error fails the whole batch.
func (s *Store) insertFew(ctx context.Context, ms []chat.NewMessage) (res []batchResult[inserted], rest []int, err error) {
	n := len(ms)
	gs, ss, bodies, cids, ats := make([]int64, n), make([]int64, n), make([]string, n), make([]*string, n), make([]time.Time, n)
	for i, m := range ms {
		gs[i], ss[i], bodies[i], cids[i], ats[i] = m.GroupID, m.SenderID, m.Body, m.StoredClientID(), m.At
	}
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	rs, err := s.wsql.QueryContext(ctx, fewInsert, gs, ss, bodies, cids, ats)
	if err != nil {
		if fewFallback(err) {
			return nil, all, nil
		}
		return nil, nil, err
	}
	defer rs.Close()
	res = make([]batchResult[inserted], n)
	done := make([]bool, n)
	for rs.Next() {
		var ord int64
		var u userRow
		var id, seq int64
		if err := rs.Scan(&ord, &id, &seq, &u.Username, &u.DisplayName, &u.CreatedAt); err != nil {
			return nil, nil, fmt.Errorf("scan: %w", err)
		}
		i := int(ord - 1)
		m := ms[i]
		res[i].val = freshAnswer(messageRow{ID: id, GroupID: m.GroupID, Seq: seq, SenderID: m.SenderID, Body: m.Body, ClientID: cids[i], CreatedAt: m.At}, u)
		done[i] = true
	}
	if err := rs.Err(); err != nil {
		// The statement failed as a whole: it stored nothing.
		if fewFallback(err) {
			return nil, all, nil
		}
		return nil, nil, err
	}
	for i, d := range done {
		if !d {
			rest = append(rest, i)
		}
	}
	return res, rest, nil
}

// fewFallback reports whether insertBatch answers a batch whose fewInsert
// failed with err: when the statement surely stored nothing. Postgres rolls
// a failed statement back whole (a unique violation when another instance
// stored one of its client_ids meanwhile, a deadlock …), and a connection
// dropped before the statement reached the database sent nothing. When the
// database became unreachable on the way, whether it committed is unknown:
// the batch fails, as insertBatch's does when its COMMIT is lost.
func fewFallback(err error) bool {
	return connClosed(err) || !errors.Is(classify(err), chat.ErrUnavailable)
}

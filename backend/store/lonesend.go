package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/chatapp/chat/chat"
)

// A lone send in one round trip (issue 13). At low load every send is a
// batch of one, and insertBatch's transaction costs it seven round trips
// (BEGIN, originals, memberships, seqs, insert, read marker, COMMIT). A
// batch that oneStatement accepts (one plain message, on Postgres) runs
// loneInsert instead: one autocommitted statement that does the same work.
// Large batches keep insertBatch, whose statements take whole columns:
// making every batch one statement slowed 256-row batches from 12 to 30 ms.
//
// The statement stores nothing when it cannot tell the answer alone (the
// sender is not a member, or the client_id is stored already), and fails
// whole when another instance stores the same client_id meanwhile (the
// unique index answers it after the group's lock): either way no seq was
// taken, and the batch runs through insertBatch, which answers it exactly
// as it would have without this path.

// loneInsert checks the membership and the client_id, takes the group's
// next seq under its row lock, inserts the row and moves the sender's read
// marker, returning the row's id and seq with the sender's public columns.
// Each write depends on the one before through its rows, which orders them:
// Postgres runs a statement's CTEs in no set order otherwise. The read
// marker's CTE is not read by the main query; Postgres runs it all the same.
const loneInsert = `WITH s AS (
	SELECT u.username, u.display_name, u.created_at
	FROM memberships m JOIN users u ON u.id = m.user_id
	WHERE m.group_id = $1::bigint AND m.user_id = $2::bigint
		AND NOT EXISTS (SELECT 1 FROM messages
			WHERE group_id = $1::bigint AND sender_id = $2::bigint AND client_id = $4::text)
), g AS (
	UPDATE groups SET last_seq = last_seq + 1, last_activity_at = $5::timestamptz
	FROM s WHERE groups.id = $1::bigint
	RETURNING groups.last_seq
), i AS (
	INSERT INTO messages (group_id, seq, sender_id, body, client_id, created_at)
	SELECT $1::bigint, g.last_seq, $2::bigint, $3::text, $4::text, $5::timestamptz FROM g
	RETURNING id, seq
), r AS (
	UPDATE memberships SET last_read_seq = i.seq FROM i
	WHERE memberships.group_id = $1::bigint AND memberships.user_id = $2::bigint AND memberships.last_read_seq < i.seq
)
SELECT i.id, i.seq, s.username, s.display_name, s.created_at FROM i, s`

// insertLone runs loneInsert for m. done is false when the statement
// stored nothing, or failed in a way that insertBatch answers (see
// loneFallback): the caller then commits m through insertBatch.
func (s *Store) insertLone(ctx context.Context, m chat.NewMessage) (res inserted, done bool, err error) {
	row := messageRow{GroupID: m.GroupID, SenderID: m.SenderID, Body: m.Body, ClientID: m.StoredClientID(), CreatedAt: m.At}
	var u userRow
	err = s.wsql.QueryRowContext(ctx, loneInsert, m.GroupID, m.SenderID, m.Body, row.ClientID, m.At).
		Scan(&row.ID, &row.Seq, &u.Username, &u.DisplayName, &u.CreatedAt)
	switch {
	case err == nil:
		return freshAnswer(row, u), true, nil
	case errors.Is(err, sql.ErrNoRows), loneFallback(err):
		return inserted{}, false, nil
	}
	return inserted{}, true, err
}

// loneFallback reports a failure of loneInsert after which insertBatch
// answers the send: a unique violation (another instance stored the
// client_id; the statement took no seq), or a connection that had been
// dropped before the statement reached the database.
func loneFallback(err error) bool { return isConflict(err) || connClosed(err) }

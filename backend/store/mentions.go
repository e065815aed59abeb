package store

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"

	"github.com/chatapp/chat/chat"
)

// Mentions are parsed in the domain (chat.ParseMentions) and resolved
// here, in the transaction that stores the body: a name is a mention when
// it is the username (ignoring case) of a member of the message's group at
// that moment. A batch with no "@" candidate costs no statement; one with
// some costs two (resolve, then record), whatever its size.

// groupName is a candidate name in one group.
type groupName struct {
	group int64
	name  string
}

// mentionCandidates parses the rows' bodies: the candidates of each row,
// and every distinct (group, name) pair to resolve.
func mentionCandidates(rows []messageRow) (per [][]string, pairs []groupName) {
	per = make([][]string, len(rows))
	seen := map[groupName]bool{}
	for i, r := range rows {
		per[i] = chat.ParseMentions(r.Body)
		for _, n := range per[i] {
			if k := (groupName{r.GroupID, n}); !seen[k] {
				seen[k] = true
				pairs = append(pairs, k)
			}
		}
	}
	return per, pairs
}

// resolveMentions maps each pair whose name is a member of its group to
// that member's id.
func (s *Store) resolveMentions(ctx context.Context, tx *sql.Tx, pairs []groupName) (map[groupName]int64, error) {
	out := make(map[groupName]int64, len(pairs))
	for chunk := range slices.Chunk(pairs, 2000) {
		gs, ns := make([]int64, len(chunk)), make([]string, len(chunk))
		for i, p := range chunk {
			gs[i], ns[i] = p.group, p.name
		}
		src, args := s.d.rows(len(chunk), int64s(gs), texts(ns))
		rs, err := tx.QueryContext(ctx, `WITH v(gid, name) AS (`+src+`)
SELECT v.gid, v.name, u.id FROM v
JOIN users u ON lower(u.username) = v.name
JOIN memberships m ON m.group_id = v.gid AND m.user_id = u.id`, args...)
		if err != nil {
			return nil, err
		}
		for rs.Next() {
			var k groupName
			var uid int64
			if err := rs.Scan(&k.group, &k.name, &uid); err != nil {
				rs.Close()
				return nil, err
			}
			out[k] = uid
		}
		err = rs.Err()
		rs.Close()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// mentionRows resolves and sets the rows' MentionIDs (their ids in order
// of first mention, each once).
func (s *Store) mentionRows(ctx context.Context, tx *sql.Tx, rows []messageRow) error {
	per, pairs := mentionCandidates(rows)
	if len(pairs) == 0 {
		return nil
	}
	ids, err := s.resolveMentions(ctx, tx, pairs)
	if err != nil {
		return err
	}
	for i := range rows {
		var got []int64
		for _, n := range per[i] {
			if id, ok := ids[groupName{rows[i].GroupID, n}]; ok && !slices.Contains(got, id) {
				got = append(got, id)
			}
		}
		rows[i].MentionIDs = formatIDs(got)
	}
	return nil
}

// recordMentions inserts the message_mentions of rows that have ids.
func (s *Store) recordMentions(ctx context.Context, tx *sql.Tx, rows []messageRow) error {
	var mids, uids, gids, seqs []int64
	for _, r := range rows {
		for _, uid := range parseIDs(r.MentionIDs) {
			mids, uids, gids, seqs = append(mids, r.ID), append(uids, uid), append(gids, r.GroupID), append(seqs, r.Seq)
		}
	}
	const chunk = 2000 // 4 parameters each: below SQLite's limit
	for lo := 0; lo < len(mids); lo += chunk {
		hi := min(lo+chunk, len(mids))
		src, args := s.d.rows(hi-lo, int64s(mids[lo:hi]), int64s(uids[lo:hi]), int64s(gids[lo:hi]), int64s(seqs[lo:hi]))
		_, err := tx.ExecContext(ctx, `WITH v(message_id, user_id, group_id, seq) AS (`+src+`)
INSERT INTO message_mentions (message_id, user_id, group_id, seq) SELECT * FROM v WHERE true
ON CONFLICT (message_id, user_id) DO NOTHING`, args...)
		if err != nil {
			return err
		}
	}
	return nil
}

// formatIDs is the stored form of mention ids: "3,7", "" for none.
func formatIDs(ids []int64) string {
	var b []byte
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(b)
}

// parseIDs reads formatIDs' form; never nil, so that a message answers
// "mentions": [] rather than null.
func parseIDs(s string) []int64 {
	out := []int64{}
	if s == "" {
		return out
	}
	for f := range strings.SplitSeq(s, ",") {
		if id, err := strconv.ParseInt(f, 10, 64); err == nil {
			out = append(out, id)
		}
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

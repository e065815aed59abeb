package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/chatapp/chat/chat"
)

// SearchMessages finds the current bodies of messages in the groups
// userID is a member of now (or in groupID alone when it is not 0) that
// match q: best match first, newest first among equals; deleted messages
// never match (their body is empty). The cursor is an offset. The parsed
// query (chat.ParseSearch) is rendered in each database's own syntax with
// its words as bound parameters or quoted strings, never as operators.
func (s *Store) SearchMessages(ctx context.Context, userID, groupID int64, q chat.SearchQuery, limit int, cursor string) ([]chat.Message, string, error) {
	off, err := decodeCursor(cursor)
	if err != nil {
		return nil, "", fmt.Errorf("search messages: %w", err)
	}
	limit = chat.ClampSearchLimit(limit)
	var query, order string
	args := []any{userID}
	// page is the LIMIT and OFFSET of the outer query (integers, so the
	// text stays safe: see Messages for why not bound).
	page := ` LIMIT ` + strconv.Itoa(limit+1) + ` OFFSET ` + strconv.Itoa(off)
	if s.d == dialectPostgres {
		tsq, tsArgs := postgresTSQuery(q, len(args)+1)
		args = append(args, tsArgs...)
		// The caller's groups as an array, so that one scan of the
		// (group_id, search) GIN index finds the matches in those groups
		// only: a join instead read every group's matches from the heap
		// and dropped most (1,000,000 messages, a word in 13 % of them:
		// p50 356 ms with the join, BENCHMARKS.md "Message search").
		query = `WITH q AS (SELECT ` + tsq + ` AS q) ` + messageSelect + `
CROSS JOIN q
WHERE msg.group_id = ANY(ARRAY(SELECT group_id FROM memberships WHERE user_id = $1))
AND msg.search @@ q.q AND msg.deleted_at IS NULL`
		order = ` ORDER BY ts_rank(msg.search, q.q) DESC, msg.id DESC`
	} else {
		match, confined, err := s.sqliteGroupMatch(ctx, userID, groupID, sqliteMatch(q))
		if err != nil {
			return nil, "", s.wrap("search messages", err)
		}
		args = append(args, match)
		if confined {
			// The index alone holds exactly the caller's matches: rank
			// and page there, then read the page's rows only instead of
			// every match's (2,600 for a common word, BENCHMARKS.md
			// "Message search"). The joins still apply the membership
			// rule.
			query = messageSelect + `
JOIN (SELECT rowid, ` + sqliteRank + ` AS rank FROM messages_fts WHERE messages_fts MATCH $2
	ORDER BY rank, rowid DESC` + page + `) AS ranked ON ranked.rowid = msg.id
JOIN memberships mb ON mb.group_id = msg.group_id AND mb.user_id = $1
WHERE msg.deleted_at IS NULL`
			order, page = ` ORDER BY ranked.rank, msg.id DESC`, ""
		} else {
			query = messageSelect + `
JOIN messages_fts ON messages_fts.rowid = msg.id
JOIN memberships mb ON mb.group_id = msg.group_id AND mb.user_id = $1
WHERE messages_fts MATCH $2 AND msg.deleted_at IS NULL`
			order = ` ORDER BY ` + sqliteRank + `, msg.id DESC`
		}
	}
	if groupID != 0 {
		args = append(args, groupID)
		query += ` AND msg.group_id = $` + strconv.Itoa(len(args))
	}
	query += order + page
	rows, err := s.scanMessages(ctx, query, args)
	if err != nil {
		return nil, "", s.wrap("search messages", err)
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = encodeCursor(off + limit)
	}
	out := make([]chat.Message, len(rows))
	decorated := make([]bool, len(rows))
	for i, v := range rows {
		out[i], decorated[i] = v.message(), v.Msg.Decorated
	}
	if err := s.hydrateSome(ctx, s.rsql, out, decorated); err != nil {
		return nil, "", s.wrap("search messages", err)
	}
	return out, next, nil
}

// postgresTSQuery renders q as a tsquery expression whose words are the
// parameters from $first on, folded as the indexed bodies are
// (chat_fold): phrases by phraseto_tsquery, the prefix word as 'word':*,
// exclusions negated, all joined by &&.
func postgresTSQuery(q chat.SearchQuery, first int) (string, []any) {
	parts := make([]string, 0, len(q.Terms))
	args := make([]any, 0, len(q.Terms))
	for _, t := range q.Terms {
		args = append(args, strings.Join(t.Words, " "))
		p := "$" + strconv.Itoa(first+len(args)-1) + "::text"
		part := `phraseto_tsquery('simple', chat_fold(` + p + `))`
		if t.Prefix {
			part = `to_tsquery('simple', quote_literal(chat_fold(` + p + `)) || ':*')`
		}
		if t.Exclude {
			part = `!!` + part
		}
		parts = append(parts, "("+part+")")
	}
	return strings.Join(parts, " && "), args
}

// sqliteRank scores an FTS5 match by its body alone: the group token
// column weighs nothing, or a message of a small group (whose token is
// rarer) would outrank an equal, newer one of a large group.
const sqliteRank = `bm25(messages_fts, 1.0, 0.0)`

// sqliteGroupsInMatch bounds the groups named in one FTS5 query: beyond it
// the membership join alone keeps the search to the caller's groups.
const sqliteGroupsInMatch = 200

// sqliteGroupMatch confines an FTS5 body query to the caller's groups (or
// to groupID; confined reports it did) through the index's grp column (migration 0008), so that FTS5
// intersects the body's matches with those groups' messages instead of
// returning every group's matches for the join to drop: 1,000,000
// messages, a word in 13 % of them, BENCHMARKS.md "Message search". The
// membership join of the query stays the rule; this only narrows the scan.
func (s *Store) sqliteGroupMatch(ctx context.Context, userID, groupID int64, body string) (match string, confined bool, err error) {
	groups := []int64{groupID}
	if groupID == 0 {
		groups, err = s.memberGroupIDs(ctx, userID, sqliteGroupsInMatch+1)
		if err != nil {
			return "", false, err
		}
		if len(groups) == 0 || len(groups) > sqliteGroupsInMatch {
			return "body : (" + body + ")", false, nil
		}
	}
	var b strings.Builder
	b.WriteString("grp : (")
	for i, g := range groups {
		if i > 0 {
			b.WriteString(" OR ")
		}
		b.WriteString("g" + strconv.FormatInt(g, 10))
	}
	b.WriteString(") AND body : (" + body + ")")
	return b.String(), true, nil
}

// memberGroupIDs lists up to limit ids of the user's groups.
func (s *Store) memberGroupIDs(ctx context.Context, userID int64, limit int) ([]int64, error) {
	rs, err := s.rsql.QueryContext(ctx, `SELECT group_id FROM memberships WHERE user_id = $1 LIMIT `+strconv.Itoa(limit), userID)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []int64
	for rs.Next() {
		var id int64
		if err := rs.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rs.Err()
}

// sqliteMatch renders q as an FTS5 query: each term a quoted phrase (the
// prefix word followed by *), the terms to find ANDed, the excluded taken
// out with NOT. Words hold no quote (chat.ParseSearch), so the quoting is
// whole.
func sqliteMatch(q chat.SearchQuery) string {
	var find, drop []string
	for _, t := range q.Terms {
		p := `"` + strings.ReplaceAll(strings.Join(t.Words, " "), `"`, `""`) + `"`
		if t.Prefix {
			p += "*"
		}
		if t.Exclude {
			drop = append(drop, p)
		} else {
			find = append(find, p)
		}
	}
	out := "(" + strings.Join(find, " ") + ")"
	for _, d := range drop {
		out += " NOT " + d
	}
	return out
}

package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/chatapp/chat/chat"
)

// What a message carries beside its row: the preview of the message it
// answers, its attachments and its reactions. Every read of messages ends
// in hydrate, which reads them for a whole page at once.

// querier is a pool or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// idsIn is the SQL condition "column is one of ids" with its arguments,
// whose placeholders start after the first `after` ones: one array on
// Postgres (one statement text whatever the count), a list on SQLite.
func (d dialect) idsIn(column string, ids []int64, after int) (string, []any) {
	if d == dialectPostgres {
		return column + " = ANY($" + strconv.Itoa(after+1) + "::bigint[])", []any{ids}
	}
	ps := make([]string, len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		ps[i] = "$" + strconv.Itoa(after+i+1)
		args[i] = id
	}
	return column + " IN (" + strings.Join(ps, ", ") + ")", args
}

// forUpdate locks the rows a SELECT reads until the transaction ends (on
// SQLite the one writer connection serializes transactions already).
func (d dialect) forUpdate() string {
	if d == dialectPostgres {
		return " FOR UPDATE"
	}
	return ""
}

// hydrate fills in ms (in place) the reply previews (ms carry the id of the
// replied-to message from replyStub), attachments and reactions.
func (s *Store) hydrate(ctx context.Context, q querier, ms []chat.Message) error {
	return s.hydrateSome(ctx, q, ms, nil)
}

// hydrateSome is hydrate reading attachments and reactions only for the
// messages whose decorated hint is set (all of them when decorated is
// nil): a page of plain messages, the most common, costs no read more.
func (s *Store) hydrateSome(ctx context.Context, q querier, ms []chat.Message, decorated []bool) error {
	if len(ms) == 0 {
		return nil
	}
	at := make(map[int64][]int, len(ms))
	ids := make([]int64, 0, len(ms))
	var replies []int64
	for i, m := range ms {
		if m.ReplyTo != nil {
			replies = append(replies, m.ReplyTo.ID)
		}
		if decorated != nil && !decorated[i] {
			continue
		}
		if _, seen := at[m.ID]; !seen {
			ids = append(ids, m.ID)
		}
		at[m.ID] = append(at[m.ID], i)
	}
	if err := s.hydrateReplies(ctx, q, ms, replies); err != nil {
		return fmt.Errorf("reply previews: %w", err)
	}
	if len(ids) == 0 {
		return nil
	}
	if err := s.hydrateReactions(ctx, q, ms, ids, at); err != nil {
		return fmt.Errorf("reactions: %w", err)
	}
	if err := s.hydrateAttachments(ctx, q, ms, ids, at); err != nil {
		return fmt.Errorf("attachments: %w", err)
	}
	return nil
}

func (s *Store) hydrateReplies(ctx context.Context, q querier, ms []chat.Message, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	cond, args := s.d.idsIn("msg.id", ids, 0)
	rs, err := q.QueryContext(ctx, messageSelect+` WHERE `+cond, args...)
	if err != nil {
		return err
	}
	defer rs.Close()
	previews := make(map[int64]*chat.ReplyPreview, len(ids))
	for rs.Next() {
		var v messageView
		if err := rs.Scan(v.fields()...); err != nil {
			return err
		}
		previews[v.Msg.ID] = chat.PreviewOf(v.message())
	}
	if err := rs.Err(); err != nil {
		return err
	}
	for i := range ms {
		if r := ms[i].ReplyTo; r != nil {
			if p, ok := previews[r.ID]; ok {
				ms[i].ReplyTo = p
			} else {
				ms[i].ReplyTo = nil // gone with its group (never otherwise)
			}
		}
	}
	return nil
}

func (s *Store) hydrateReactions(ctx context.Context, q querier, ms []chat.Message, ids []int64, at map[int64][]int) error {
	cond, args := s.d.idsIn("message_id", ids, 0)
	// In the order of reacting: an emoji's first row is its first use.
	rs, err := q.QueryContext(ctx, `SELECT message_id, emoji, user_id FROM reactions WHERE `+cond+`
ORDER BY message_id, created_at, emoji, user_id`, args...)
	if err != nil {
		return err
	}
	defer rs.Close()
	lists := map[int64][]chat.Reaction{}
	for rs.Next() {
		var mid, uid int64
		var emoji string
		if err := rs.Scan(&mid, &emoji, &uid); err != nil {
			return err
		}
		list := lists[mid]
		j := 0
		for j < len(list) && list[j].Emoji != emoji {
			j++
		}
		if j == len(list) {
			list = append(list, chat.Reaction{Emoji: emoji})
		}
		list[j].Count++
		list[j].UserIDs = append(list[j].UserIDs, uid)
		lists[mid] = list
	}
	if err := rs.Err(); err != nil {
		return err
	}
	for mid, list := range lists {
		for _, i := range at[mid] {
			ms[i].Reactions = list
		}
	}
	return nil
}

// AddReaction records userID's emoji on a message; added is false when it
// was there already. A deleted message is a conflict; a new emoji beyond
// chat.ReactionsMax distinct ones is invalid. The message's row is locked
// first, so that concurrent reactions to one message count exactly and
// never pass the limit.
func (s *Store) AddReaction(ctx context.Context, messageID, userID int64, emoji string, at time.Time) (added bool, err error) {
	err = s.tx(ctx, func(tx *gorm.DB) error {
		var msg struct{ DeletedAt *time.Time }
		res := tx.Raw(`SELECT deleted_at FROM messages WHERE id = ?`+s.d.forUpdate(), messageID).Find(&msg)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("message %d: %w", messageID, chat.ErrNotFound)
		}
		if msg.DeletedAt != nil {
			return chat.Fail(chat.ErrConflict, "The message was deleted.")
		}
		var used struct {
			Kinds int64
			Mine  int64
			Same  int64
		}
		err := tx.Raw(`SELECT count(DISTINCT emoji) AS kinds,
	coalesce(sum(CASE WHEN emoji = ? AND user_id = ? THEN 1 ELSE 0 END), 0) AS mine,
	coalesce(sum(CASE WHEN emoji = ? THEN 1 ELSE 0 END), 0) AS same
FROM reactions WHERE message_id = ?`, emoji, userID, emoji, messageID).Find(&used).Error
		if err != nil {
			return err
		}
		if used.Mine > 0 {
			return nil
		}
		if used.Same == 0 && used.Kinds >= chat.ReactionsMax {
			return chat.Invalid(map[string]string{"emoji": "a message carries at most 20 distinct emoji"})
		}
		res = tx.Exec(`INSERT INTO reactions (message_id, user_id, emoji, created_at) VALUES (?, ?, ?, ?)
ON CONFLICT DO NOTHING`, messageID, userID, emoji, s.stamp(at))
		if res.Error != nil {
			return res.Error
		}
		added = res.RowsAffected == 1
		return tx.Exec(`UPDATE messages SET decorated = TRUE WHERE id = ? AND NOT decorated`, messageID).Error
	})
	if err != nil {
		return false, s.wrap("add reaction", err)
	}
	return added, nil
}

// RemoveReaction deletes userID's emoji on a message; removed is false
// when it was not there.
func (s *Store) RemoveReaction(ctx context.Context, messageID, userID int64, emoji string) (removed bool, err error) {
	res := s.writer(ctx).Exec(`DELETE FROM reactions WHERE message_id = ? AND user_id = ? AND emoji = ?`, messageID, userID, emoji)
	if res.Error != nil {
		return false, s.wrap("remove reaction", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// replyTargets reads the groups of the messages that the requests answer:
// a request whose target is missing from the answer, or in another group,
// fails alone (planBatch).
func (s *Store) replyTargets(ctx context.Context, tx *sql.Tx, ms []chat.NewMessage) (map[int64]int64, error) {
	var ids []int64
	for _, m := range ms {
		if m.ReplyTo != nil {
			ids = append(ids, *m.ReplyTo)
		}
	}
	out := make(map[int64]int64, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	cond, args := s.d.idsIn("id", ids, 0)
	rs, err := tx.QueryContext(ctx, `SELECT id, group_id FROM messages WHERE `+cond, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	for rs.Next() {
		var id, g int64
		if err := rs.Scan(&id, &g); err != nil {
			return nil, err
		}
		out[id] = g
	}
	return out, rs.Err()
}

// hydrateLast hydrates the messages that last picks out of items (nil for
// none), in place.
func hydrateLast[T any](ctx context.Context, s *Store, items []T, last func(*T) *chat.Message) error {
	var ms []chat.Message
	var ptrs []*chat.Message
	for i := range items {
		if m := last(&items[i]); m != nil {
			ms = append(ms, *m)
			ptrs = append(ptrs, m)
		}
	}
	if err := s.hydrate(ctx, s.rsql, ms); err != nil {
		return err
	}
	for i, p := range ptrs {
		*p = ms[i]
	}
	return nil
}

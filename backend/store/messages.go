package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"

	"github.com/chatapp/chat/chat"
)

// InsertMessage stores a message: the group's next seq, the row and the
// sender's read marker, committed before it returns. Concurrent calls are
// committed together (group commit, see batcher and insertBatch). A repeat
// of (group, sender, client_id) returns the stored message with created
// false and stores nothing.
func (s *Store) InsertMessage(ctx context.Context, m chat.NewMessage) (chat.Message, bool, error) {
	return s.QueueMessage(ctx, m)()
}

// QueueMessage queues m for the next group commit at once and returns the
// wait for InsertMessage's answer. Messages queued one after another are
// stored in that order: within a group their seqs follow the queue order.
func (s *Store) QueueMessage(ctx context.Context, m chat.NewMessage) func() (chat.Message, bool, error) {
	m.At = s.stamp(m.At)
	wait := s.inserts.submit(ctx, m)
	return func() (chat.Message, bool, error) {
		r, err := wait(ctx)
		if err != nil {
			return chat.Message{}, false, s.wrap("insert message", err)
		}
		return r.msg, r.created, nil
	}
}

// InsertQueue reports how many sends wait for the next group commit and
// how many are in the one being committed (for metrics and tests).
func (s *Store) InsertQueue() (waiting, committing int) { return s.inserts.stats() }

// Messages returns a page of a group's history, ascending by seq.
func (s *Store) Messages(ctx context.Context, groupID int64, q chat.HistoryQuery) ([]chat.Message, bool, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = chat.HistoryPageDefault
	}
	// The hottest read (history, resume, the hub's gap fills) runs on
	// database/sql directly, as the group commit does: GORM's reflective
	// scan was a third of the history endpoint's CPU profile.
	var where string
	args := []any{groupID}
	switch {
	case q.After != nil:
		where = ` WHERE msg.group_id = $1 AND msg.seq > $2`
		args = append(args, *q.After)
	case q.BeforeSeq > 0:
		where = ` WHERE msg.group_id = $1 AND msg.seq < $2`
		args = append(args, q.BeforeSeq)
	default:
		where = ` WHERE msg.group_id = $1`
	}
	if q.Member != 0 {
		args = append(args, q.Member)
		where += ` AND EXISTS (SELECT 1 FROM memberships WHERE group_id = $1 AND user_id = $` + strconv.Itoa(len(args)) + `)`
	}
	order := ` ORDER BY msg.seq DESC`
	if q.After != nil {
		order = ` ORDER BY msg.seq`
	}
	// The limit is part of the text, not a parameter: Postgres plans a
	// prepared statement once (a generic plan) only when that plan's cost
	// is close to a custom plan's, and with an unknown LIMIT it never is,
	// so every history read was planned afresh (most of Postgres' CPU in
	// the history benchmark). limit is an int, so the text stays safe.
	query := messageSelect + where + order + ` LIMIT ` + strconv.Itoa(limit+1)
	rows, err := s.scanMessages(ctx, query, args)
	if err != nil {
		return nil, false, s.wrap("messages", err)
	}
	if len(rows) == 0 && q.Member != 0 {
		// No rows: an empty page, or no membership. Only now is it read.
		if _, err := s.Membership(ctx, groupID, q.Member); err != nil {
			if errors.Is(err, chat.ErrNotFound) {
				return nil, false, fmt.Errorf("group %d, user %d: %w", groupID, q.Member, chat.ErrNoMembership)
			}
			return nil, false, err
		}
	}
	hasMore := len(rows) > limit
	if hasMore {
		rows = rows[:limit]
	}
	if q.After == nil {
		slices.Reverse(rows)
	}
	out := make([]chat.Message, len(rows))
	decorated := make([]bool, len(rows))
	for i, v := range rows {
		out[i], decorated[i] = v.message(), v.Msg.Decorated
	}
	if err := s.hydrateSome(ctx, s.rsql, out, decorated); err != nil {
		return nil, false, s.wrap("messages", err)
	}
	return out, hasMore, nil
}

// scanMessages runs a messageSelect query on the read pool. The numbered
// placeholders ($1…) are understood by both Postgres and SQLite. On
// Postgres the rows are read through pgx itself rather than database/sql,
// whose per-column conversions were a third of the history endpoint's CPU.
func (s *Store) scanMessages(ctx context.Context, query string, args []any) ([]messageView, error) {
	release, err := s.admitPage(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	if s.d == dialectPostgres {
		return s.scanMessagesPgx(ctx, query, args)
	}
	rs, err := s.rsql.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []messageView
	for rs.Next() {
		var v messageView
		if err := rs.Scan(v.fields()...); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rs.Err()
}

func (s *Store) scanMessagesPgx(ctx context.Context, query string, args []any) ([]messageView, error) {
	conn, err := s.rsql.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var out []messageView
	err = conn.Raw(func(dc any) error {
		pc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("postgres connection is a %T, not pgx's", dc)
		}
		rs, err := pc.Conn().Query(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var v messageView
			if err := rs.Scan(v.fields()...); err != nil {
				return err
			}
			out = append(out, v)
		}
		return rs.Err()
	})
	return out, err
}

// fields are the scan targets of a messageSelect row, in its order.
func (v *messageView) fields() []any {
	m := &v.Msg
	return []any{&m.ID, &m.GroupID, &m.Seq, &m.SenderID, &m.Body, &m.ClientID, &m.CreatedAt, &m.EditedAt, &m.DeletedAt, &m.ReplyToID, &m.Decorated,
		&v.SenderUsername, &v.SenderDisplayName, &v.SenderCreatedAt}
}

func (s *Store) MessageByID(ctx context.Context, id int64) (chat.Message, error) {
	m, err := s.messageByID(ctx, id)
	if err != nil {
		return chat.Message{}, s.wrap("message by id", err)
	}
	return m, nil
}

// messageByID reads a message with its reply preview, attachments and
// reactions.
func (s *Store) messageByID(ctx context.Context, id int64) (chat.Message, error) {
	m, err := readMessage(s.reader(ctx), id)
	if err != nil {
		return chat.Message{}, err
	}
	ms := []chat.Message{m}
	if err := s.hydrate(ctx, s.rsql, ms); err != nil {
		return chat.Message{}, err
	}
	return ms[0], nil
}

func readMessage(db *gorm.DB, id int64) (chat.Message, error) {
	var v messageView
	if err := db.Raw(messageSelect+` WHERE msg.id = ?`, id).Take(&v).Error; err != nil {
		return chat.Message{}, err
	}
	return v.message(), nil
}

// EditMessage replaces the body of a message that is not deleted; editing a
// deleted message is a conflict.
func (s *Store) EditMessage(ctx context.Context, id int64, body string, at time.Time) (chat.Message, error) {
	res := s.writer(ctx).Model(&messageRow{}).Where("id = ? AND deleted_at IS NULL", id).
		Updates(map[string]any{"body": body, "edited_at": s.stamp(at)})
	if res.Error != nil {
		return chat.Message{}, s.wrap("edit message", res.Error)
	}
	m, err := s.messageByID(ctx, id)
	if err != nil {
		return chat.Message{}, s.wrap("edit message", err)
	}
	if res.RowsAffected == 0 {
		return chat.Message{}, fmt.Errorf("edit message: %w", chat.Fail(chat.ErrConflict, "The message was deleted."))
	}
	return m, nil
}

// DeleteMessage empties the body and marks the message deleted; the row and
// its seq stay so that history keeps no gaps. Its reactions go with the
// body; its attachments are left to the sweeper (SweepAttachments), which
// deletes their files. Deleting twice changes nothing.
func (s *Store) DeleteMessage(ctx context.Context, id int64, at time.Time) (chat.Message, error) {
	err := s.tx(ctx, func(tx *gorm.DB) error {
		err := tx.Model(&messageRow{}).Where("id = ? AND deleted_at IS NULL", id).
			Updates(map[string]any{"body": "", "deleted_at": s.stamp(at)}).Error
		if err != nil {
			return err
		}
		return tx.Exec(`DELETE FROM reactions WHERE message_id = ?`, id).Error
	})
	if err != nil {
		return chat.Message{}, s.wrap("delete message", err)
	}
	m, err := s.messageByID(ctx, id)
	if err != nil {
		return chat.Message{}, s.wrap("delete message", err)
	}
	return m, nil
}

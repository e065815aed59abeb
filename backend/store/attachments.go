package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/chatapp/chat/chat"
)

// attachmentRow is an attachment as the table holds it.
type attachmentRow struct {
	ID           int64
	GroupID      int64
	UploaderID   int64
	MessageID    *int64
	Filename     string
	ContentType  string
	Size         int64
	Sha256       string `gorm:"column:sha256"`
	Width        *int
	Height       *int
	Key          string
	ThumbKey     *string
	CreatedAt    time.Time
	ClaimedUntil *time.Time
}

func (attachmentRow) TableName() string { return "attachments" }

func (r attachmentRow) attachment() chat.Attachment {
	a := chat.Attachment{
		ID: r.ID, Filename: r.Filename, ContentType: r.ContentType, Size: r.Size, SHA256: r.Sha256,
		Width: r.Width, Height: r.Height, CreatedAt: r.CreatedAt.UTC(),
		GroupID: r.GroupID, UploaderID: r.UploaderID, MessageID: r.MessageID, Key: r.Key,
	}
	if r.ThumbKey != nil {
		a.ThumbKey = *r.ThumbKey
	}
	return a
}

const attachmentCols = `a.id, a.group_id, a.uploader_id, a.message_id, a.filename, a.content_type, a.size, a.sha256,
	a.width, a.height, a.key, a.thumb_key, a.created_at`

func (r *attachmentRow) fields() []any {
	return []any{&r.ID, &r.GroupID, &r.UploaderID, &r.MessageID, &r.Filename, &r.ContentType, &r.Size, &r.Sha256,
		&r.Width, &r.Height, &r.Key, &r.ThumbKey, &r.CreatedAt}
}

// CreateAttachment records an upload whose bytes are stored, not in a
// message yet; it fills ID and CreatedAt.
func (s *Store) CreateAttachment(ctx context.Context, a *chat.Attachment) error {
	r := attachmentRow{
		GroupID: a.GroupID, UploaderID: a.UploaderID, Filename: a.Filename, ContentType: a.ContentType,
		Size: a.Size, Sha256: a.SHA256, Width: a.Width, Height: a.Height, Key: a.Key, CreatedAt: s.stamp(a.CreatedAt),
	}
	if a.ThumbKey != "" {
		r.ThumbKey = &a.ThumbKey
	}
	if err := s.writer(ctx).Create(&r).Error; err != nil {
		return s.wrap("create attachment", err)
	}
	a.ID, a.CreatedAt = r.ID, r.CreatedAt.UTC()
	return nil
}

// AttachmentByID returns an attachment with Deleted telling whether its
// message was deleted (its bytes are on their way out).
func (s *Store) AttachmentByID(ctx context.Context, id int64) (a chat.Attachment, messageDeleted bool, err error) {
	rs, err := s.rsql.QueryContext(ctx, `SELECT `+attachmentCols+`, msg.deleted_at IS NOT NULL
FROM attachments a LEFT JOIN messages msg ON msg.id = a.message_id WHERE a.id = $1`, id)
	if err != nil {
		return a, false, s.wrap("attachment", err)
	}
	defer rs.Close()
	if !rs.Next() {
		if err := rs.Err(); err != nil {
			return a, false, s.wrap("attachment", err)
		}
		return a, false, fmt.Errorf("attachment %d: %w", id, chat.ErrNotFound)
	}
	var r attachmentRow
	if err := rs.Scan(append(r.fields(), &messageDeleted)...); err != nil {
		return a, false, s.wrap("attachment", err)
	}
	return r.attachment(), messageDeleted, nil
}

// hydrateAttachments fills the attachments of messages that are not
// deleted, in upload order.
func (s *Store) hydrateAttachments(ctx context.Context, q querier, ms []chat.Message, ids []int64, at map[int64][]int) error {
	cond, args := s.d.idsIn("a.message_id", ids, 0)
	rs, err := q.QueryContext(ctx, `SELECT `+attachmentCols+` FROM attachments a
JOIN messages msg ON msg.id = a.message_id AND msg.deleted_at IS NULL
WHERE `+cond+` ORDER BY a.message_id, a.id`, args...)
	if err != nil {
		return err
	}
	defer rs.Close()
	lists := map[int64][]chat.Attachment{}
	for rs.Next() {
		var r attachmentRow
		if err := rs.Scan(r.fields()...); err != nil {
			return err
		}
		lists[*r.MessageID] = append(lists[*r.MessageID], r.attachment())
	}
	if err := rs.Err(); err != nil {
		return err
	}
	for mid, list := range lists {
		for _, i := range at[mid] {
			ms[i].Attachments = list
		}
	}
	return nil
}

// upload is what the group commit needs of an attachment a send names.
type upload struct {
	group, uploader int64
	sent            bool // in a message already, or claimed by the sweeper
}

// uploads reads, and on Postgres locks until commit, the attachments the
// requests name, so that two sends (on any instance) cannot both take one
// and the sweeper cannot take one being sent.
func (s *Store) uploads(ctx context.Context, tx *sql.Tx, ms []chat.NewMessage, now time.Time) (map[int64]upload, error) {
	var ids []int64
	for _, m := range ms {
		ids = append(ids, m.Attachments...)
	}
	out := make(map[int64]upload, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	cond, args := s.d.idsIn("id", ids, 1)
	rs, err := tx.QueryContext(ctx, `SELECT id, group_id, uploader_id,
	message_id IS NOT NULL OR (claimed_until IS NOT NULL AND claimed_until > $1)
FROM attachments WHERE `+cond+` ORDER BY id`+s.d.forUpdate(), append([]any{now}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	for rs.Next() {
		var id int64
		var u upload
		if err := rs.Scan(&id, &u.group, &u.uploader, &u.sent); err != nil {
			return nil, err
		}
		out[id] = u
	}
	return out, rs.Err()
}

// attach gives the batch's new messages their attachments.
func (s *Store) attach(ctx context.Context, tx *sql.Tx, ms []chat.NewMessage, rows []messageRow, rowOf []int) error {
	var aids, mids []int64
	for i, m := range ms {
		if rowOf[i] < 0 {
			continue
		}
		for _, a := range m.Attachments {
			aids, mids = append(aids, a), append(mids, rows[rowOf[i]].ID)
		}
	}
	if len(aids) == 0 {
		return nil
	}
	src, args := s.d.rows(len(aids), int64s(aids), int64s(mids))
	_, err := tx.ExecContext(ctx, `WITH v(aid, mid) AS (`+src+`)
UPDATE attachments SET message_id = v.mid FROM v WHERE attachments.id = v.aid`, args...)
	return err
}

// ClaimSweepable claims up to limit attachments whose bytes are to go:
// uploads not in a message by unsentBefore, those of deleted messages, and
// those whose group is gone. A claim is a lease until now+lease: the
// claimer deletes the blobs and then the rows (DeleteAttachments); rows of
// a claimer that died are claimed again after the lease. Two instances
// never claim one row at once.
func (s *Store) ClaimSweepable(ctx context.Context, now, unsentBefore time.Time, lease time.Duration, limit int) ([]chat.Attachment, error) {
	now = ts(now)
	// The conditions are repeated in the UPDATE's own WHERE, on the
	// target's columns: on Postgres a row that another instance claimed
	// (or sent) meanwhile is re-checked there after its lock, and skipped.
	cond := func(t string) string {
		return `(` + t + `.claimed_until IS NULL OR ` + t + `.claimed_until < $1) AND (
	(` + t + `.message_id IS NULL AND ` + t + `.created_at < $2)
	OR EXISTS (SELECT 1 FROM messages msg WHERE msg.id = ` + t + `.message_id AND msg.deleted_at IS NOT NULL)
	OR NOT EXISTS (SELECT 1 FROM groups g WHERE g.id = ` + t + `.group_id))`
	}
	rs, err := s.wsql.QueryContext(ctx, `UPDATE attachments SET claimed_until = $3
WHERE id IN (SELECT a.id FROM attachments a WHERE `+cond("a")+` ORDER BY a.id LIMIT $4)
AND `+cond("attachments")+`
RETURNING id, group_id, uploader_id, message_id, filename, content_type, size, sha256, width, height, key, thumb_key, created_at`,
		now, ts(unsentBefore), now.Add(lease), limit)
	if err != nil {
		return nil, s.wrap("claim attachments", err)
	}
	defer rs.Close()
	var out []chat.Attachment
	for rs.Next() {
		var r attachmentRow
		if err := rs.Scan(r.fields()...); err != nil {
			return nil, s.wrap("claim attachments", err)
		}
		out = append(out, r.attachment())
	}
	if err := rs.Err(); err != nil {
		return nil, s.wrap("claim attachments", err)
	}
	return out, nil
}

// DeleteAttachments deletes the rows of claimed attachments whose blobs are
// gone.
func (s *Store) DeleteAttachments(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	cond, args := s.d.idsIn("id", ids, 0)
	if _, err := s.wsql.ExecContext(ctx, `DELETE FROM attachments WHERE `+cond, args...); err != nil {
		return s.wrap("delete attachments", err)
	}
	return nil
}

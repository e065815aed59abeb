package store

import (
	"time"

	"github.com/chatapp/chat/chat"
)

// The row types mirror the tables (see migrations/); they stay inside the
// store and convert to domain types on the way out.

type userRow struct {
	ID           int64
	Username     string
	DisplayName  string
	PasswordHash string
	CreatedAt    time.Time
}

func (userRow) TableName() string { return "users" }

func (r userRow) user() chat.User {
	return chat.User{ID: r.ID, Username: r.Username, DisplayName: r.DisplayName, CreatedAt: r.CreatedAt.UTC()}
}

// userCols lists the public columns of users (never the password hash).
const userCols = "id, username, display_name, created_at"

// tokenRow is a refresh token as the table holds it.
type tokenRow chat.RefreshToken

func (tokenRow) TableName() string { return "refresh_tokens" }

type endedSessionRow struct {
	FamilyID string `gorm:"primaryKey"`
	UserID   int64
	EndedAt  time.Time
}

func (endedSessionRow) TableName() string { return "ended_sessions" }

func (r tokenRow) token() chat.RefreshToken {
	t := chat.RefreshToken(r)
	t.ExpiresAt, t.UsedAt, t.RevokedAt, t.CreatedAt = r.ExpiresAt.UTC(), utcp(r.UsedAt), utcp(r.RevokedAt), r.CreatedAt.UTC()
	return t
}

type groupRow struct {
	ID             int64
	Kind           string
	Name           *string
	Description    string
	Visibility     string
	OwnerID        *int64
	DirectKey      *string
	MemberCount    int64
	LastSeq        int64
	LastActivityAt time.Time
	CreatedAt      time.Time
}

func (groupRow) TableName() string { return "groups" }

func (r groupRow) group() chat.Group {
	g := chat.Group{
		ID: r.ID, Kind: chat.GroupKind(r.Kind), Name: r.Name, Description: r.Description,
		Visibility: chat.Visibility(r.Visibility), MemberCount: r.MemberCount, LastSeq: r.LastSeq,
		CreatedAt: r.CreatedAt.UTC(),
	}
	if r.OwnerID != nil {
		g.OwnerID = *r.OwnerID
	}
	return g
}

const groupCols = "g.id, g.kind, g.name, g.description, g.visibility, g.owner_id, g.direct_key, g.member_count, g.last_seq, g.last_activity_at, g.created_at"

type membershipRow struct {
	GroupID     int64
	UserID      int64
	Role        string
	LastReadSeq int64
	JoinedAt    time.Time
}

func (membershipRow) TableName() string { return "memberships" }

func (r membershipRow) membership() chat.Membership {
	return chat.Membership{GroupID: r.GroupID, UserID: r.UserID, Role: chat.Role(r.Role), LastReadSeq: r.LastReadSeq, JoinedAt: r.JoinedAt.UTC()}
}

type messageRow struct {
	ID        int64
	GroupID   int64
	Seq       int64
	SenderID  int64
	Body      string
	ClientID  *string
	CreatedAt time.Time
	EditedAt  *time.Time
	DeletedAt *time.Time
	ReplyToID *int64
	Decorated bool
}

func (messageRow) TableName() string { return "messages" }

// messageView is a message joined with its sender.
type messageView struct {
	// Named and tagged: GORM ignores embedded fields of unexported types.
	Msg               messageRow `gorm:"embedded"`
	SenderUsername    string
	SenderDisplayName string
	SenderCreatedAt   time.Time
}

func (v messageView) message() chat.Message {
	m := v.Msg
	return chat.Message{
		ID: m.ID, GroupID: m.GroupID, Seq: m.Seq,
		Sender:   chat.User{ID: m.SenderID, Username: v.SenderUsername, DisplayName: v.SenderDisplayName, CreatedAt: v.SenderCreatedAt.UTC()},
		Body:     m.Body,
		ClientID: m.ClientID, CreatedAt: m.CreatedAt.UTC(), EditedAt: utcp(m.EditedAt), Deleted: m.DeletedAt != nil,
		ReplyTo: replyStub(m.ReplyToID),
	}
}

// replyStub is the preview of a reply before hydrate reads it: its id only.
func replyStub(id *int64) *chat.ReplyPreview {
	if id == nil {
		return nil
	}
	return &chat.ReplyPreview{ID: *id}
}

// messageSelect reads messages (alias msg) with their senders.
const messageSelect = `SELECT msg.id, msg.group_id, msg.seq, msg.sender_id, msg.body, msg.client_id,
	msg.created_at, msg.edited_at, msg.deleted_at, msg.reply_to_id, msg.decorated,
	u.username AS sender_username, u.display_name AS sender_display_name, u.created_at AS sender_created_at
FROM messages msg JOIN users u ON u.id = msg.sender_id`

func utcp(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

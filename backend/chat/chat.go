// Package chat holds the domain of the product: users, groups (conversations),
// messages and the events that tell clients about them, with the rules that
// validate them and the errors that every layer speaks. It imports nothing
// outside the standard library but golang.org/x/text's Unicode
// normalisation, which the text rules need.
package chat

import "time"

// User is a person with an account. Online is set only where the API reports
// presence (GET /users/{id}).
type User struct {
	ID          int64     `json:"id"`
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	CreatedAt   time.Time `json:"created_at"`
	Online      *bool     `json:"online,omitempty"`
	// ShareReadReceipts is set only where users see themselves
	// (/users/me, ready): whether the other members see their read markers.
	ShareReadReceipts *bool `json:"share_read_receipts,omitempty"`
}

// UserPatch holds the fields of an account to change; nil leaves one as
// it is.
type UserPatch struct {
	DisplayName       *string
	PasswordHash      *string
	ShareReadReceipts *bool
}

// ReadReceipt is where one member who shares read receipts has read a
// group up to.
type ReadReceipt struct {
	UserID      int64 `json:"user_id"`
	LastReadSeq int64 `json:"last_read_seq"`
}

// GroupKind tells a named group from a one-to-one conversation.
type GroupKind string

const (
	KindGroup  GroupKind = "group"
	KindDirect GroupKind = "direct"
)

// Visibility decides who may find and join a group.
type Visibility string

const (
	Public  Visibility = "public"
	Private Visibility = "private"
)

// Role is a member's standing in a group.
type Role string

const (
	RoleOwner  Role = "owner"
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
)

// CanManage reports whether the role may administer members and settings.
func (r Role) CanManage() bool { return r == RoleOwner || r == RoleAdmin }

// Group is a conversation. For KindDirect, Name is nil and Peer is the other
// user as seen by the caller.
type Group struct {
	ID          int64      `json:"id"`
	Kind        GroupKind  `json:"kind"`
	Name        *string    `json:"name"`
	Description string     `json:"description"`
	Visibility  Visibility `json:"visibility"`
	OwnerID     int64      `json:"owner_id"`
	MemberCount int64      `json:"member_count"`
	LastSeq     int64      `json:"last_seq"`
	CreatedAt   time.Time  `json:"created_at"`
	Peer        *User      `json:"peer,omitempty"`
}

// GroupPatch holds the fields of a group to change; nil leaves one as it is.
type GroupPatch struct {
	Name        *string
	Description *string
	Visibility  *Visibility
}

// MyGroup is a group as one of its members sees it in their list.
type MyGroup struct {
	Group
	Role        Role     `json:"role"`
	LastReadSeq int64    `json:"last_read_seq"`
	UnreadCount int64    `json:"unread_count"`
	LastMessage *Message `json:"last_message"`
	// MentionCount counts the messages above LastReadSeq that mention the
	// member.
	MentionCount int64 `json:"mention_count"`
	// Muted: the member asked for no notifications but mentions.
	Muted bool `json:"muted"`
}

// Member is a user together with their role in one group.
type Member struct {
	User
	Role Role `json:"role"`
}

// Membership is one user's standing in one group.
type Membership struct {
	GroupID     int64
	UserID      int64
	Role        Role
	LastReadSeq int64
	JoinedAt    time.Time
}

// Message is one entry of a group's history. Seq numbers a group's messages
// 1, 2, 3, … without gaps; a deleted message keeps its seq with an empty body.
type Message struct {
	ID        int64      `json:"id"`
	GroupID   int64      `json:"group_id"`
	Seq       int64      `json:"seq"`
	Sender    User       `json:"sender"`
	Body      string     `json:"body"`
	ClientID  *string    `json:"client_id"`
	CreatedAt time.Time  `json:"created_at"`
	EditedAt  *time.Time `json:"edited_at"`
	Deleted   bool       `json:"deleted"`
	// Mentions are the ids of the group's members the body names as
	// @username (ParseMentions), resolved when the body was stored.
	Mentions []int64 `json:"mentions"`
}

// Edit is an earlier version of a message's body: the body an edit
// replaced, and when it was replaced.
type Edit struct {
	Body     string    `json:"body"`
	EditedAt time.Time `json:"edited_at"`
}

// NewMessage is a message to store. ClientID, when set, makes the send
// idempotent per (group, sender); see StoredClientID.
type NewMessage struct {
	GroupID  int64
	SenderID int64
	Body     string
	ClientID *string
	At       time.Time
}

// StoredClientID is the client_id that m is stored (and repeated) under:
// nil when it has none, an empty one included (noClientID).
func (m NewMessage) StoredClientID() *string { return noClientID(m.ClientID) }

// RefreshToken is a stored refresh token. Only the hash of the opaque token
// is kept. Tokens rotated from one login share a FamilyID.
type RefreshToken struct {
	ID        int64
	UserID    int64
	FamilyID  string
	Hash      string
	ExpiresAt time.Time
	UsedAt    *time.Time
	RevokedAt *time.Time
	CreatedAt time.Time
}

// SessionEnd is a session (refresh-token family) that ended: its access
// tokens are refused from then on.
type SessionEnd struct {
	Session string
	UserID  int64
	At      time.Time
}

package app

import (
	"context"
	"io"
	"time"

	"github.com/chatapp/chat/auth"
	"github.com/chatapp/chat/blob"
	"github.com/chatapp/chat/chat"
)

// Store is the database as the use cases need it. Both store implementations
// (Postgres and SQLite, package store) satisfy it and pass one conformance
// suite (store/storetest). Methods return errors wrapping chat.ErrNotFound,
// chat.ErrConflict or chat.ErrUnavailable (database unreachable) so that
// callers decide with errors.Is, never by reading text.
type Store interface {
	UserStore
	TokenStore
	GroupStore
	MessageStore
	AttachmentStore
	// Ping reports whether the database answers (readiness).
	Ping(ctx context.Context) error
}

// UserStore keeps accounts.
type UserStore interface {
	// CreateUser inserts a user; a username equal to an existing one ignoring
	// case fails with chat.ErrUsernameTaken. It fills ID and CreatedAt.
	CreateUser(ctx context.Context, u *chat.User, passwordHash string) error
	UserByID(ctx context.Context, id int64) (chat.User, error)
	// UserByUsername matches ignoring case and also returns the password hash.
	UserByUsername(ctx context.Context, username string) (chat.User, string, error)
	// Account is the user as they see themselves: UserByID with their
	// settings (ShareReadReceipts).
	Account(ctx context.Context, id int64) (chat.User, error)
	// UpdateUser changes the fields that are not nil and returns the
	// Account.
	UpdateUser(ctx context.Context, id int64, p chat.UserPatch) (chat.User, error)
	// PasswordHash returns the stored hash of a user.
	PasswordHash(ctx context.Context, id int64) (string, error)
	// SearchUsers matches q against username and display_name ignoring case,
	// best match first (exact, then prefix, then earliest position, then
	// shorter, then id); cursor is opaque ("" for the first page, "" in the
	// answer when there is no more).
	SearchUsers(ctx context.Context, q string, limit int, cursor string) ([]chat.User, string, error)
}

// TokenStore keeps refresh tokens.
type TokenStore interface {
	CreateRefreshToken(ctx context.Context, t *chat.RefreshToken) error
	RefreshTokenByHash(ctx context.Context, hash string) (chat.RefreshToken, error)
	// UseRefreshToken marks the token used at the given time if it was unused
	// and not revoked, atomically; it reports false when it had already been
	// used or revoked (a reuse: the caller revokes the family).
	UseRefreshToken(ctx context.Context, id int64, at time.Time) (bool, error)
	// RevokeFamily ends one session: it revokes every token of the family
	// not revoked yet and records the family as ended (EndedSessions), in
	// one transaction. An unknown family is not an error.
	RevokeFamily(ctx context.Context, familyID string, at time.Time) error
	// EndSessions ends every session of the user (a password change,
	// logout-all): it revokes every refresh token of the user not revoked
	// yet, used ones included (a refresh that is rotating one of them
	// right now then sees its parent revoked), across all families, and
	// records those families as ended, in one transaction; it returns them.
	// Tokens of other users stay; a user without tokens is not an error.
	EndSessions(ctx context.Context, userID int64, at time.Time) (families []string, err error)
	// SessionUser returns the user (as Account) and whether session (a
	// family) has ended: what a WebSocket checks when it authenticates.
	SessionUser(ctx context.Context, userID int64, session string) (u chat.User, ended bool, err error)
	// EndedSessions lists the sessions that ended after since (by their
	// recorded time), oldest first.
	EndedSessions(ctx context.Context, since time.Time) ([]chat.SessionEnd, error)
}

// GroupStore keeps groups and who belongs to them.
type GroupStore interface {
	// CreateGroup inserts a group of kind "group" and its owner's membership
	// in one transaction, filling ID, OwnerID, MemberCount and CreatedAt.
	CreateGroup(ctx context.Context, g *chat.Group) error
	// DirectGroup returns the one direct conversation of the two users,
	// creating it (with both as members) if there is none; created tells
	// which. Concurrent calls for one pair create one group.
	DirectGroup(ctx context.Context, a, b int64) (g chat.Group, created bool, err error)
	// GroupByID returns a group; for a direct group Peer is the member who is
	// not viewerID.
	GroupByID(ctx context.Context, id, viewerID int64) (chat.Group, error)
	UpdateGroup(ctx context.Context, id int64, p chat.GroupPatch) (chat.Group, error)
	// DeleteGroup removes a group with its memberships and messages.
	DeleteGroup(ctx context.Context, id int64) error
	// SearchGroups lists groups of kind "group" that are public or have
	// viewerID as a member, matching q in name or description ignoring case.
	SearchGroups(ctx context.Context, viewerID int64, q string, limit int, cursor string) ([]chat.Group, string, error)
	// MyGroups lists the user's groups, most recent activity first (the last
	// message's time, else the time they joined).
	MyGroups(ctx context.Context, userID int64) ([]chat.MyGroup, error)
	// MyGroup is one of the user's groups as MyGroups lists it; not a
	// member is chat.ErrNotFound.
	MyGroup(ctx context.Context, userID, groupID int64) (chat.MyGroup, error)
	// SetMuted sets a membership's muted switch; not a member is
	// chat.ErrNotFound.
	SetMuted(ctx context.Context, groupID, userID int64, muted bool) error
	// ReadReceipts lists the read markers of a group's members who share
	// read receipts, by user id.
	ReadReceipts(ctx context.Context, groupID int64) ([]chat.ReadReceipt, error)
	// GroupIDsOf lists the ids of the groups a user belongs to.
	GroupIDsOf(ctx context.Context, userID int64) ([]int64, error)
	// Membership fails with chat.ErrNotFound when the user is not a member.
	Membership(ctx context.Context, groupID, userID int64) (chat.Membership, error)
	// MemberNames fails with chat.ErrNoMembership when userID is not a
	// member of groupID; else it returns the display names of users (and
	// of userID) by id, read in the same statement.
	MemberNames(ctx context.Context, groupID, userID int64, users []int64) (map[int64]string, error)
	// Members lists a group's members, owner first, then admins, then by name.
	Members(ctx context.Context, groupID int64) ([]chat.Member, error)
	// MemberIDs lists the user ids of a group's members.
	MemberIDs(ctx context.Context, groupID int64) ([]int64, error)
	// AddMember adds a membership; added is false when it already existed
	// (nothing changes then). A new member starts with last_read_seq equal to
	// the group's last_seq.
	AddMember(ctx context.Context, groupID, userID int64, role chat.Role) (added bool, err error)
	SetRole(ctx context.Context, groupID, userID int64, role chat.Role) error
	// RemoveMember fails with chat.ErrNotFound when there was no membership.
	RemoveMember(ctx context.Context, groupID, userID int64) error
	// MarkRead moves the read marker forward only, never past last_seq, and
	// returns the marker after the call.
	MarkRead(ctx context.Context, groupID, userID, seq int64) (int64, error)
	// GroupIDsOfUsers maps each of the users to the ids of the groups they
	// are members of, ascending (for presence events); users in no group
	// are left out.
	GroupIDsOfUsers(ctx context.Context, userIDs []int64) (map[int64][]int64, error)
}

// MessageStore keeps messages.
type MessageStore interface {
	// InsertMessage stores a message in one transaction that takes the next
	// seq of its group (gapless, in commit order), inserts the row and moves
	// the sender's read marker to it. When (group, sender, client_id) already
	// exists it returns that message with created false and stores nothing
	// (an empty client_id is none: chat.NewMessage.StoredClientID).
	// A sender who is not a member of the group (or a group or user that
	// does not exist) fails with chat.ErrNoMembership, checked in the same
	// transaction; then a reply to a message that is not in the group
	// fails with chat.ErrInvalid (reply_to_id). A repeat answers with its
	// original whatever its reply_to. Every message the store returns
	// carries its reply preview, attachments and reactions (each with
	// every reactor, in the order they reacted).
	InsertMessage(ctx context.Context, m chat.NewMessage) (msg chat.Message, created bool, err error)
	// QueueMessage is InsertMessage in two steps: it queues m at once and
	// returns the wait for the answer. Messages queued one after another
	// are stored in that order (within a group, their seqs follow it), so
	// one client's sends keep their order while several are in flight.
	QueueMessage(ctx context.Context, m chat.NewMessage) (wait func() (msg chat.Message, created bool, err error))
	Messages(ctx context.Context, groupID int64, q chat.HistoryQuery) (items []chat.Message, hasMore bool, err error)
	MessageByID(ctx context.Context, id int64) (chat.Message, error)
	// EditMessage replaces the body of a message that is not deleted and
	// keeps the body it replaced in the message's history (MessageEdits),
	// in one transaction; a deleted message is chat.ErrConflict.
	EditMessage(ctx context.Context, id int64, body string, at time.Time) (chat.Message, error)
	// MessageEdits lists the earlier bodies of a message, oldest first
	// (empty for a message never edited, or deleted).
	MessageEdits(ctx context.Context, id int64) ([]chat.Edit, error)
	// SearchMessages finds messages whose current body matches q in the
	// groups userID is a member of at the time of the query (groupID alone
	// when not 0), best match first, newest first among equals; deleted
	// messages never match. The cursor is opaque ("" first, "" when no
	// more); a bad one wraps chat.ErrInvalid.
	SearchMessages(ctx context.Context, userID, groupID int64, q chat.SearchQuery, limit int, cursor string) ([]chat.Message, string, error)
	// DeleteMessage keeps the row and its seq, empties the body, sets
	// deleted, and removes its reactions and its edit history.
	DeleteMessage(ctx context.Context, id int64, at time.Time) (chat.Message, error)
	// AddReaction records a user's emoji on a message; added is false when
	// it was there. A deleted message is chat.ErrConflict, a new emoji
	// beyond chat.ReactionsMax distinct ones chat.ErrInvalid, a missing
	// message chat.ErrNotFound. Concurrent calls keep counts exact.
	AddReaction(ctx context.Context, messageID, userID int64, emoji string, at time.Time) (added bool, err error)
	// RemoveReaction deletes a user's emoji on a message; removed is false
	// when it was not there.
	RemoveReaction(ctx context.Context, messageID, userID int64, emoji string) (removed bool, err error)
}

// AttachmentStore keeps the records of uploaded files (their bytes are in
// Blobs). A send claims its attachments in the group commit (MessageStore):
// each must be the sender's upload to the group, not in a message yet
// (else chat.ErrInvalid naming attachment_ids), and messages carry them.
type AttachmentStore interface {
	// CreateAttachment records an upload not sent yet, filling ID and
	// CreatedAt.
	CreateAttachment(ctx context.Context, a *chat.Attachment) error
	// AttachmentByID returns an attachment and whether its message was
	// deleted; chat.ErrNotFound when there is none.
	AttachmentByID(ctx context.Context, id int64) (a chat.Attachment, messageDeleted bool, err error)
	// ClaimSweepable leases until now+lease up to limit attachments whose
	// bytes are to go (unsent by unsentBefore, of a deleted message or
	// group); no two callers hold one at once, and a lease that ends
	// unreleased is claimed again.
	ClaimSweepable(ctx context.Context, now, unsentBefore time.Time, lease time.Duration, limit int) ([]chat.Attachment, error)
	// DeleteAttachments deletes the records (after their blobs).
	DeleteAttachments(ctx context.Context, ids []int64) error
}

// Blobs keeps the bytes of attachments (package blob: a folder or an
// S3-compatible store). Keys are the store's choice (chat.Attachment.Key).
type Blobs interface {
	Put(ctx context.Context, key string, r io.Reader) (size int64, err error)
	Open(ctx context.Context, key string) (blob.Object, error)
	// Delete is idempotent.
	Delete(ctx context.Context, key string) error
}

// Notifier carries committed changes to connected clients (package realtime
// publishes them through the broker). It never fails the use case: the
// database is the truth and clients catch up by seq.
type Notifier interface {
	Notify(ctx context.Context, ev chat.Event)
}

// Admission decides whether a send may go ahead now (package realtime: not
// while this instance is behind on its deliveries). Admit may hold the send
// for a while; it fails with chat.ErrRateLimited (RetryAfter set) when the
// send should be made again later, before anything is stored.
type Admission interface {
	Admit(ctx context.Context) error
}

// Presence tells whether a user has a live connection on any instance.
type Presence interface {
	Online(ctx context.Context, userID int64) (bool, error)
}

// PasswordHasher hashes and checks passwords (package auth: argon2id).
type PasswordHasher interface {
	Hash(password string) (string, error)
	Verify(password, encoded string) (bool, error)
}

// Tokens issues and verifies access tokens (package auth: JWT).
type Tokens interface {
	// Issue returns a signed access token for the user in session (its
	// refresh-token family) and its lifetime.
	Issue(userID int64, session string, now time.Time) (token string, ttl time.Duration, err error)
	// Verify returns the claims of a valid token, or an error wrapping
	// chat.ErrUnauthorized with code "token_expired" or "unauthorized".
	Verify(token string, now time.Time) (auth.Claims, error)
}

// LoginGuard limits password checks (login, password change) by their
// failures (package auth: LoginGuard).
type LoginGuard interface {
	// Begin asks whether a password check of user (lower-cased) from
	// client (an IP address) may run at now; if not, how long to wait. An
	// allowed check must end with done(failed).
	Begin(user, client string, now time.Time) (done func(failed bool), wait time.Duration, ok bool)
}

// AttachmentLinks signs download paths so that <img src> and plain links
// work without an Authorization header (package auth: Links).
type AttachmentLinks interface {
	// Sign returns path with "?exp=…&sig=…" valid for at least an hour
	// from now.
	Sign(path string, now time.Time) string
	// Valid reports whether exp and sig are a signature of path that has
	// not expired at now.
	Valid(path, exp, sig string, now time.Time) bool
}

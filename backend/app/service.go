// Package app holds the use cases of the product: sign-up, login, groups,
// membership, history, sending, editing, read markers. It checks every
// permission, persists before it publishes, and declares the interfaces of
// the outside systems it needs (ports.go). Transports (httpapi, realtime)
// call it; it calls no transport.
package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/chatapp/chat/chat"
)

// Config holds the use-case settings read from the environment in main.
type Config struct {
	RefreshTTL time.Duration // lifetime of a refresh token (default 30 days)
}

// Deps are the outside systems the use cases need.
type Deps struct {
	Store    Store
	Tokens   Tokens
	Hasher   PasswordHasher
	Notifier Notifier
	Presence Presence
	// LoginLimiter limits login attempts per username (keyed by the
	// lower-cased username).
	LoginLimiter Limiter
	Clock        func() time.Time
	Log          *slog.Logger
}

// Service runs the use cases. It is safe for concurrent use.
type Service struct {
	Deps
	cfg Config
}

// New returns a Service.
func New(d Deps, cfg Config) *Service { return &Service{Deps: d, cfg: cfg} }

var errNotImplemented = errors.New("not implemented")

// AuthResult is what sign-up, login and refresh answer.
type AuthResult struct {
	User         chat.User `json:"user"`
	AccessToken  string    `json:"access_token"`
	TokenType    string    `json:"token_type"` // "Bearer"
	ExpiresIn    int64     `json:"expires_in"` // seconds
	RefreshToken string    `json:"refresh_token"`
}

// Registration is the sign-up input.
type Registration struct {
	Username    string
	Password    string
	DisplayName string
}

// Register creates an account and logs it in.
func (s *Service) Register(ctx context.Context, in Registration) (AuthResult, error) {
	return AuthResult{}, errNotImplemented
}

// Login checks credentials (same error for unknown user and wrong password,
// rate limited per username) and issues a token pair.
func (s *Service) Login(ctx context.Context, username, password string) (AuthResult, error) {
	return AuthResult{}, errNotImplemented
}

// Refresh rotates a refresh token; presenting a used one revokes its family.
func (s *Service) Refresh(ctx context.Context, refreshToken string) (AuthResult, error) {
	return AuthResult{}, errNotImplemented
}

// Logout revokes the family of a refresh token.
func (s *Service) Logout(ctx context.Context, refreshToken string) error { return errNotImplemented }

// Authenticate verifies an access token and returns its user id.
func (s *Service) Authenticate(ctx context.Context, accessToken string) (int64, error) {
	return 0, errNotImplemented
}

// ProfileChange is the input of PATCH /users/me; nil fields stay.
type ProfileChange struct {
	DisplayName     *string
	Password        *string
	CurrentPassword *string
}

func (s *Service) Me(ctx context.Context, uid int64) (chat.User, error) {
	return chat.User{}, errNotImplemented
}

func (s *Service) UpdateMe(ctx context.Context, uid int64, in ProfileChange) (chat.User, error) {
	return chat.User{}, errNotImplemented
}

// Page is a search query with paging.
type Page struct {
	Query  string
	Limit  int // 0: default 20; at most 100
	Cursor string
}

func (s *Service) SearchUsers(ctx context.Context, uid int64, p Page) ([]chat.User, string, error) {
	return nil, "", errNotImplemented
}

// User returns a user with Online set.
func (s *Service) User(ctx context.Context, uid, id int64) (chat.User, error) {
	return chat.User{}, errNotImplemented
}

// GroupInput is the input of POST /groups.
type GroupInput struct {
	Name        string
	Description string
	Visibility  chat.Visibility // "" means public
}

func (s *Service) CreateGroup(ctx context.Context, uid int64, in GroupInput) (chat.Group, error) {
	return chat.Group{}, errNotImplemented
}

func (s *Service) SearchGroups(ctx context.Context, uid int64, p Page) ([]chat.Group, string, error) {
	return nil, "", errNotImplemented
}

func (s *Service) MyGroups(ctx context.Context, uid int64) ([]chat.MyGroup, error) {
	return nil, errNotImplemented
}

// Direct returns the direct conversation with peerID, creating it if needed.
func (s *Service) Direct(ctx context.Context, uid, peerID int64) (chat.Group, bool, error) {
	return chat.Group{}, false, errNotImplemented
}

// Group returns a group to a member, or to anyone if it is public; a private
// group of which the caller is not a member is chat.ErrNotFound.
func (s *Service) Group(ctx context.Context, uid, gid int64) (chat.Group, error) {
	return chat.Group{}, errNotImplemented
}

func (s *Service) UpdateGroup(ctx context.Context, uid, gid int64, p GroupPatch) (chat.Group, error) {
	return chat.Group{}, errNotImplemented
}

func (s *Service) DeleteGroup(ctx context.Context, uid, gid int64) error { return errNotImplemented }

func (s *Service) Join(ctx context.Context, uid, gid int64) (chat.Group, error) {
	return chat.Group{}, errNotImplemented
}

func (s *Service) Leave(ctx context.Context, uid, gid int64) error { return errNotImplemented }

func (s *Service) Members(ctx context.Context, uid, gid int64) ([]chat.Member, error) {
	return nil, errNotImplemented
}

func (s *Service) AddMember(ctx context.Context, uid, gid, userID int64) (chat.Member, error) {
	return chat.Member{}, errNotImplemented
}

func (s *Service) SetRole(ctx context.Context, uid, gid, userID int64, role chat.Role) (chat.Member, error) {
	return chat.Member{}, errNotImplemented
}

func (s *Service) RemoveMember(ctx context.Context, uid, gid, userID int64) error {
	return errNotImplemented
}

// MarkRead moves the caller's read marker forward. conn names the WebSocket
// connection it came from ("" for REST) so that only the user's other
// connections get the read event.
func (s *Service) MarkRead(ctx context.Context, uid, gid, seq int64, conn string) error {
	return errNotImplemented
}

// History returns a page of a group's messages to a member.
func (s *Service) History(ctx context.Context, uid, gid int64, q HistoryQuery) ([]chat.Message, bool, error) {
	return nil, false, errNotImplemented
}

// Outgoing is a message to send.
type Outgoing struct {
	Body     string
	ClientID *string
}

// Send stores a message (idempotent on client_id) and, after the commit,
// notifies; created is false for a repeat.
func (s *Service) Send(ctx context.Context, uid, gid int64, in Outgoing) (chat.Message, bool, error) {
	return chat.Message{}, false, errNotImplemented
}

func (s *Service) EditMessage(ctx context.Context, uid, mid int64, body string) (chat.Message, error) {
	return chat.Message{}, errNotImplemented
}

func (s *Service) DeleteMessage(ctx context.Context, uid, mid int64) error { return errNotImplemented }

// Typing tells the other members' connections that uid is typing in gid.
func (s *Service) Typing(ctx context.Context, uid, gid int64, conn string) error {
	return errNotImplemented
}

// GroupIDs lists the groups whose events a user's connections receive.
func (s *Service) GroupIDs(ctx context.Context, uid int64) ([]int64, error) {
	return nil, errNotImplemented
}

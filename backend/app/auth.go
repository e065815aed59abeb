package app

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/chatapp/chat/auth"
	"github.com/chatapp/chat/chat"
)

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

// maxLoginPasswordBytes bounds the password a login hashes. Longer inputs
// cannot match (registration allows 128 characters, at most 512 bytes) and
// hashing megabytes would be a cheap way to burn CPU.
const maxLoginPasswordBytes = 4 * chat.PasswordMax

// Register creates an account and logs it in.
func (s *Service) Register(ctx context.Context, in Registration) (AuthResult, error) {
	display, dnErr := chat.NormalizeDisplayName(in.DisplayName)
	if err := chat.Merge(chat.ValidateUsername(in.Username), chat.ValidatePassword(in.Password), dnErr); err != nil {
		return AuthResult{}, err
	}
	hash, err := s.Hasher.Hash(in.Password)
	if err != nil {
		return AuthResult{}, fmt.Errorf("register: hash password: %w", err)
	}
	u := chat.User{Username: in.Username, DisplayName: display}
	if err := s.Store.CreateUser(ctx, &u, hash); err != nil {
		if errors.Is(err, chat.ErrConflict) {
			return AuthResult{}, chat.ErrUsernameTaken
		}
		return AuthResult{}, fmt.Errorf("register: %w", err)
	}
	family, err := auth.NewFamilyID(s.Rand)
	if err != nil {
		return AuthResult{}, fmt.Errorf("register: %w", err)
	}
	return s.issuePair(ctx, u, family)
}

// Login checks credentials (same error for unknown user and wrong password)
// and issues a token pair. Failed checks are limited per username and
// client address (Logins); a name that cannot be a username is refused
// before it is counted, so that its size costs no memory.
func (s *Service) Login(ctx context.Context, username, password string) (AuthResult, error) {
	if chat.ValidateUsername(username) != nil || len(password) > maxLoginPasswordBytes {
		s.dummyVerify(password)
		return AuthResult{}, chat.ErrInvalidCredentials
	}
	// Unknown usernames are guarded alike: a 429 must not tell which exist.
	done, err := s.guard(ctx, strings.ToLower(username))
	if err != nil {
		return AuthResult{}, err
	}
	failed := true
	defer func() { done(failed) }()
	u, hash, err := s.Store.UserByUsername(ctx, username)
	if errors.Is(err, chat.ErrNotFound) {
		// Spend the time a real check takes so that the answer's timing does
		// not tell which usernames exist.
		s.dummyVerify(password)
		return AuthResult{}, chat.ErrInvalidCredentials
	}
	if err != nil {
		failed = false // the database failed, not the password
		return AuthResult{}, fmt.Errorf("login: %w", err)
	}
	ok, err := s.Hasher.Verify(password, hash)
	if err != nil {
		failed = false
		return AuthResult{}, fmt.Errorf("login: verify password of user %d: %w", u.ID, err)
	}
	if !ok {
		return AuthResult{}, chat.ErrInvalidCredentials
	}
	failed = false
	family, err := auth.NewFamilyID(s.Rand)
	if err != nil {
		return AuthResult{}, fmt.Errorf("login: %w", err)
	}
	return s.issuePair(ctx, u, family)
}

// guard asks Logins whether a password check of user (lower-cased) from
// the caller's address may run; done reports how it went.
func (s *Service) guard(ctx context.Context, user string) (done func(failed bool), err error) {
	if s.Logins == nil {
		return func(bool) {}, nil
	}
	done, wait, ok := s.Logins.Begin(user, client(ctx), s.now())
	if ok {
		return done, nil
	}
	e := chat.Fail(chat.ErrRateLimited, "Too many failed attempts; please wait a moment.")
	e.RetryAfter = max(1, int(math.Ceil(wait.Seconds())))
	return nil, e
}

func (s *Service) dummyVerify(password string) {
	s.dummyOnce.Do(func() {
		token, _, err := auth.NewRefreshToken(s.Rand)
		if err == nil {
			s.dummyHash, err = s.Hasher.Hash(token)
		}
		if err != nil {
			s.Log.Error("make dummy password hash", "err", err)
		}
	})
	if s.dummyHash == "" {
		return
	}
	if len(password) > maxLoginPasswordBytes {
		password = password[:maxLoginPasswordBytes]
	}
	_, _ = s.Hasher.Verify(password, s.dummyHash) // the answer is always "no"
}

// Refresh rotates a refresh token; presenting a used one revokes its family.
func (s *Service) Refresh(ctx context.Context, refreshToken string) (AuthResult, error) {
	if refreshToken == "" {
		return AuthResult{}, unauthorized()
	}
	now := s.now()
	t, err := s.Store.RefreshTokenByHash(ctx, auth.HashRefreshToken(refreshToken))
	if errors.Is(err, chat.ErrNotFound) {
		return AuthResult{}, unauthorized()
	}
	if err != nil {
		return AuthResult{}, fmt.Errorf("refresh: %w", err)
	}
	if t.RevokedAt != nil || !now.Before(t.ExpiresAt) {
		return AuthResult{}, unauthorized()
	}
	if t.UsedAt != nil {
		return AuthResult{}, s.reuse(ctx, t, now)
	}
	ok, err := s.Store.UseRefreshToken(ctx, t.ID, now)
	if err != nil {
		return AuthResult{}, fmt.Errorf("refresh: %w", err)
	}
	if !ok {
		// Another request used it between our read and our write: the same
		// token presented twice, which is what a reuse is.
		return AuthResult{}, s.reuse(ctx, t, now)
	}
	u, err := s.Store.UserByID(ctx, t.UserID)
	if errors.Is(err, chat.ErrNotFound) {
		return AuthResult{}, unauthorized()
	}
	if err != nil {
		return AuthResult{}, fmt.Errorf("refresh: %w", err)
	}
	res, err := s.issuePair(ctx, u, t.FamilyID)
	if err != nil {
		return AuthResult{}, err
	}
	// A revocation (a password change, a reuse elsewhere) that ran between
	// our use of t and the insert of its successor did not see the
	// successor. Revocations mark used tokens too, so t tells: if it is
	// revoked now, revoke its family again, which catches the successor.
	after, err := s.Store.RefreshTokenByHash(ctx, t.Hash)
	if err != nil {
		return AuthResult{}, fmt.Errorf("refresh: recheck: %w", err)
	}
	if after.RevokedAt != nil {
		if err := s.Store.RevokeFamily(ctx, t.FamilyID, now); err != nil {
			return AuthResult{}, fmt.Errorf("refresh: revoke family: %w", err)
		}
		return AuthResult{}, unauthorized()
	}
	return res, nil
}

// reuse answers a refresh token presented a second time. Either the client
// raced itself or the token was stolen; we cannot tell which, so the whole
// family (that login on every device holding it) is logged out.
func (s *Service) reuse(ctx context.Context, t chat.RefreshToken, now time.Time) error {
	s.Log.WarnContext(ctx, "refresh token reused; revoking its family", "user_id", t.UserID, "token_id", t.ID)
	if err := s.Store.RevokeFamily(ctx, t.FamilyID, now); err != nil {
		return fmt.Errorf("refresh: revoke family: %w", err)
	}
	return unauthorized()
}

// Logout revokes the family of a refresh token. An unknown token still
// succeeds: logout is idempotent (a retried logout must not fail), the goal —
// that the token cannot be used — already holds, and a different answer
// would let anyone probe which tokens exist.
func (s *Service) Logout(ctx context.Context, refreshToken string) error {
	if refreshToken == "" {
		return chat.Invalid(map[string]string{"refresh_token": "is required"})
	}
	t, err := s.Store.RefreshTokenByHash(ctx, auth.HashRefreshToken(refreshToken))
	if errors.Is(err, chat.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	if t.RevokedAt != nil {
		return nil
	}
	if err := s.Store.RevokeFamily(ctx, t.FamilyID, s.now()); err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	return nil
}

// Authenticate verifies an access token and returns its user id.
func (s *Service) Authenticate(ctx context.Context, accessToken string) (int64, error) {
	if accessToken == "" {
		return 0, unauthorized()
	}
	uid, _, err := s.Tokens.Verify(accessToken, s.now())
	return uid, err
}

// AuthenticateSocket is Authenticate for opening a WebSocket, which may
// stay open for days, and returns the user (for the ready frame): it also
// refuses a token issued before the user's sessions last ended (a password
// change). Tokens carry whole seconds, so one issued in the second of the
// change still opens a socket.
func (s *Service) AuthenticateSocket(ctx context.Context, accessToken string) (chat.User, error) {
	if accessToken == "" {
		return chat.User{}, unauthorized()
	}
	uid, issued, err := s.Tokens.Verify(accessToken, s.now())
	if err != nil {
		return chat.User{}, err
	}
	u, since, err := s.Store.SessionUser(ctx, uid)
	if err != nil {
		if errors.Is(err, chat.ErrNotFound) {
			return chat.User{}, unauthorized() // the user is gone
		}
		return chat.User{}, fmt.Errorf("authenticate socket: %w", err)
	}
	if issued.Before(since.Truncate(time.Second)) {
		return chat.User{}, chat.Fail(chat.ErrUnauthorized, "The session has ended; log in again.")
	}
	return u, nil
}

// issuePair stores a new refresh token in family and signs an access token.
func (s *Service) issuePair(ctx context.Context, u chat.User, family string) (AuthResult, error) {
	now := s.now()
	access, ttl, err := s.Tokens.Issue(u.ID, now)
	if err != nil {
		return AuthResult{}, fmt.Errorf("issue access token: %w", err)
	}
	refresh, hash, err := auth.NewRefreshToken(s.Rand)
	if err != nil {
		return AuthResult{}, err
	}
	rt := chat.RefreshToken{UserID: u.ID, FamilyID: family, Hash: hash, ExpiresAt: now.Add(s.cfg.RefreshTTL), CreatedAt: now}
	if err := s.Store.CreateRefreshToken(ctx, &rt); err != nil {
		return AuthResult{}, fmt.Errorf("store refresh token: %w", err)
	}
	return AuthResult{
		User:         u,
		AccessToken:  access,
		TokenType:    "Bearer",
		ExpiresIn:    int64(ttl / time.Second),
		RefreshToken: refresh,
	}, nil
}

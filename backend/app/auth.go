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
	User        chat.User `json:"user"`
	AccessToken string    `json:"access_token"`
	TokenType   string    `json:"token_type"` // "Bearer"
	ExpiresIn   int64     `json:"expires_in"` // seconds
	// RefreshToken is absent from a browser's answer, whose refresh token
	// travels in a cookie (httpapi).
	RefreshToken string `json:"refresh_token,omitempty"`
	// RefreshExpires is when the refresh token expires (the cookie's).
	RefreshExpires time.Time `json:"-"`
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
	res, err := s.issuePair(ctx, u, family)
	if err != nil {
		return AuthResult{}, err
	}
	// A password change that committed while this login checked the old
	// password must not leave it a session: the change ends the sessions
	// that exist when it ends them, so one started after that is caught
	// here by the changed hash (and one started before, by the change).
	current, err := s.Store.PasswordHash(ctx, u.ID)
	if err != nil {
		return AuthResult{}, fmt.Errorf("login: recheck password: %w", err)
	}
	if current != hash {
		if err := s.Store.RevokeFamily(ctx, family, s.now()); err != nil {
			return AuthResult{}, fmt.Errorf("login: revoke family: %w", err)
		}
		return AuthResult{}, chat.ErrInvalidCredentials
	}
	return res, nil
}

// guard asks Logins whether a password check of user (lower-cased) from
// the caller's address may run; done reports how it went.
func (s *Service) guard(ctx context.Context, user string) (done func(failed bool), err error) {
	if s.Logins == nil {
		return func(bool) {}, nil
	}
	done, wait, ok := s.Logins.Begin(user, ClientAddr(ctx), s.now())
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
		s.ended(ctx, t.UserID, []string{t.FamilyID}, now)
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
	s.ended(ctx, t.UserID, []string{t.FamilyID}, now)
	return unauthorized()
}

// Logout ends the session of a refresh token: its family is revoked, its
// access tokens are refused and its sockets close, on every instance. An
// unknown token still succeeds: logout is idempotent (a retried logout
// must not fail), the goal — that the token cannot be used — already
// holds, and a different answer would let anyone probe which tokens exist.
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
	now := s.now()
	if err := s.Store.RevokeFamily(ctx, t.FamilyID, now); err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	s.ended(ctx, t.UserID, []string{t.FamilyID}, now)
	return nil
}

// LogoutAll ends every session of the user, on every device: what a
// password change does, without changing the password.
func (s *Service) LogoutAll(ctx context.Context, uid int64) error {
	if err := s.endAll(ctx, uid); err != nil {
		return fmt.Errorf("logout all: %w", err)
	}
	return nil
}

// endAll ends every session of the user.
func (s *Service) endAll(ctx context.Context, uid int64) error {
	now := s.now()
	families, err := s.Store.EndSessions(ctx, uid, now)
	if err != nil {
		return err
	}
	s.ended(ctx, uid, families, now)
	return nil
}

// Authenticate verifies an access token, and that its session has not
// ended, and returns its user id.
func (s *Service) Authenticate(ctx context.Context, accessToken string) (int64, error) {
	c, err := s.verify(ctx, accessToken)
	return c.UserID, err
}

// AuthenticateSocket is Authenticate for a WebSocket, which may stay open
// for days: it reads the session from the database (no window in which an
// ended session could open one) and returns the user (for the ready frame)
// with the token's claims (the socket closes when it expires, and with its
// session).
func (s *Service) AuthenticateSocket(ctx context.Context, accessToken string) (chat.User, auth.Claims, error) {
	if accessToken == "" {
		return chat.User{}, auth.Claims{}, unauthorized()
	}
	c, err := s.Tokens.Verify(accessToken, s.now())
	if err != nil {
		return chat.User{}, auth.Claims{}, err
	}
	u, err := s.sessionUser(ctx, c)
	if err != nil {
		return chat.User{}, auth.Claims{}, fmt.Errorf("authenticate socket: %w", err)
	}
	return u, c, nil
}

// issuePair stores a new refresh token in family and signs an access token.
func (s *Service) issuePair(ctx context.Context, u chat.User, family string) (AuthResult, error) {
	now := s.now()
	access, ttl, err := s.Tokens.Issue(u.ID, family, now)
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
		User:           u,
		AccessToken:    access,
		TokenType:      "Bearer",
		ExpiresIn:      int64(ttl / time.Second),
		RefreshToken:   refresh,
		RefreshExpires: rt.ExpiresAt,
	}, nil
}

package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/chatapp/chat/chat"
)

// ProfileChange is the input of PATCH /users/me; nil fields stay.
type ProfileChange struct {
	DisplayName       *string
	Password          *string
	CurrentPassword   *string
	ShareReadReceipts *bool
}

// Page is a search query with paging.
type Page struct {
	Query  string
	Limit  int // 0: the default (chat.SearchLimit)
	Cursor string
}

// Me returns the caller's own account, with their settings.
func (s *Service) Me(ctx context.Context, uid int64) (chat.User, error) {
	u, err := s.Store.Account(ctx, uid)
	if err != nil {
		return chat.User{}, orNotFound(err, "me", "user")
	}
	return u, nil
}

// UpdateMe changes the caller's display name, password and/or whether
// they share read receipts. A new password
// needs the current one; a wrong current password is a validation failure of
// that field (400), not a 401, because the session itself is fine and a 401
// would make clients log out. Wrong guesses count with the same guard as
// logins, so a stolen session cannot brute-force the password.
// A password change revokes every refresh token of the user.
func (s *Service) UpdateMe(ctx context.Context, uid int64, in ProfileChange) (chat.User, error) {
	var display *string
	var problems []*chat.Error
	if in.DisplayName != nil {
		d, e := chat.NormalizeDisplayName(*in.DisplayName)
		display, problems = &d, append(problems, e)
	}
	if in.Password != nil {
		problems = append(problems, chat.ValidatePassword(*in.Password))
		if in.CurrentPassword == nil || *in.CurrentPassword == "" {
			problems = append(problems, chat.Invalid(map[string]string{"current_password": "is required to change the password"}))
		}
	}
	if err := chat.Merge(problems...); err != nil {
		return chat.User{}, err
	}
	if display == nil && in.Password == nil && in.ShareReadReceipts == nil {
		return s.Me(ctx, uid)
	}

	var hash *string
	if in.Password != nil {
		me, err := s.Me(ctx, uid)
		if err != nil {
			return chat.User{}, err
		}
		ok, err := s.checkPassword(ctx, uid, me.Username, *in.CurrentPassword)
		if err != nil {
			return chat.User{}, err
		}
		if !ok {
			return chat.User{}, chat.Invalid(map[string]string{"current_password": "is not correct"})
		}
		h, err := s.Hasher.Hash(*in.Password)
		if err != nil {
			return chat.User{}, fmt.Errorf("update me: hash password: %w", err)
		}
		hash = &h
	}
	u, err := s.Store.UpdateUser(ctx, uid, chat.UserPatch{DisplayName: display, PasswordHash: hash, ShareReadReceipts: in.ShareReadReceipts})
	if err != nil {
		return chat.User{}, orNotFound(err, "update me", "user")
	}
	if hash != nil {
		// A new password must lock out whoever holds a refresh token,
		// including a thief's: every session ends, the caller's too (its
		// client logs in again with the new password). Ending them after
		// the update, not before, leaves no moment in which the old
		// password could start a session that survives (Login checks the
		// hash again after it starts one). Their access tokens are refused
		// and their WebSockets closed (4401) on every instance.
		if err := s.endAll(ctx, uid); err != nil {
			return chat.User{}, fmt.Errorf("update me: end sessions after password change: %w", err)
		}
		s.Log.InfoContext(ctx, "password changed; every session ended", "user_id", uid)
	}
	return u, nil
}

// SearchUsers finds users by username or display name, best match first.
func (s *Service) SearchUsers(ctx context.Context, uid int64, p Page) ([]chat.User, string, error) {
	q, limit, err := normalizePage(p)
	if err != nil {
		return nil, "", err
	}
	users, next, err := s.Store.SearchUsers(ctx, q, limit, p.Cursor)
	if err != nil {
		return nil, "", searchErr("search users", err)
	}
	return users, next, nil
}

// User returns a user with Online set.
func (s *Service) User(ctx context.Context, uid, id int64) (chat.User, error) {
	u, err := s.Store.UserByID(ctx, id)
	if err != nil {
		return chat.User{}, orNotFound(err, "user", "user")
	}
	online := false
	if s.Presence != nil {
		o, err := s.Presence.Online(ctx, id)
		if err != nil {
			// Presence is a hint; a broker hiccup must not fail the profile.
			s.Log.WarnContext(ctx, "presence lookup failed", "user_id", id, "err", err)
		}
		online = o && err == nil
	}
	u.Online = &online
	return u, nil
}

// normalizePage applies the text rules to the query and the page size
// rules to the limit.
func normalizePage(p Page) (string, int, error) {
	q, qErr := chat.NormalizeQuery(p.Query)
	limit, limitErr := chat.SearchLimit(p.Limit)
	return q, limit, asError(chat.Merge(qErr, limitErr))
}

// searchErr maps a store's rejection of an opaque cursor to a 400.
func searchErr(op string, err error) error {
	if isInvalid(err) {
		return chat.Invalid(map[string]string{"cursor": "is not valid"})
	}
	return fmt.Errorf("%s: %w", op, err)
}

// checkPassword verifies the current password of uid (username) under the
// login guard: a wrong one counts as a failure of the caller's address.
func (s *Service) checkPassword(ctx context.Context, uid int64, username, password string) (bool, error) {
	done, err := s.guard(ctx, strings.ToLower(username))
	if err != nil {
		return false, err
	}
	failed := false
	defer func() { done(failed) }()
	if len(password) > maxLoginPasswordBytes {
		failed = true
		return false, nil
	}
	current, err := s.Store.PasswordHash(ctx, uid)
	if err != nil {
		return false, orNotFound(err, "update me", "user")
	}
	ok, err := s.Hasher.Verify(password, current)
	if err != nil {
		return false, fmt.Errorf("update me: verify password: %w", err)
	}
	failed = !ok
	return ok, nil
}

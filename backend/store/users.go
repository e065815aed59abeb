package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/chatapp/chat/chat"
)

// CreateUser inserts a user; a username taken ignoring case fails with
// chat.ErrUsernameTaken.
func (s *Store) CreateUser(ctx context.Context, u *chat.User, passwordHash string) error {
	row := userRow{Username: u.Username, DisplayName: u.DisplayName, PasswordHash: passwordHash, CreatedAt: s.stamp(u.CreatedAt)}
	if err := s.writer(ctx).Create(&row).Error; err != nil {
		if isConflict(err) {
			return fmt.Errorf("create user: %w", chat.ErrUsernameTaken)
		}
		return s.wrap("create user", err)
	}
	u.ID, u.CreatedAt = row.ID, row.CreatedAt
	return nil
}

func (s *Store) UserByID(ctx context.Context, id int64) (chat.User, error) {
	var row userRow
	if err := s.reader(ctx).Select(userCols).Take(&row, "id = ?", id).Error; err != nil {
		return chat.User{}, s.wrap("user by id", err)
	}
	return row.user(), nil
}

// UserByUsername matches ignoring case (through the unique lower(username)
// index) and also returns the password hash.
func (s *Store) UserByUsername(ctx context.Context, username string) (chat.User, string, error) {
	var row userRow
	if err := s.reader(ctx).Take(&row, "lower(username) = lower(?)", username).Error; err != nil {
		return chat.User{}, "", s.wrap("user by username", err)
	}
	return row.user(), row.PasswordHash, nil
}

// Account reads the user with their settings.
func (s *Store) Account(ctx context.Context, id int64) (chat.User, error) {
	var row accountRow
	if err := s.reader(ctx).Table("users").Select(accountCols).Take(&row, "id = ?", id).Error; err != nil {
		return chat.User{}, s.wrap("account", err)
	}
	return row.account(), nil
}

func (s *Store) UpdateUser(ctx context.Context, id int64, p chat.UserPatch) (chat.User, error) {
	set := map[string]any{}
	if p.DisplayName != nil {
		set["display_name"] = *p.DisplayName
	}
	if p.PasswordHash != nil {
		set["password_hash"] = *p.PasswordHash
	}
	if p.ShareReadReceipts != nil {
		set["share_read_receipts"] = *p.ShareReadReceipts
	}
	if len(set) > 0 {
		res := s.writer(ctx).Model(&userRow{}).Where("id = ?", id).Updates(set)
		if res.Error != nil {
			return chat.User{}, s.wrap("update user", res.Error)
		}
		if res.RowsAffected == 0 {
			return chat.User{}, fmt.Errorf("update user: %w", chat.ErrNotFound)
		}
	}
	u, err := s.Account(ctx, id)
	if err != nil {
		return chat.User{}, fmt.Errorf("update user: %w", err)
	}
	return u, nil
}

func (s *Store) PasswordHash(ctx context.Context, id int64) (string, error) {
	var row userRow
	if err := s.reader(ctx).Select("password_hash").Take(&row, "id = ?", id).Error; err != nil {
		return "", s.wrap("password hash", err)
	}
	return row.PasswordHash, nil
}

// SearchUsers matches q (ignoring case) anywhere in username or
// display_name, best match first: exact, then prefix, then earliest
// position, then shorter username, then id. The cursor is an offset.
func (s *Store) SearchUsers(ctx context.Context, q string, limit int, cursor string) ([]chat.User, string, error) {
	off, err := decodeCursor(cursor)
	if err != nil {
		return nil, "", fmt.Errorf("search users: %w", err)
	}
	limit = chat.ClampSearchLimit(limit)
	q = strings.ToLower(q)
	posU := s.d.position("lower(username)", "@q")
	posD := s.d.position("lower(display_name)", "@q")
	query := `SELECT ` + userCols + ` FROM users
WHERE lower(username) LIKE @pat ESCAPE '\' OR lower(display_name) LIKE @pat ESCAPE '\'
ORDER BY
	CASE WHEN lower(username) = @q OR lower(display_name) = @q THEN 0
	     WHEN ` + posU + ` = 1 OR ` + posD + ` = 1 THEN 1
	     ELSE 2 END,
	CASE WHEN ` + posU + ` > 0 AND (` + posD + ` = 0 OR ` + posU + ` <= ` + posD + `) THEN ` + posU + ` ELSE ` + posD + ` END,
	length(username), id
LIMIT @limit OFFSET @offset`
	var rows []userRow
	err = s.reader(ctx).Raw(query, map[string]any{
		"q": q, "pat": containsPattern(q), "limit": limit + 1, "offset": off,
	}).Find(&rows).Error
	if err != nil {
		return nil, "", s.wrap("search users", err)
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = encodeCursor(off + limit)
	}
	out := make([]chat.User, len(rows))
	for i, r := range rows {
		out[i] = r.user()
	}
	return out, next, nil
}

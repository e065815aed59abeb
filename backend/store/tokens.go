package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/chatapp/chat/chat"
)

// CreateRefreshToken stores a refresh token (by hash), filling ID and, when
// zero, CreatedAt.
func (s *Store) CreateRefreshToken(ctx context.Context, t *chat.RefreshToken) error {
	row := tokenRow{
		UserID: t.UserID, FamilyID: t.FamilyID, Hash: t.Hash, ExpiresAt: ts(t.ExpiresAt),
		UsedAt: tsp(t.UsedAt), RevokedAt: tsp(t.RevokedAt), CreatedAt: s.stamp(t.CreatedAt),
	}
	if err := s.writer(ctx).Create(&row).Error; err != nil {
		return s.wrap("create refresh token", err)
	}
	*t = row.token()
	return nil
}

func (s *Store) RefreshTokenByHash(ctx context.Context, hash string) (chat.RefreshToken, error) {
	var row tokenRow
	if err := s.reader(ctx).Take(&row, "hash = ?", hash).Error; err != nil {
		return chat.RefreshToken{}, s.wrap("refresh token by hash", err)
	}
	return row.token(), nil
}

// UseRefreshToken marks the token used in one conditional update, so of two
// concurrent uses exactly one wins.
func (s *Store) UseRefreshToken(ctx context.Context, id int64, at time.Time) (bool, error) {
	res := s.writer(ctx).Model(&tokenRow{}).
		Where("id = ? AND used_at IS NULL AND revoked_at IS NULL", id).
		Update("used_at", ts(at))
	if res.Error != nil {
		return false, s.wrap("use refresh token", res.Error)
	}
	if res.RowsAffected == 1 {
		return true, nil
	}
	var n int64
	if err := s.reader(ctx).Model(&tokenRow{}).Where("id = ?", id).Count(&n).Error; err != nil {
		return false, s.wrap("use refresh token", err)
	}
	if n == 0 {
		return false, fmt.Errorf("use refresh token: %w", chat.ErrNotFound)
	}
	return false, nil
}

// RevokeFamily revokes every token of a family not revoked yet.
func (s *Store) RevokeFamily(ctx context.Context, familyID string, at time.Time) error {
	err := s.writer(ctx).Model(&tokenRow{}).
		Where("family_id = ? AND revoked_at IS NULL", familyID).
		Update("revoked_at", ts(at)).Error
	return s.wrap("revoke token family", err)
}

// EndSessions revokes every refresh token of a user not revoked yet and
// records at as the user's sessions_since, in one transaction.
func (s *Store) EndSessions(ctx context.Context, userID int64, at time.Time) error {
	err := s.tx(ctx, func(tx *gorm.DB) error {
		err := tx.Model(&tokenRow{}).
			Where("user_id = ? AND revoked_at IS NULL", userID).
			Update("revoked_at", ts(at)).Error
		if err != nil {
			return err
		}
		return tx.Table("users").Where("id = ?", userID).Update("sessions_since", ts(at)).Error
	})
	return s.wrap("end sessions", err)
}

// SessionUser returns a user with the time of the user's last EndSessions
// (zero if none), in one read: what opening a WebSocket needs.
func (s *Store) SessionUser(ctx context.Context, userID int64) (chat.User, time.Time, error) {
	var row userRow
	var since sql.NullTime
	err := s.rsql.QueryRowContext(ctx, `SELECT `+userCols+`, sessions_since FROM users WHERE id = $1`, userID).
		Scan(&row.ID, &row.Username, &row.DisplayName, &row.CreatedAt, &since)
	if err != nil {
		return chat.User{}, time.Time{}, s.wrap("session user", err)
	}
	if !since.Valid {
		return row.user(), time.Time{}, nil
	}
	return row.user(), since.Time.UTC(), nil
}

package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

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

// RevokeFamily revokes every token of a family not revoked yet and records
// the family as an ended session, in one transaction. An unknown family is
// no error and ends nothing.
func (s *Store) RevokeFamily(ctx context.Context, familyID string, at time.Time) error {
	err := s.tx(ctx, func(tx *gorm.DB) error {
		err := tx.Model(&tokenRow{}).
			Where("family_id = ? AND revoked_at IS NULL", familyID).
			Update("revoked_at", ts(at)).Error
		if err != nil {
			return err
		}
		return tx.Exec(`INSERT INTO ended_sessions (family_id, user_id, ended_at)
SELECT family_id, user_id, ? FROM refresh_tokens WHERE family_id = ? LIMIT 1
ON CONFLICT (family_id) DO NOTHING`, ts(at), familyID).Error
	})
	return s.wrap("revoke token family", err)
}

// EndSessions revokes every refresh token of a user not revoked yet and
// records their families as ended sessions, in one transaction; it returns
// those families.
func (s *Store) EndSessions(ctx context.Context, userID int64, at time.Time) ([]string, error) {
	var families []string
	err := s.tx(ctx, func(tx *gorm.DB) error {
		families = nil // a retried transaction starts again
		err := tx.Model(&tokenRow{}).
			Where("user_id = ? AND revoked_at IS NULL", userID).
			Distinct().Order("family_id").Pluck("family_id", &families).Error
		if err != nil || len(families) == 0 {
			return err
		}
		err = tx.Model(&tokenRow{}).
			Where("user_id = ? AND revoked_at IS NULL", userID).
			Update("revoked_at", ts(at)).Error
		if err != nil {
			return err
		}
		rows := make([]endedSessionRow, len(families))
		for i, f := range families {
			rows[i] = endedSessionRow{FamilyID: f, UserID: userID, EndedAt: ts(at)}
		}
		return tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&rows).Error
	})
	if err != nil {
		return nil, s.wrap("end sessions", err)
	}
	return families, nil
}

// SessionUser returns a user and whether session has ended, in one read:
// what opening (or re-authenticating) a WebSocket needs.
func (s *Store) SessionUser(ctx context.Context, userID int64, session string) (chat.User, bool, error) {
	var row accountRow
	var ended bool
	err := s.rsql.QueryRowContext(ctx, `SELECT `+accountCols+`,
	EXISTS (SELECT 1 FROM ended_sessions WHERE family_id = $2)
FROM users WHERE id = $1`, userID, session).
		Scan(&row.User.ID, &row.User.Username, &row.User.DisplayName, &row.User.CreatedAt, &row.ShareReadReceipts, &ended)
	if err != nil {
		return chat.User{}, false, s.wrap("session user", err)
	}
	return row.account(), ended, nil
}

// EndedSessions lists the sessions that ended after since, oldest first.
func (s *Store) EndedSessions(ctx context.Context, since time.Time) ([]chat.SessionEnd, error) {
	var rows []endedSessionRow
	err := s.reader(ctx).Where("ended_at > ?", ts(since)).Order("ended_at, family_id").Find(&rows).Error
	if err != nil {
		return nil, s.wrap("ended sessions", err)
	}
	out := make([]chat.SessionEnd, len(rows))
	for i, r := range rows {
		out[i] = chat.SessionEnd{Session: r.FamilyID, UserID: r.UserID, At: r.EndedAt.UTC()}
	}
	return out, nil
}

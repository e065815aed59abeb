package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
)

// jwtKeyName names the JWT signing key in signing_keys.
const jwtKeyName = "jwt"

// errNoSharedKeys: only Postgres keeps generated keys; with SQLite the one
// instance keeps its key in a file in its data folder.
var errNoSharedKeys = errors.New("store: generated keys are kept in the database only on Postgres")

// SigningKey returns the JWT signing key shared by every instance on this
// database, generating it (256 random bits, hex) on the first call ever.
// Instances starting together agree: each tries to insert its own
// candidate, the primary key lets exactly one in, and all read back the
// winner.
func (s *Store) SigningKey(ctx context.Context) ([]byte, error) {
	if s.d != dialectPostgres {
		return nil, errNoSharedKeys
	}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw) // crypto/rand.Read never fails (Go 1.24+)
	if _, err := s.wsql.ExecContext(ctx,
		`INSERT INTO signing_keys (name, secret) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`,
		jwtKeyName, hex.EncodeToString(raw)); err != nil {
		return nil, s.wrap("create signing key", err)
	}
	var secret string
	if err := s.wsql.QueryRowContext(ctx, `SELECT secret FROM signing_keys WHERE name = $1`, jwtKeyName).Scan(&secret); err != nil {
		return nil, s.wrap("read signing key", err)
	}
	return []byte(secret), nil
}

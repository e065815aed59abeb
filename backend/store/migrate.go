package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Schema changes are new files, never edits of applied ones: add
// NNNN_name.sql with the next number to both migrations/postgres and
// migrations/sqlite. All pending files run in one transaction, so a file
// must not use statements that refuse transactions (CREATE INDEX
// CONCURRENTLY, VACUUM).
//
//go:embed migrations/postgres/*.sql migrations/sqlite/*.sql
var migrationFiles embed.FS

// migrationLockKey is the Postgres advisory lock that makes instances
// starting together apply migrations one after the other ("chatmigr").
const migrationLockKey int64 = 0x636861746d696772

// migration is one versioned schema change: a file named NNNN_name.sql.
type migration struct {
	version int64
	name    string
	sql     string
}

// migrations returns the dialect's migrations in version order.
func (d dialect) migrations() ([]migration, error) {
	dir := path.Join("migrations", string(d))
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var out []migration
	seen := map[int64]string{}
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(strings.TrimSuffix(name, ".sql"), "_")
		if !ok {
			return nil, fmt.Errorf("migration %s: name must be NNNN_name.sql", name)
		}
		v, err := strconv.ParseInt(num, 10, 64)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: bad version %q", name, num)
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s and %s share version %d", prev, name, v)
		}
		seen[v] = name
		body, err := fs.ReadFile(migrationFiles, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", name, err)
		}
		out = append(out, migration{version: v, name: name, sql: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// migrate applies the pending migrations in one transaction, so a failure
// leaves the schema as it was (both databases have transactional DDL). On
// Postgres a transaction-scoped advisory lock makes concurrent starters
// wait; on SQLite the write transaction (BEGIN IMMEDIATE) does the same.
// It runs on database/sql directly so that multi-statement files go through
// unprepared.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := s.d.migrations()
	if err != nil {
		return err
	}
	tx, err := s.wsql.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap("migrate: begin", err)
	}
	defer func() { _ = tx.Rollback() }()

	if s.d == dialectPostgres {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLockKey); err != nil {
			return s.wrap("migrate: lock", err)
		}
	}
	const create = `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    BIGINT PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TEXT NOT NULL
	)`
	if _, err := tx.ExecContext(ctx, create); err != nil {
		return s.wrap("migrate: create schema_migrations", err)
	}
	applied, err := appliedVersions(ctx, tx)
	if err != nil {
		return s.wrap("migrate", err)
	}
	insert := "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"
	if s.d == dialectPostgres {
		insert = "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)"
	}
	known := map[int64]bool{}
	for _, m := range ms {
		known[m.version] = true
		if applied[m.version] {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return s.wrap("migrate: apply "+m.name, err)
		}
		at := ts(s.now()).Format("2006-01-02T15:04:05.999999Z07:00")
		if _, err := tx.ExecContext(ctx, insert, m.version, m.name, at); err != nil {
			return s.wrap("migrate: record "+m.name, err)
		}
		s.log.InfoContext(ctx, "applied migration", "dialect", s.d, "migration", m.name)
	}
	for v := range applied {
		if !known[v] {
			// A newer binary migrated this database; this one keeps working
			// as long as the changes were additive.
			s.log.WarnContext(ctx, "database has a migration this binary does not know", "version", v)
		}
	}
	if err := tx.Commit(); err != nil {
		return s.wrap("migrate: commit", err)
	}
	return nil
}

func appliedVersions(ctx context.Context, tx *sql.Tx) (map[int64]bool, error) {
	rows, err := tx.QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("read schema_migrations: %w", err)
		}
		out[v] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	return out, nil
}

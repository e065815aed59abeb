// Package storetest opens throwaway stores for tests and holds the
// conformance suite (Run) that every store implementation passes.
//
// Postgres tests need TEST_DATABASE_URL (e.g.
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable): each store
// gets a fresh database with a random name on that server, dropped when the
// test ends. Without the variable they are skipped, except when CI is set:
// then they fail, so that CI cannot pass by skipping them.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chatapp/chat/store"
)

// EnvDatabaseURL names the variable holding the Postgres server for tests.
const EnvDatabaseURL = "TEST_DATABASE_URL"

// SQLite returns a migrated store on a fresh file in t.TempDir(), closed
// when the test ends.
func SQLite(t testing.TB) *store.Store {
	t.Helper()
	return sqliteAt(t, filepath.Join(t.TempDir(), "chat.db"))
}

// sqliteAt opens a store on the SQLite file at path, closed when the test
// ends.
func sqliteAt(t testing.TB, path string) *store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := store.OpenSQLite(ctx, path, testLogger(t))
	if err != nil {
		t.Fatalf("open sqlite store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close sqlite store: %v", err)
		}
	})
	return s
}

// Postgres returns a migrated store on a fresh database of the server at
// TEST_DATABASE_URL, dropped when the test ends. It skips the test when the
// variable is unset (fails it when CI is set).
func Postgres(t testing.TB) *store.Store {
	t.Helper()
	return postgresAt(t, PostgresURL(t))
}

// postgresAt opens a store on the Postgres database at dbURL, closed when
// the test ends.
func postgresAt(t testing.TB, dbURL string) *store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := store.OpenPostgres(ctx, dbURL, testLogger(t))
	if err != nil {
		t.Fatalf("open postgres store: %v", err)
	}
	// Cleanups run last-registered first: the store closes before the drop.
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close postgres store: %v", err)
		}
	})
	return s
}

// PostgresURL creates an empty database with a random name on the server of
// TEST_DATABASE_URL and returns its URL; the database is dropped when the
// test ends. It skips the test when the variable is unset (fails it when CI
// is set).
func PostgresURL(t testing.TB) string {
	t.Helper()
	base, ok := postgresURL(t)
	if !ok {
		t.Skipf("%s is not set; skipping Postgres test", EnvDatabaseURL)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to %s: %v", EnvDatabaseURL, err)
	}
	defer func() { _ = admin.Close(ctx) }()
	sweep(ctx, t, admin)
	// The creation time in the name lets later runs drop databases left by
	// test processes that were killed before their cleanup ran.
	name := fmt.Sprintf("%s%d_%s", dbPrefix, time.Now().Unix(), randomHex(t, 6))
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() { dropDatabase(t, base, name) })

	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvDatabaseURL, err)
	}
	u.Path = "/" + name
	return u.String()
}

// dbPrefix starts the name of every test database.
const dbPrefix = "chat_test_"

// staleAfter is the age after which a test database is considered left
// behind by a killed test process.
const staleAfter = 2 * time.Hour

// sweep drops test databases older than staleAfter. Failures only log: a
// concurrent sweep may have dropped them first.
func sweep(ctx context.Context, t testing.TB, admin *pgx.Conn) {
	rows, err := admin.Query(ctx, "SELECT datname FROM pg_database WHERE starts_with(datname, $1)", dbPrefix)
	if err != nil {
		t.Logf("list test databases: %v", err)
		return
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Logf("list test databases: %v", err)
		return
	}
	for _, name := range names {
		stamp, _, ok := strings.Cut(strings.TrimPrefix(name, dbPrefix), "_")
		sec, err := strconv.ParseInt(stamp, 10, 64)
		if !ok || err != nil || time.Since(time.Unix(sec, 0)) < staleAfter {
			continue
		}
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Logf("drop stale test database %s: %v", name, err)
		}
	}
}

// Stores returns the store openers to run a test against: "sqlite" always,
// "postgres" when TEST_DATABASE_URL is set (with CI set, its absence fails
// the test).
func Stores(t testing.TB) map[string]func(testing.TB) *store.Store {
	t.Helper()
	out := map[string]func(testing.TB) *store.Store{"sqlite": SQLite}
	if _, ok := postgresURL(t); ok {
		out["postgres"] = Postgres
	}
	return out
}

// Twins is Stores for two instances of the server: each opener returns two
// stores on one fresh database.
func Twins(t testing.TB) map[string]func(testing.TB) (*store.Store, *store.Store) {
	t.Helper()
	out := map[string]func(testing.TB) (*store.Store, *store.Store){
		"sqlite": func(t testing.TB) (*store.Store, *store.Store) {
			path := filepath.Join(t.TempDir(), "chat.db")
			return sqliteAt(t, path), sqliteAt(t, path)
		},
	}
	if _, ok := postgresURL(t); ok {
		out["postgres"] = func(t testing.TB) (*store.Store, *store.Store) {
			dbURL := PostgresURL(t)
			return postgresAt(t, dbURL), postgresAt(t, dbURL)
		}
	}
	return out
}

// postgresURL returns TEST_DATABASE_URL; when it is unset under CI the test
// fails.
func postgresURL(t testing.TB) (string, bool) {
	t.Helper()
	v := os.Getenv(EnvDatabaseURL)
	if v == "" && os.Getenv("CI") != "" {
		t.Fatalf("%s must be set when CI is set", EnvDatabaseURL)
	}
	return v, v != ""
}

func dropDatabase(t testing.TB, base, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Errorf("connect to drop test database: %v", err)
		return
	}
	defer func() { _ = admin.Close(ctx) }()
	// FORCE ends connections a failed test may have left open.
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		t.Errorf("drop test database: %v", err)
	}
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("random: %v", err)
	}
	return hex.EncodeToString(b)
}

// testLogger discards store logs: a test's goroutines may still log after
// it ended, which testing.T.Log does not allow.
func testLogger(testing.TB) *slog.Logger { return slog.New(slog.DiscardHandler) }

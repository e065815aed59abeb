package store_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/chat"
	"github.com/chatapp/chat/store"
	"github.com/chatapp/chat/store/storetest"
)

var _ app.Store = (*store.Store)(nil)

// TestConformance runs the store conformance suite on every available
// database.
func TestConformance(t *testing.T) {
	for name, open := range storetest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			storetest.Run(t, func(tb testing.TB) storetest.Store { return open(tb) })
		})
	}
}

// TestConformanceInstances runs the cases of the suite that need two
// instances of the server on one database.
func TestConformanceInstances(t *testing.T) {
	for name, open := range storetest.Twins(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			storetest.RunInstances(t, func(tb testing.TB) (storetest.Store, storetest.Store) { return open(tb) })
		})
	}
}

// TestPools: every pool of a store is named for statistics, the write pool
// among them.
func TestPools(t *testing.T) {
	for name, open := range storetest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			var found bool
			for _, p := range s.Pools() {
				found = found || p == s.DB()
			}
			if !found || s.DB() == nil {
				t.Errorf("pools %v do not hold the write pool %v", s.Pools(), s.DB())
			}
		})
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestSQLiteReopen checks that migrations are applied once and data
// survives closing and opening the file again.
func TestSQLiteReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "chat.db")
	s, err := store.OpenSQLite(ctx, path, discard())
	if err != nil {
		t.Fatal(err)
	}
	u := chat.User{Username: "keeper"}
	if err := s.CreateUser(ctx, &u, "h"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = store.OpenSQLite(ctx, path, discard())
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	got, err := s.UserByID(ctx, u.ID)
	if err != nil || got.Username != "keeper" {
		t.Errorf("after reopen UserByID = %+v, %v", got, err)
	}
	pools := s.Pools()
	if len(pools) != 2 || pools["write"] != s.DB() || pools["read"] == nil {
		t.Fatalf("sqlite pools = %v, want write and read", pools)
	}
	tests := []struct {
		pool, pragma, want string
	}{
		{"write", "journal_mode", "wal"},
		{"write", "foreign_keys", "1"},
		{"write", "busy_timeout", "10000"},
		{"read", "foreign_keys", "1"},
		{"read", "query_only", "1"},
		{"read", "busy_timeout", "10000"},
		{"read", "mmap_size", "1073741824"},
	}
	for _, tc := range tests {
		var got string
		if err := pools[tc.pool].QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil {
			t.Fatalf("%s PRAGMA %s: %v", tc.pool, tc.pragma, err)
		}
		if got != tc.want {
			t.Errorf("%s PRAGMA %s = %q, want %q", tc.pool, tc.pragma, got, tc.want)
		}
	}
}

func TestSQLiteOpenFails(t *testing.T) {
	_, err := store.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "missing", "dir", "chat.db"), discard())
	if err == nil {
		t.Fatal("OpenSQLite in a missing directory succeeded")
	}
}

// TestPostgresUnavailable checks that an unreachable server is reported as
// chat.ErrUnavailable.
func TestPostgresUnavailable(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	// Port 1 on loopback: nothing listens there, the connection is refused.
	_, err := store.OpenPostgres(ctx, "postgres://postgres@127.0.0.1:1/chat?sslmode=disable&connect_timeout=5", discard())
	if !errors.Is(err, chat.ErrUnavailable) {
		t.Fatalf("OpenPostgres(unreachable) = %v, want ErrUnavailable", err)
	}
}

// TestPostgresConcurrentMigrations opens several stores on one new
// database at once: the advisory lock lets exactly one apply the schema.
func TestPostgresConcurrentMigrations(t *testing.T) {
	dbURL := storetest.PostgresURL(t)
	ctx := t.Context()
	const n = 4
	stores := make([]*store.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = store.OpenPostgres(ctx, dbURL, discard()) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Errorf("open %d: %v", i, errs[i])
			continue
		}
		t.Cleanup(func() { _ = stores[i].Close() })
	}
	if t.Failed() {
		return
	}
	var count int
	if err := stores[0].DB().QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations").Scan(&count); err != nil {
		t.Fatal(err)
	}
	// One row per migration file, each applied once whatever the number of
	// stores starting together.
	files, err := os.ReadDir("migrations/postgres")
	if err != nil {
		t.Fatal(err)
	}
	if count != len(files) || count < 5 {
		t.Errorf("schema_migrations has %d rows, want %d", count, len(files))
	}
	u := chat.User{Username: "shared"}
	if err := stores[1].CreateUser(ctx, &u, "h"); err != nil {
		t.Fatal(err)
	}
	if _, err := stores[2].UserByID(ctx, u.ID); err != nil {
		t.Errorf("user not visible through another store: %v", err)
	}
}

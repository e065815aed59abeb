// Package store implements app.Store with GORM on Postgres (pgx) and on
// SQLite (pure Go, no cgo). Both databases share this code; the few places
// where their SQL differs go through the dialect type, and each has its own
// ordered set of embedded schema migrations.
//
// Times are stored and returned in UTC, truncated to microseconds (Postgres'
// precision), so both databases answer alike. One known difference: SQLite's
// lower() folds only ASCII letters, so case-insensitive search and username
// uniqueness there ignore case for ASCII only (usernames are ASCII anyway).
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"

	"github.com/chatapp/chat/chat"
)

// Store is the database. It is safe for concurrent use.
type Store struct {
	d dialect
	// w runs every write and every transaction; r runs plain reads. On
	// Postgres both are the same pool. On SQLite, which allows one writer at a
	// time, w is a single connection (writers queue in database/sql instead of
	// failing with SQLITE_BUSY) and r is a pool of read-only connections that
	// WAL lets run beside the writer.
	w, r       *gorm.DB
	wsql, rsql *sql.DB
	log        *slog.Logger
	now        func() time.Time
	closed     atomic.Bool
	// inserts commits concurrent InsertMessage calls together; its
	// goroutine runs from Open to Close.
	inserts *batcher[chat.NewMessage, inserted]
	// pages admits history reads to the read pool in arrival order, twice
	// as many at once as the pool has connections (so that a freed
	// connection always has a taker). database/sql hands a freed connection
	// to a random waiter, so with hundreds of readers waiting some waited
	// many turns: the history benchmark's p99 was 5 × its p50, now 1.5 ×.
	pages chan struct{}
	// health logs the database's outages (one line each way).
	health *availability
}

// start begins the store's background work once it is open and migrated.
func (s *Store) start() *Store {
	s.inserts = newBatcher(maxBatch, batchTimeout, s.commitInserts)
	s.pages = make(chan struct{}, max(1, 2*s.rsql.Stats().MaxOpenConnections))
	s.health = newAvailability(s.log, s.Ping)
	return s
}

// admitPage waits for a turn to read a page (see Store.pages); release
// gives it back.
func (s *Store) admitPage(ctx context.Context) (release func(), err error) {
	select {
	case s.pages <- struct{}{}:
		return func() { <-s.pages }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// OpenPostgres connects to Postgres at url (postgres://…), applies pending
// migrations and returns the store.
func OpenPostgres(ctx context.Context, url string, log *slog.Logger) (*Store, error) {
	return openPostgres(ctx, url, log)
}

// openPostgres is OpenPostgres with options for pgx's connections (tests
// count round trips with a dialer of their own).
func openPostgres(ctx context.Context, url string, log *slog.Logger, opts ...stdlib.OptionOpenDB) (*Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	db, err := gorm.Open(postgres.New(postgres.Config{DSN: url, OptionOpenDB: opts}), gormConfig(log))
	if err != nil {
		return nil, translate("open postgres", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	// Postgres does its work on the server's cores: more connections than
	// about twice those only queue inside Postgres (and cost memory there),
	// while a few extra keep reads going beside the group commit's writer.
	// Postgres' default limit of 100 then leaves room for many instances.
	conns := 2*runtime.NumCPU() + 4
	sqlDB.SetMaxOpenConns(conns)
	sqlDB.SetMaxIdleConns(conns)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	sqlDB.SetConnMaxLifetime(time.Hour)

	s := &Store{d: dialectPostgres, w: db, r: db, wsql: sqlDB, rsql: sqlDB, log: log, now: time.Now}
	if err := s.Ping(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if err := s.migrate(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	return s.start(), nil
}

// OpenSQLite opens (creating if needed) the SQLite database file at path,
// applies pending migrations and returns the store.
func OpenSQLite(ctx context.Context, path string, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// Every connection gets a busy timeout (another process may hold the
	// lock) and enforced foreign keys (they are per connection in SQLite).
	common := url.Values{}
	common.Add("_pragma", "busy_timeout(10000)")
	common.Add("_pragma", "foreign_keys(1)")

	wq := url.Values{}
	for _, v := range common["_pragma"] {
		wq.Add("_pragma", v)
	}
	wq.Add("_pragma", "journal_mode(WAL)")
	// NORMAL is durable across application crashes in WAL mode and much
	// faster than FULL; only a power loss can drop the last commits.
	wq.Add("_pragma", "synchronous(NORMAL)")
	// BEGIN IMMEDIATE takes the write lock at the start, so a transaction
	// never has to upgrade a read lock (which fails at once with SQLITE_BUSY).
	wq.Set("_txlock", "immediate")

	rq := url.Values{}
	for _, v := range common["_pragma"] {
		rq.Add("_pragma", v)
	}
	rq.Add("_pragma", "query_only(1)")
	// Readers map the file instead of reading each page into their own
	// cache through a system call: a search reads thousands of index
	// pages (1,000,000 messages: a quarter less CPU per search,
	// BENCHMARKS.md "Message search"). The pages are the OS's, shared by
	// all readers.
	rq.Add("_pragma", "mmap_size("+strconv.Itoa(sqliteReadMmap)+")")

	w, err := gorm.Open(sqlite.Open(path+"?"+wq.Encode()), gormConfig(log))
	if err != nil {
		return nil, translate("open sqlite", err)
	}
	wsql, err := w.DB()
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	wsql.SetMaxOpenConns(1)
	wsql.SetMaxIdleConns(1)
	wsql.SetConnMaxIdleTime(0)
	wsql.SetConnMaxLifetime(0)
	// The write connection must exist (and have switched the file to WAL)
	// before read connections open it.
	if err := wsql.PingContext(ctx); err != nil {
		_ = wsql.Close()
		return nil, translate("open sqlite", err)
	}

	r, err := gorm.Open(sqlite.Open(path+"?"+rq.Encode()), gormConfig(log))
	if err != nil {
		_ = wsql.Close()
		return nil, translate("open sqlite", err)
	}
	rsql, err := r.DB()
	if err != nil {
		_ = wsql.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	readers := max(4, runtime.NumCPU())
	rsql.SetMaxOpenConns(readers)
	rsql.SetMaxIdleConns(readers)

	s := &Store{d: dialectSQLite, w: w, r: r, wsql: wsql, rsql: rsql, log: log, now: time.Now}
	if err := s.migrate(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s.start(), nil
}

// sqliteReadMmap is how much of the database file (bytes) each read
// connection maps: 1 GiB holds several million messages with their index.
const sqliteReadMmap = 1 << 30

func gormConfig(log *slog.Logger) *gorm.Config {
	return &gorm.Config{
		// Single statements need no transaction of their own; the store opens
		// transactions explicitly where several statements must agree.
		SkipDefaultTransaction: true,
		// Off on purpose. pgx already prepares every statement once per
		// connection and caches it (its default exec mode), so GORM's cache
		// only adds a layer; and that cache starts a goroutine that nothing
		// can stop (gorm 1.31 never closes its LRU), one leak per store.
		PrepareStmt: false,
		// Open pings with the caller's context instead.
		DisableAutomaticPing: true,
		Logger:               newGormLogger(log),
		NowFunc:              func() time.Time { return ts(time.Now()) },
	}
}

// Close stops group commit (sends still waiting fail with
// chat.ErrUnavailable; the batch being committed finishes) and then closes
// the connection pools.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	if s.inserts != nil {
		s.inserts.close()
	}
	if s.health != nil {
		s.health.close()
	}
	err := s.wsql.Close()
	if s.rsql != s.wsql {
		err = errors.Join(err, s.rsql.Close())
	}
	return err
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.wsql.PingContext(ctx); err != nil {
		return s.wrap("ping", err)
	}
	if s.rsql != s.wsql {
		if err := s.rsql.PingContext(ctx); err != nil {
			return s.wrap("ping", err)
		}
	}
	return nil
}

// DB returns the pool that takes writes, for pool statistics.
func (s *Store) DB() *sql.DB { return s.wsql }

// Pools returns every connection pool by name ("main" on Postgres; "write"
// and "read" on SQLite), for pool statistics.
func (s *Store) Pools() map[string]*sql.DB {
	if s.rsql == s.wsql {
		return map[string]*sql.DB{"main": s.wsql}
	}
	return map[string]*sql.DB{"write": s.wsql, "read": s.rsql}
}

// Dialect names the database: "postgres" or "sqlite".
func (s *Store) Dialect() string { return string(s.d) }

// reader returns the session for plain reads. A read that starts after a
// write's commit sees it on either pool (WAL readers see every commit made
// before their read transaction began).
func (s *Store) reader(ctx context.Context) *gorm.DB { return s.r.WithContext(ctx) }

// writer returns the session for writes and transactions.
func (s *Store) writer(ctx context.Context) *gorm.DB { return s.w.WithContext(ctx) }

// tx runs fn in one transaction on the write pool.
func (s *Store) tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.writer(ctx).Transaction(fn)
}

// ts brings a time to what both databases store: UTC, microseconds.
func ts(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// tsp is ts for optional times.
func tsp(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := ts(*t)
	return &u
}

// stamp returns t as stored, or the current time when t is zero.
func (s *Store) stamp(t time.Time) time.Time {
	if t.IsZero() {
		return ts(s.now())
	}
	return ts(t)
}

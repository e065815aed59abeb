package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"syscall"

	gosqlite "github.com/glebarez/go-sqlite"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/chatapp/chat/chat"
)

// SQLite result codes (https://www.sqlite.org/rescode.html). The extended
// codes carry the primary code in their low byte.
const (
	sqliteBusy                 = 5
	sqliteLocked               = 6
	sqliteConstraintCheck      = 275
	sqliteConstraintForeignKey = 787
	sqliteConstraintPrimaryKey = 1555
	sqliteConstraintUnique     = 2067
)

// errClosed is returned by a store after Close.
var errClosed = errors.New("store closed")

// wrap is translate with the store's own state: after Close, every failure
// is the database being unavailable (database/sql does not export its
// "database is closed" error, so it cannot be recognized otherwise).
func (s *Store) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if s.closed.Load() {
		return fmt.Errorf("%s: %w: %w", op, chat.ErrUnavailable, errors.Join(errClosed, err))
	}
	err = translate(op, err)
	s.health.observe(err)
	return err
}

// translate turns a driver or GORM error into one that wraps the domain
// error kinds, keeping the original in the chain for logs. It is the one
// place where driver errors are recognized, always by type and code.
func translate(op string, err error) error {
	if err == nil {
		return nil
	}
	if kind := classify(err); kind != nil && !errors.Is(err, kind) {
		return fmt.Errorf("%s: %w: %w", op, kind, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// classify returns the domain error kind of err, or nil when it has none.
func classify(err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) || errors.Is(err, sql.ErrNoRows) {
		return chat.ErrNotFound
	}
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return chat.ErrConflict
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "23505": // unique_violation
			return chat.ErrConflict
		case pgErr.Code == "23503": // foreign_key_violation: the referenced row is missing
			return chat.ErrNotFound
		case pgErr.Code == "23514": // check_violation: a value outside its set (kind, role, visibility)
			return chat.ErrInvalid
		case len(pgErr.Code) == 5 && pgErr.Code[:2] == "08", // connection exception
			pgErr.Code == "53300", // too_many_connections
			pgErr.Code == "57P01", // admin_shutdown
			pgErr.Code == "57P02", // crash_shutdown
			pgErr.Code == "57P03": // cannot_connect_now
			return chat.ErrUnavailable
		}
		return nil
	}
	var liteErr *gosqlite.Error
	if errors.As(err, &liteErr) {
		switch code := liteErr.Code(); {
		case code == sqliteConstraintUnique, code == sqliteConstraintPrimaryKey:
			return chat.ErrConflict
		case code == sqliteConstraintForeignKey:
			return chat.ErrNotFound
		case code == sqliteConstraintCheck:
			return chat.ErrInvalid
		case code&0xff == sqliteBusy, code&0xff == sqliteLocked:
			return chat.ErrUnavailable
		}
		return nil
	}
	var connErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.As(err, &connErr),
		errors.Is(err, pgconn.ErrConnClosed),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, driver.ErrBadConn),
		errors.Is(err, sql.ErrConnDone),
		errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &netErr):
		return chat.ErrUnavailable
	}
	return nil
}

// connClosed reports a call that never reached the database because its
// pooled connection had been dropped (by the server or a proxy) meanwhile:
// trying it again on another connection is safe.
func connClosed(err error) bool { return errors.Is(err, pgconn.ErrConnClosed) }

// isConflict reports whether err is a uniqueness violation.
func isConflict(err error) bool { return errors.Is(classify(err), chat.ErrConflict) }

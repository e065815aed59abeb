package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/chatapp/chat/chat"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"record not found", gorm.ErrRecordNotFound, chat.ErrNotFound},
		{"no rows", fmt.Errorf("scan: %w", sql.ErrNoRows), chat.ErrNotFound},
		{"pg unique", &pgconn.PgError{Code: "23505"}, chat.ErrConflict},
		{"pg foreign key", &pgconn.PgError{Code: "23503"}, chat.ErrNotFound},
		{"pg check", &pgconn.PgError{Code: "23514"}, chat.ErrInvalid},
		{"pg admin shutdown", &pgconn.PgError{Code: "57P01"}, chat.ErrUnavailable},
		{"pg connection failure", &pgconn.PgError{Code: "08006"}, chat.ErrUnavailable},
		{"pg syntax", &pgconn.PgError{Code: "42601"}, nil},
		{"connect error", &pgconn.ConnectError{}, chat.ErrUnavailable},
		{"pooled connection closed", fmt.Errorf("begin: %w", pgconn.ErrConnClosed), chat.ErrUnavailable},
		{"refused", fmt.Errorf("dial: %w", syscall.ECONNREFUSED), chat.ErrUnavailable},
		{"bad conn", driver.ErrBadConn, chat.ErrUnavailable},
		{"deadline", context.DeadlineExceeded, chat.ErrUnavailable},
		{"canceled", context.Canceled, nil},
		{"other", errors.New("boom"), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := classify(tc.err); got != tc.want { //nolint:errorlint // classify returns the sentinel itself
				t.Errorf("classify(%v) = %v, want %v", tc.err, got, tc.want)
			}
			wrapped := translate("op", tc.err)
			if !errors.Is(wrapped, tc.err) {
				t.Errorf("translate lost the cause: %v", wrapped)
			}
			if tc.want != nil && !errors.Is(wrapped, tc.want) {
				t.Errorf("translate(%v) = %v, want it to wrap %v", tc.err, wrapped, tc.want)
			}
		})
	}
	if translate("op", nil) != nil {
		t.Error("translate(nil) != nil")
	}
}

func TestCursor(t *testing.T) {
	for _, off := range []int{0, 1, 20, 12345} {
		got, err := decodeCursor(encodeCursor(off))
		if err != nil || got != off {
			t.Errorf("round trip %d = %d, %v", off, got, err)
		}
	}
	if got, err := decodeCursor(""); err != nil || got != 0 {
		t.Errorf(`decodeCursor("") = %d, %v`, got, err)
	}
	for _, bad := range []string{"x", "!!", encodeCursor(-1), "bzotMQ"} {
		if _, err := decodeCursor(bad); !errors.Is(err, chat.ErrInvalid) {
			t.Errorf("decodeCursor(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestContainsPattern(t *testing.T) {
	tests := map[string]string{
		"abc":   "%abc%",
		"a_b":   `%a\_b%`,
		"100%":  `%100\%%`,
		`a\b`:   `%a\\b%`,
		"":      "%%",
		"ünï_%": `%ünï\_\%%`,
	}
	for in, want := range tests {
		if got := containsPattern(in); got != want {
			t.Errorf("containsPattern(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDirectKey(t *testing.T) {
	if directKey(1, 123) == directKey(11, 23) {
		t.Error("pairs 1|123 and 11|23 share a key")
	}
	if directKey(5, 2) != directKey(2, 5) || directKey(2, 5) != "2:5" {
		t.Errorf("directKey not symmetric: %q %q", directKey(5, 2), directKey(2, 5))
	}
}

func TestMigrationsOrdered(t *testing.T) {
	for _, d := range []dialect{dialectPostgres, dialectSQLite} {
		ms, err := d.migrations()
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		if len(ms) == 0 || ms[0].version != 1 {
			t.Fatalf("%s: migrations = %+v", d, ms)
		}
		for i := 1; i < len(ms); i++ {
			if ms[i].version <= ms[i-1].version {
				t.Errorf("%s: %s after %s", d, ms[i].name, ms[i-1].name)
			}
		}
	}
}

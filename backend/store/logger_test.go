package store

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chatapp/chat/chat"
)

// TestQueryLogsCarryNoValues: slow statements (warn) and every statement
// (debug) are logged as SQL with placeholders only, never the bound values:
// search terms, password hashes, message text.
func TestQueryLogsCarryNoValues(t *testing.T) {
	for _, level := range []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn} {
		t.Run(level.String(), func(t *testing.T) {
			ctx := context.Background()
			s, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "chat.db"), nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			var out bytes.Buffer
			log := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: level}))
			// Every statement counts as slow.
			s.w.Logger = gormLogger{log: log, slow: -1}
			s.r.Logger = s.w.Logger

			u := chat.User{Username: "logged", DisplayName: "Display-SECRET"}
			if err := s.CreateUser(ctx, &u, "hash-SECRET"); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.SearchUsers(ctx, "term-SECRET", 10, ""); err != nil {
				t.Fatal(err)
			}
			logs := out.String()
			if !strings.Contains(logs, "slow query") || !strings.Contains(logs, "FROM users") {
				t.Fatalf("no statement logged:\n%s", logs)
			}
			if strings.Contains(strings.ToLower(logs), "secret") {
				t.Fatalf("a bound value is in the log:\n%s", logs)
			}
		})
	}
}

// TestNoGormScan: gorm's (*DB).Scan traces its statement through a recorder
// that ignores our ParamsFilter, so the SQL it hands the logger has every
// value written in (that is how search terms reached slow-query logs).
// The store uses Find, Take or database/sql instead.
func TestNoGormScan(t *testing.T) {
	scan := regexp.MustCompile(`\.Scan\(&\w+\)\.Error`)
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(src), "\n") {
			if scan.MatchString(line) {
				t.Errorf("%s:%d: gorm Scan logs bound values; use Find: %s", f, i+1, strings.TrimSpace(line))
			}
		}
	}
}

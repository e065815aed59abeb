package store_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chatapp/chat/chat"
	"github.com/chatapp/chat/store"
)

// TestSQLiteSearchUpgrade opens a database whose search index predates
// migration 0009 (no prefix indexes): the index is made again with them,
// holding the messages stored before, and the triggers of 0008 keep
// indexing into the new table.
func TestSQLiteSearchUpgrade(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "chat.db")
	s, err := store.OpenSQLite(ctx, path, discard())
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC().Truncate(time.Microsecond)
	// The index as 0008 made it, and a message indexed into it.
	for _, q := range []string{
		"DROP TABLE messages_fts",
		`CREATE VIRTUAL TABLE messages_fts USING fts5(body, grp, content = 'messages_fts_source',
			content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2')`,
		"DELETE FROM schema_migrations WHERE version = 9",
		"INSERT INTO users (username, display_name, password_hash, created_at) VALUES ('upgrader', '', 'h', ?1)",
		"INSERT INTO groups (kind, name, description, visibility, member_count, last_seq, last_activity_at, created_at) VALUES ('group', 'up', '', 'public', 1, 1, ?1, ?1)",
		"INSERT INTO memberships (group_id, user_id, role, last_read_seq, joined_at) VALUES (1, 1, 'member', 0, ?1)",
		"INSERT INTO messages (group_id, seq, sender_id, body, created_at) VALUES (1, 1, 1, 'wonderful weather', ?1)",
	} {
		if _, err := s.DB().ExecContext(ctx, q, at); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = store.OpenSQLite(ctx, path, discard())
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	var ddl string
	if err := s.DB().QueryRowContext(ctx, "SELECT sql FROM sqlite_master WHERE name = 'messages_fts'").Scan(&ddl); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ddl, "prefix") {
		t.Errorf("messages_fts after the upgrade: %s", ddl)
	}
	if _, err := s.DB().ExecContext(ctx, "INSERT INTO messages (group_id, seq, sender_id, body, created_at) VALUES (1, 2, 1, 'wonder why', ?1)", at.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	q, perr := chat.ParseSearch("wond")
	if perr != nil {
		t.Fatal(perr)
	}
	items, _, err := s.SearchMessages(ctx, 1, 0, q, 10, "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range items {
		got = append(got, m.Body)
	}
	slices.Sort(got)
	if want := []string{"wonder why", "wonderful weather"}; !slices.Equal(got, want) {
		t.Errorf("search wond after the upgrade = %q, want %q", got, want)
	}
}

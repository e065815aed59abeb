package main

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/chatapp/chat/store"
	"github.com/chatapp/chat/store/storetest"
)

// TestSigningSecretSharedThroughPostgres: two instances on one Postgres
// database started without JWT_SECRET sign with the same key, kept in the
// database (not in their data folders); a configured JWT_SECRET wins.
func TestSigningSecretSharedThroughPostgres(t *testing.T) {
	dbURL := storetest.PostgresURL(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var secrets [][]byte
	for range 2 {
		st, err := store.OpenPostgres(t.Context(), dbURL, log)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		cfg := Config{DatabaseURL: dbURL, DataDir: t.TempDir()}
		secret, err := signingSecret(t.Context(), cfg, st, log)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(cfg.DataDir, "jwt-secret")); !os.IsNotExist(err) {
			t.Fatalf("a secret file was written with Postgres: %v", err)
		}
		secrets = append(secrets, secret)

		cfg.JWTSecret = []byte(goodSecret)
		if got, err := signingSecret(t.Context(), cfg, st, log); err != nil || string(got) != goodSecret {
			t.Fatalf("configured secret: %q, %v", got, err)
		}
	}
	if !bytes.Equal(secrets[0], secrets[1]) || len(secrets[0]) < 32 {
		t.Fatalf("instances got different (or short) keys")
	}
}

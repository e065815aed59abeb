package store_test

import (
	"bytes"
	"sync"
	"testing"

	"github.com/chatapp/chat/auth"
	"github.com/chatapp/chat/store"
	"github.com/chatapp/chat/store/storetest"
)

// TestPostgresSigningKeyShared: instances on one database that start
// without JWT_SECRET race to create the signing key and all get the same
// one, so they accept each other's tokens; later calls return it again.
func TestPostgresSigningKeyShared(t *testing.T) {
	dbURL := storetest.PostgresURL(t)
	ctx := t.Context()
	const n = 4
	stores := make([]*store.Store, n)
	for i := range n {
		s, err := store.OpenPostgres(ctx, dbURL, discard())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		stores[i] = s
	}
	keys := make([][]byte, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			keys[i], errs[i] = stores[i].SigningKey(ctx)
		})
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("store %d: %v", i, errs[i])
		}
		if !bytes.Equal(keys[i], keys[0]) {
			t.Fatalf("store %d got another key than store 0", i)
		}
	}
	if len(keys[0]) < auth.MinSecretLen || auth.CheckSecret(keys[0]) != nil {
		t.Fatalf("generated key %d bytes, check %v", len(keys[0]), auth.CheckSecret(keys[0]))
	}
	again, err := stores[1].SigningKey(ctx)
	if err != nil || !bytes.Equal(again, keys[0]) {
		t.Fatalf("second call: %v, same %v", err, bytes.Equal(again, keys[0]))
	}
}

// TestSQLiteHasNoSharedSigningKey: SQLite keeps its key in the data folder
// (chatd), so the store refuses rather than pretend to share one.
func TestSQLiteHasNoSharedSigningKey(t *testing.T) {
	if _, err := storetest.SQLite(t).SigningKey(t.Context()); err == nil {
		t.Fatal("SQLite store returned a shared signing key")
	}
}

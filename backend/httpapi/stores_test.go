package httpapi_test

import (
	"sort"
	"testing"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/store/storetest"
)

// forEachStore runs fn once per store implementation, each on a fresh
// database.
func forEachStore(t *testing.T, fn func(t *testing.T, st app.Store)) {
	t.Helper()
	openers := storetest.Stores(t)
	names := make([]string, 0, len(openers))
	for name := range openers {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) { fn(t, openers[name](t)) })
	}
}

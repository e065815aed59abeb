package auth_test

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/auth"
)

var _ app.LoginGuard = (*auth.LoginGuard)(nil)

func TestClientKey(t *testing.T) {
	tests := map[string]string{
		"192.0.2.1":                "192.0.2.1",
		"::ffff:192.0.2.1":         "192.0.2.1",
		"2001:db8:1:2:3:4:5:6":     "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1":     "2001:db8:1:2::/64",
		"fe80::1%eth0":             "fe80::/64",
		"":                         "?",
		strings.Repeat("x", 1<<16): "?",
	}
	for in, want := range tests {
		if got := auth.ClientKey(in); got != want {
			t.Errorf("ClientKey(%.40q) = %q, want %q", in, got, want)
		}
	}
}

// TestLimiterIPv6Prefix: two addresses of one /64 share a bucket, the next
// /64 has its own.
func TestLimiterIPv6Prefix(t *testing.T) {
	l := auth.NewLimiter(1, 1)
	if ok, _ := l.Allow(auth.ClientKey("2001:db8::1"), t0); !ok {
		t.Fatal("first request refused")
	}
	if ok, _ := l.Allow(auth.ClientKey("2001:db8::2"), t0); ok {
		t.Fatal("second address of the /64 has a bucket of its own")
	}
	if ok, _ := l.Allow(auth.ClientKey("2001:db8:0:1::1"), t0); !ok {
		t.Fatal("the next /64 shares the bucket")
	}
}

// heapAfter is the live heap after fn, collected.
func heapAfter(fn func()) uint64 {
	fn()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestLimiterMemoryBoundedByBytes: a flood of distinct huge keys (what
// keying a 1 MB username used to do) keeps at most maxKeys small entries:
// the heap the limiter holds stays far below what the keys weigh.
func TestLimiterMemoryBoundedByBytes(t *testing.T) {
	const keys, maxKeys, keyLen = 10_000, 2_000, 4 << 10
	var l *auth.Limiter
	base := heapAfter(func() {})
	held := heapAfter(func() {
		l = auth.NewLimiter(60, 1).WithMaxKeys(maxKeys)
		buf := []byte(strings.Repeat("k", keyLen))
		for i := range keys {
			copy(buf, fmt.Sprintf("%08d", i))
			l.Allow(string(buf), t0)
		}
	})
	if n := l.Len(); n > maxKeys {
		t.Fatalf("%d keys tracked, bound %d", n, maxKeys)
	}
	// 2 000 keys of 4 KiB kept whole would be 8 MiB; hashed, ~2 000 × 200 B.
	if grew := int64(held) - int64(base); grew > 2<<20 {
		t.Fatalf("limiter holds %d KiB for %d keys", grew>>10, maxKeys)
	}
	runtime.KeepAlive(l)
}

func TestLoginGuardMemoryBounded(t *testing.T) {
	g := auth.NewLoginGuard(auth.GuardConfig{MaxEntries: 500})
	var g2 *auth.LoginGuard
	base := heapAfter(func() {})
	held := heapAfter(func() {
		g2 = auth.NewLoginGuard(auth.GuardConfig{MaxEntries: 500})
		long := strings.Repeat("u", 8<<10)
		for i := range 5_000 {
			for _, gg := range []*auth.LoginGuard{g, g2} {
				done, _, ok := gg.Begin(fmt.Sprint(i, long), fmt.Sprintf("10.%d.%d.%d", i>>16, (i>>8)&255, i&255), t0)
				if ok {
					done(true)
				}
			}
		}
	})
	for _, gg := range []*auth.LoginGuard{g, g2} {
		if pairs, users := gg.Len(); pairs > 500 || users > 500 {
			t.Fatalf("%d pairs, %d users; bound 500", pairs, users)
		}
	}
	if grew := int64(held) - int64(base); grew > 2<<20 {
		t.Fatalf("guards hold %d KiB", grew>>10)
	}
	runtime.KeepAlive(g)
	runtime.KeepAlive(g2)
}

// TestLoginGuardInFlightCount: checks running at once count as failures
// until they end, so parallel guesses get no more tries than sequential
// ones; successes end without leaving any.
func TestLoginGuardInFlightCount(t *testing.T) {
	g := auth.NewLoginGuard(auth.GuardConfig{FreeFailures: 3})
	var dones []func(bool)
	for range 10 {
		if done, _, ok := g.Begin("eve", "192.0.2.1", t0); ok {
			dones = append(dones, done)
		}
	}
	if len(dones) != 3 { // 3 free; the next waits a back-off from now
		t.Fatalf("%d checks in flight at once, want 3", len(dones))
	}
	for _, d := range dones {
		d(false)
		d(true) // a second call is ignored
	}
	if pairs, _ := g.Len(); pairs != 0 {
		t.Fatalf("%d pairs left after successes", pairs)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 8 {
		wg.Go(func() {
			for range 20 {
				if done, _, ok := g.Begin("mallory", "192.0.2.2", t0); ok {
					mu.Lock()
					allowed++
					mu.Unlock()
					done(true)
				}
			}
		})
	}
	wg.Wait()
	if allowed != 3 {
		t.Fatalf("allowed %d concurrent failures at one instant, want 3", allowed)
	}
	if _, wait, ok := g.Begin("mallory", "192.0.2.2", t0.Add(500*time.Millisecond)); ok || wait <= 0 {
		t.Fatalf("after 3 failures half a second later: ok %v wait %s", ok, wait)
	}
}

package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/chatapp/chat/chat"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lines returns the level and message of every record.
func (l *lockedBuffer) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for line := range strings.Lines(l.b.String()) {
		var r struct{ Level, Msg string }
		if json.Unmarshal([]byte(line), &r) == nil {
			out = append(out, r.Level+" "+r.Msg)
		}
	}
	return out
}

// An outage is two log lines, however many requests fail during it: one
// WARN when the first fails, one INFO when the database answers again. The
// prober's ticks run on synctest's clock: the test moves it by one probe.
func TestAvailabilityLogsEachOutageOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		buf := &lockedBuffer{}
		var up atomic.Bool
		a := newAvailability(slog.New(slog.NewJSONHandler(buf, nil)), func(context.Context) error {
			if up.Load() {
				return nil
			}
			return fmt.Errorf("ping: %w", chat.ErrUnavailable)
		})
		defer a.close()

		unavailable := fmt.Errorf("query: %w", chat.ErrUnavailable)
		a.observe(errors.New("some other failure")) // not an outage
		for range 50 {
			a.observe(unavailable)
		}
		if !a.isDown() {
			t.Fatal("not down after unavailable errors")
		}
		time.Sleep(3 * a.every) // probes that find it still down
		synctest.Wait()
		if !a.isDown() {
			t.Fatal("up again while the database does not answer")
		}
		up.Store(true)
		time.Sleep(a.every) // the next probe
		synctest.Wait()
		if a.isDown() {
			t.Fatal("still down after the database answered")
		}
		up.Store(false)
		a.observe(unavailable) // a second outage
		want := []string{
			"WARN database unavailable; requests answer 503 until it is back",
			"INFO database available again",
			"WARN database unavailable; requests answer 503 until it is back",
		}
		if got := buf.lines(); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("log lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}

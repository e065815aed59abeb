package store_test

import (
	"context"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/chatapp/chat/chat"
	"github.com/chatapp/chat/store"
	"github.com/chatapp/chat/store/storetest"
)

// roundTrips counts what a store's connections send to Postgres: each
// write is one request that the client then waits on, a round trip.
type roundTrips struct {
	mu     sync.Mutex
	writes int
}

func (r *roundTrips) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writes = 0
}

func (r *roundTrips) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.writes
}

// options dial through counting connections. They also turn off
// database/sql's ping of a connection idle for over a second (pgx's
// session reset): a slow machine would otherwise add pings at random.
func (r *roundTrips) options() []stdlib.OptionOpenDB {
	return []stdlib.OptionOpenDB{
		stdlib.OptionBeforeConnect(func(_ context.Context, cfg *pgx.ConnConfig) error {
			dial := cfg.DialFunc
			cfg.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := dial(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				return countingConn{Conn: c, r: r}, nil
			}
			return nil
		}),
		stdlib.OptionShouldPing(func(context.Context, stdlib.ShouldPingParams) bool { return false }),
	}
}

type countingConn struct {
	net.Conn
	r *roundTrips
}

func (c countingConn) Write(p []byte) (int, error) {
	c.r.mu.Lock()
	c.r.writes++
	c.r.mu.Unlock()
	return c.Conn.Write(p)
}

// TestLoneSendRoundTrips: on Postgres a lone plain send costs one round
// trip, and so does a batch of a few; sends that queue behind a commit
// still form one batch, and a larger one takes the batch transaction (its
// round trips do not grow with its size).
func TestLoneSendRoundTrips(t *testing.T) {
	ctx := t.Context()
	url := storetest.PostgresURL(t)
	var rt roundTrips
	s, err := store.OpenPostgresWith(ctx, url, nil, rt.options()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	// One connection: every statement is prepared on it once (pgx caches
	// it per connection), so warmed-up counts are exact.
	s.DB().SetMaxOpenConns(1)
	u := chat.User{Username: "counted"}
	noErr(t, s.CreateUser(ctx, &u, "h"))
	g := chat.Group{Name: new("counted"), Visibility: chat.Public, OwnerID: u.ID}
	noErr(t, s.CreateGroup(ctx, &g))

	lone := func(body string) int {
		rt.reset()
		_, created, err := s.InsertMessage(ctx, chat.NewMessage{GroupID: g.ID, SenderID: u.ID, Body: body, ClientID: new(body)})
		noErr(t, err)
		if !created {
			t.Fatalf("send %q not created", body)
		}
		return rt.count()
	}
	lone("warm-up") // prepares the statement
	if n := lone("lone"); n != 1 {
		t.Errorf("lone plain send took %d round trips, want 1", n)
	}

	// Each batch twice: the first prepares its statements.
	for _, tc := range []struct {
		size, want int
	}{
		{3, 1},
		{store.FewMax, 1},
		// BEGIN, memberships, seqs, insert, read markers, COMMIT (no
		// client_id: no originals to read).
		{store.FewMax + 1, 6},
	} {
		var first int
		for round := range 2 {
			n, seqs := heldBatch(t, s, url, g.ID, u.ID, tc.size, &rt)
			for i := 1; i < len(seqs); i++ {
				if seqs[i] != seqs[0]+int64(i) {
					t.Fatalf("batch seqs = %v, want consecutive", seqs)
				}
			}
			if round == 0 {
				first = n
			} else if n != tc.want {
				t.Errorf("a batch of %d took %d round trips (%d unprepared), want %d", tc.size, n, first, tc.want)
			}
		}
	}
}

// heldBatch holds group gid's row lock on a connection of its own while a
// plug send waits for it, queues size sends behind the plug, then lets
// them go: they commit as one batch. It returns the batch's round trips and
// its seqs.
func heldBatch(t *testing.T, s *store.Store, url string, gid, uid int64, size int, rt *roundTrips) (int, []int64) {
	t.Helper()
	ctx := t.Context()
	other, err := pgx.Connect(ctx, url)
	noErr(t, err)
	defer func() { _ = other.Close(ctx) }()
	tx, err := other.Begin(ctx)
	noErr(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	_, err = tx.Exec(ctx, "UPDATE groups SET last_seq = last_seq WHERE id = $1", gid)
	noErr(t, err)
	plug := s.QueueMessage(ctx, chat.NewMessage{GroupID: gid, SenderID: uid, Body: "plug"})
	waitFor(t, "the plug to wait for the group's lock", func() bool {
		var waiting int
		noErr(t, other.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting))
		return waiting > 0
	})
	var waits []func() (chat.Message, bool, error)
	for i := range size {
		waits = append(waits, s.QueueMessage(ctx, chat.NewMessage{GroupID: gid, SenderID: uid, Body: "queued " + strconv.Itoa(i)}))
	}
	waitFor(t, "the sends queued behind the plug", func() bool {
		w, c := s.InsertQueue()
		return w == size && c == 1
	})
	rt.reset()
	noErr(t, tx.Commit(ctx))
	_, _, err = plug()
	noErr(t, err)
	var seqs []int64
	for _, wait := range waits {
		m, _, err := wait()
		noErr(t, err)
		seqs = append(seqs, m.Seq)
	}
	return rt.count(), seqs
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

package store_test

import (
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/chatapp/chat/chat"
	"github.com/chatapp/chat/store"
	"github.com/chatapp/chat/store/storetest"
)

// TestFewSendsIntoADeletedGroup: a batch of plain sends waits in its one
// statement for the lock of a group that is being deleted. The sends to
// the other group are stored, those to the deleted one fail with
// chat.ErrNoMembership, as the batch transaction answers them. (Postgres
// only: on SQLite the batch never starts while the delete holds the one
// write lock.)
func TestFewSendsIntoADeletedGroup(t *testing.T) {
	ctx := t.Context()
	url := storetest.PostgresURL(t)
	s, err := store.OpenPostgres(ctx, url, nil)
	noErr(t, err)
	t.Cleanup(func() { _ = s.Close() })
	u := chat.User{Username: "deleter"}
	noErr(t, s.CreateUser(ctx, &u, "h"))
	var gs [3]chat.Group // plug, going, staying
	for i, name := range []string{"plug", "going", "staying"} {
		gs[i] = chat.Group{Name: new(name), Visibility: chat.Public, OwnerID: u.ID}
		noErr(t, s.CreateGroup(ctx, &gs[i]))
	}
	plugGroup, going, staying := gs[0].ID, gs[1].ID, gs[2].ID

	conn := func() *pgx.Conn {
		c, err := pgx.Connect(ctx, url)
		noErr(t, err)
		t.Cleanup(func() { _ = c.Close(ctx) })
		return c
	}
	begin := func() pgx.Tx {
		tx, err := conn().Begin(ctx)
		noErr(t, err)
		t.Cleanup(func() { _ = tx.Rollback(ctx) })
		return tx
	}
	// One transaction stalls group commit with a plug; another deletes a
	// group, holding its row lock until it commits.
	hold, del, watch := begin(), begin(), conn()
	_, err = hold.Exec(ctx, "UPDATE groups SET last_seq = last_seq WHERE id = $1", plugGroup)
	noErr(t, err)
	_, err = del.Exec(ctx, "DELETE FROM groups WHERE id = $1", going)
	noErr(t, err)
	lockWaits := func() int {
		var n int
		noErr(t, watch.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n))
		return n
	}
	plug := s.QueueMessage(ctx, chat.NewMessage{GroupID: plugGroup, SenderID: u.ID, Body: "plug"})
	waitFor(t, "the plug to wait", func() bool { return lockWaits() == 1 })
	var waits []func() (chat.Message, bool, error)
	for _, gid := range []int64{going, staying, going, staying} {
		waits = append(waits, s.QueueMessage(ctx, chat.NewMessage{GroupID: gid, SenderID: u.ID, Body: "hello"}))
	}
	waitFor(t, "four sends queued behind the plug", func() bool {
		w, c := s.InsertQueue()
		return w == 4 && c == 1
	})
	noErr(t, hold.Commit(ctx))
	_, _, err = plug()
	noErr(t, err)
	// The batch read the memberships (the delete is not committed) and
	// waits for the deleted group's lock.
	waitFor(t, "the batch to wait for the deleted group", func() bool { return lockWaits() == 1 })
	noErr(t, del.Commit(ctx))
	for i, wait := range waits {
		m, created, err := wait()
		if i%2 == 0 {
			if !errors.Is(err, chat.ErrNoMembership) {
				t.Errorf("send %d into the deleted group: %+v, %v; want chat.ErrNoMembership", i, m, err)
			}
			continue
		}
		noErr(t, err)
		if want := int64(i/2 + 1); !created || m.Seq != want || m.GroupID != staying {
			t.Errorf("send %d = group %d seq %d created %v, want group %d seq %d", i, m.GroupID, m.Seq, created, staying, want)
		}
	}
}

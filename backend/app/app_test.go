package app_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/auth"
	"github.com/chatapp/chat/chat"
	"github.com/chatapp/chat/store/storetest"
)

// recorder is a fake Notifier that keeps what it is told.
type recorder struct {
	mu     sync.Mutex
	events []chat.Event
}

func (r *recorder) Notify(_ context.Context, ev chat.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

// take returns the events recorded since the last take.
func (r *recorder) take() []chat.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	evs := r.events
	r.events = nil
	return evs
}

// clock is a fake clock the test moves by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// presence is a fake Presence.
type presence map[int64]bool

func (p presence) Online(_ context.Context, id int64) (bool, error) { return p[id], nil }

type fx struct {
	svc    *app.Service
	rec    *recorder
	clock  *clock
	logins *auth.LoginGuard // the defaults of chatd
	n      int              // makes usernames unique within one store
}

func newFx(t testing.TB, st app.Store, pres app.Presence) *fx {
	t.Helper()
	h, err := auth.NewHasher(auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tk, err := auth.NewTokens(auth.TokenConfig{Secret: []byte("0123456789abcdef0123456789abcdef"), Issuer: "chat", Audience: "chat"})
	if err != nil {
		t.Fatal(err)
	}
	f := &fx{rec: &recorder{}, clock: &clock{now: time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)}, logins: auth.NewLoginGuard(auth.GuardConfig{})}
	f.svc = app.New(app.Deps{
		Store:    st,
		Tokens:   tk,
		Hasher:   h,
		Notifier: f.rec,
		Presence: pres,
		Logins:   f.logins,
		Clock:    f.clock.Now,
	}, app.Config{RefreshTTL: 24 * time.Hour})
	return f
}

// eachStore runs fn once per store implementation, each on a fresh database.
func eachStore(t *testing.T, pres app.Presence, fn func(t *testing.T, f *fx)) {
	for name, open := range storetest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			fn(t, newFx(t, open(t), pres))
		})
	}
}

// user registers a fresh user whose name starts with prefix.
func (f *fx) user(t *testing.T, prefix string) app.AuthResult {
	t.Helper()
	f.n++
	res, err := f.svc.Register(context.Background(), app.Registration{
		Username: fmt.Sprintf("%s%d", prefix, f.n), Password: "password-1", DisplayName: prefix,
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// wantCode fails unless err is nil (code "") or a *chat.Error with code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	var ce *chat.Error
	if !errors.As(err, &ce) || ce.Code != code {
		t.Fatalf("got error %v, want code %q", err, code)
	}
	kinds := map[string]error{
		"validation_failed": chat.ErrInvalid, "unauthorized": chat.ErrUnauthorized, "invalid_credentials": chat.ErrUnauthorized,
		"forbidden": chat.ErrForbidden, "not_member": chat.ErrForbidden, "not_found": chat.ErrNotFound,
		"conflict": chat.ErrConflict, "username_taken": chat.ErrConflict, "rate_limited": chat.ErrRateLimited,
	}
	if k := kinds[code]; k != nil && !errors.Is(err, k) {
		t.Fatalf("code %s has the wrong kind: %v", code, err)
	}
}

func ptr[T any](v T) *T { return &v }

var ctx = context.Background()

// world is a public and a private group with one user of each standing.
type world struct {
	owner, admin, member, outsider int64
	pub, priv                      int64
	memberMsg, adminMsg            int64 // in pub
	privMsg                        int64 // by owner, in priv
}

func (f *fx) world(t *testing.T) world {
	t.Helper()
	var w world
	w.owner, w.admin, w.member, w.outsider = f.user(t, "own").User.ID, f.user(t, "adm").User.ID, f.user(t, "mem").User.ID, f.user(t, "out").User.ID
	pub, err := f.svc.CreateGroup(ctx, w.owner, app.GroupInput{Name: "Public"})
	wantCode(t, err, "")
	priv, err := f.svc.CreateGroup(ctx, w.owner, app.GroupInput{Name: "Private", Visibility: chat.Private})
	wantCode(t, err, "")
	w.pub, w.priv = pub.ID, priv.ID
	for _, g := range []int64{w.pub, w.priv} {
		for _, u := range []int64{w.admin, w.member} {
			_, err := f.svc.AddMember(ctx, w.owner, g, u)
			wantCode(t, err, "")
		}
		_, err := f.svc.SetRole(ctx, w.owner, g, w.admin, chat.RoleAdmin)
		wantCode(t, err, "")
	}
	send := func(uid, gid int64) int64 {
		m, _, err := f.svc.Send(ctx, uid, gid, app.Outgoing{Body: "hello"})
		wantCode(t, err, "")
		return m.ID
	}
	w.memberMsg, w.adminMsg, w.privMsg = send(w.member, w.pub), send(w.admin, w.pub), send(w.owner, w.priv)
	f.rec.take()
	return w
}

// seqs lists the seqs of messages.
func seqs(ms []chat.Message) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.Seq
	}
	return out
}

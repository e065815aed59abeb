package app_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

func TestRegisterAndLogin(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, f *fx) {
		res, err := f.svc.Register(ctx, app.Registration{Username: "Alice", Password: "password-1", DisplayName: "  Alice A.  "})
		wantCode(t, err, "")
		if res.User.ID == 0 || res.User.DisplayName != "Alice A." || res.TokenType != "Bearer" ||
			res.ExpiresIn != 900 || res.AccessToken == "" || res.RefreshToken == "" {
			t.Fatalf("register result %+v", res)
		}
		uid, err := f.svc.Authenticate(ctx, res.AccessToken)
		if err != nil || uid != res.User.ID {
			t.Fatalf("authenticate: %d %v", uid, err)
		}
		_, err = f.svc.Authenticate(ctx, "")
		wantCode(t, err, "unauthorized")
		f.clock.Add(16 * time.Minute)
		_, err = f.svc.Authenticate(ctx, res.AccessToken)
		wantCode(t, err, "token_expired")

		tests := []struct {
			name string
			in   app.Registration
			code string
		}{
			{"taken ignoring case", app.Registration{Username: "aLICE", Password: "password-1"}, "username_taken"},
			{"short username", app.Registration{Username: "al", Password: "password-1"}, "validation_failed"},
			{"short password", app.Registration{Username: "bob", Password: "short"}, "validation_failed"},
			{"long display name", app.Registration{Username: "bob", Password: "password-1", DisplayName: string(make([]byte, 65))}, "validation_failed"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := f.svc.Register(ctx, tt.in)
				wantCode(t, err, tt.code)
			})
		}
		_, err = f.svc.Register(ctx, app.Registration{Username: "x", Password: "y"})
		var ce *chat.Error
		if !errors.As(err, &ce) || ce.Details["username"] == "" || ce.Details["password"] == "" {
			t.Fatalf("all field problems at once: %v", err)
		}

		login, err := f.svc.Login(ctx, "ALICE", "password-1")
		if err != nil || login.User.ID != res.User.ID || login.RefreshToken == res.RefreshToken {
			t.Fatalf("login ignoring case: %+v %v", login, err)
		}
		_, wrongPw := f.svc.Login(ctx, "alice", "password-2")
		_, unknown := f.svc.Login(ctx, "nobody", "password-1")
		wantCode(t, wrongPw, "invalid_credentials")
		wantCode(t, unknown, "invalid_credentials")
		if wrongPw.Error() != unknown.Error() {
			t.Fatalf("unknown user and wrong password answer differently: %v / %v", wrongPw, unknown)
		}
		if evs := f.rec.take(); len(evs) != 0 {
			t.Fatalf("auth emitted events: %+v", evs)
		}
	})
}

func TestRefreshRotationAndReuse(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, f *fx) {
		u := f.user(t, "rt")
		r1 := u.RefreshToken

		second, err := f.svc.Refresh(ctx, r1)
		wantCode(t, err, "")
		r2 := second.RefreshToken
		if r2 == r1 || second.AccessToken == "" || second.User.ID != u.User.ID {
			t.Fatalf("rotation %+v", second)
		}
		// r1 again: a reuse. It fails and takes the whole family with it.
		_, err = f.svc.Refresh(ctx, r1)
		wantCode(t, err, "unauthorized")
		_, err = f.svc.Refresh(ctx, r2)
		wantCode(t, err, "unauthorized")

		// Another login is another family, untouched by that revocation.
		other, err := f.svc.Login(ctx, u.User.Username, "password-1")
		wantCode(t, err, "")
		third, err := f.svc.Refresh(ctx, other.RefreshToken)
		wantCode(t, err, "")

		// Expiry.
		f.clock.Add(25 * time.Hour)
		_, err = f.svc.Refresh(ctx, third.RefreshToken)
		wantCode(t, err, "unauthorized")

		_, err = f.svc.Refresh(ctx, "never-issued")
		wantCode(t, err, "unauthorized")
		_, err = f.svc.Refresh(ctx, "")
		wantCode(t, err, "unauthorized")
	})
}

func TestLogout(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, f *fx) {
		u := f.user(t, "lo")
		next, err := f.svc.Refresh(ctx, u.RefreshToken)
		wantCode(t, err, "")
		// Logging out with the older token of the family ends the family.
		wantCode(t, f.svc.Logout(ctx, u.RefreshToken), "")
		_, err = f.svc.Refresh(ctx, next.RefreshToken)
		wantCode(t, err, "unauthorized")
		// Idempotent, and silent about unknown tokens.
		wantCode(t, f.svc.Logout(ctx, next.RefreshToken), "")
		wantCode(t, f.svc.Logout(ctx, "unknown-token"), "")
		wantCode(t, f.svc.Logout(ctx, ""), "validation_failed")
	})
}

func TestUpdateMe(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, f *fx) {
		u := f.user(t, "me")
		uid := u.User.ID
		tests := []struct {
			name string
			in   app.ProfileChange
			code string
		}{
			{"display name", app.ProfileChange{DisplayName: ptr("  New Name ")}, ""},
			{"display too long", app.ProfileChange{DisplayName: ptr(string(make([]rune, 65)))}, "validation_failed"},
			{"password without current", app.ProfileChange{Password: ptr("new-password")}, "validation_failed"},
			{"password with wrong current", app.ProfileChange{Password: ptr("new-password"), CurrentPassword: ptr("nope-nope")}, "validation_failed"},
			{"short new password", app.ProfileChange{Password: ptr("short"), CurrentPassword: ptr("password-1")}, "validation_failed"},
			{"password", app.ProfileChange{Password: ptr("new-password"), CurrentPassword: ptr("password-1")}, ""},
			{"nothing", app.ProfileChange{}, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := f.svc.UpdateMe(ctx, uid, tt.in)
				wantCode(t, err, tt.code)
			})
		}
		me, err := f.svc.Me(ctx, uid)
		if err != nil || me.DisplayName != "New Name" {
			t.Fatalf("me %+v %v", me, err)
		}
		_, err = f.svc.Login(ctx, me.Username, "password-1")
		wantCode(t, err, "invalid_credentials")
		_, err = f.svc.Login(ctx, me.Username, "new-password")
		wantCode(t, err, "")
	})
}

func TestPasswordChangeEndsSessions(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, f *fx) {
		here := f.user(t, "pw") // this device
		uid := here.User.ID
		thief, err := f.svc.Login(ctx, here.User.Username, "password-1")
		wantCode(t, err, "")
		thief, err = f.svc.Refresh(ctx, thief.RefreshToken) // a rotated family too
		wantCode(t, err, "")

		steps := []struct {
			name    string
			in      app.ProfileChange
			code    string
			revokes bool
		}{
			{"display name only", app.ProfileChange{DisplayName: ptr("Pat")}, "", false},
			{"wrong current password", app.ProfileChange{Password: ptr("new-password"), CurrentPassword: ptr("wrong-one")}, "validation_failed", false},
			{"password", app.ProfileChange{Password: ptr("new-password"), CurrentPassword: ptr("password-1")}, "", true},
		}
		f.rec.take()
		for _, st := range steps {
			// No time passes: a token issued in the second of the change
			// is refused as well.
			_, err := f.svc.UpdateMe(ctx, uid, st.in)
			wantCode(t, err, st.code)
			want := ""
			ended := 0
			if st.revokes {
				want = "unauthorized"
				ended = 1
			}
			var got []chat.Event
			for _, ev := range f.rec.take() {
				if ev.Type == chat.EventSessionsEnded {
					got = append(got, ev)
				}
			}
			if len(got) != ended || (ended == 1 && got[0].UserID != uid) {
				t.Fatalf("%s: sessions_ended events %+v, want %d for user %d", st.name, got, ended, uid)
			}
			for _, s := range []*app.AuthResult{&here, &thief} {
				next, err := f.svc.Refresh(ctx, s.RefreshToken)
				wantCode(t, err, want)
				if err == nil {
					*s = next
				}
			}
		}
		// The access token in hand is refused, on REST and WebSocket.
		_, err = f.svc.Authenticate(ctx, here.AccessToken)
		wantCode(t, err, "unauthorized")
		_, _, err = f.svc.AuthenticateSocket(ctx, here.AccessToken)
		wantCode(t, err, "unauthorized")
		// What the client does next: log in again with the new password.
		f.clock.Add(10 * time.Minute) // the old access token is still unexpired
		again, err := f.svc.Login(ctx, here.User.Username, "new-password")
		wantCode(t, err, "")
		if got, _, err := f.svc.AuthenticateSocket(ctx, again.AccessToken); err != nil || got.ID != uid || got.Username != here.User.Username {
			t.Fatalf("AuthenticateSocket with the new token = %+v, %v", got, err)
		}
		_, _, err = f.svc.AuthenticateSocket(ctx, here.AccessToken)
		wantCode(t, err, "unauthorized")
		_, err = f.svc.Refresh(ctx, again.RefreshToken)
		wantCode(t, err, "")
		// Another user's sockets are not concerned.
		other := f.user(t, "bystander")
		if got, _, err := f.svc.AuthenticateSocket(ctx, other.AccessToken); err != nil || got.ID != other.User.ID {
			t.Fatalf("AuthenticateSocket of another user = %+v, %v", got, err)
		}
		_, _, err = f.svc.AuthenticateSocket(ctx, "")
		wantCode(t, err, "unauthorized")
	})
}

// hookStore runs onCreate once, right after the next refresh token is
// stored: a revocation that lands in the middle of a rotation.
type hookStore struct {
	app.Store
	onCreate func(ctx context.Context, t *app.RefreshToken)
}

func (h *hookStore) CreateRefreshToken(ctx context.Context, t *app.RefreshToken) error {
	if err := h.Store.CreateRefreshToken(ctx, t); err != nil {
		return err
	}
	if fn := h.onCreate; fn != nil {
		h.onCreate = nil
		fn(ctx, t)
	}
	return nil
}

func TestRefreshRacingPasswordChange(t *testing.T) {
	for name, open := range storetest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			hs := &hookStore{Store: open(t)}
			f := newFx(t, hs, nil)
			u := f.user(t, "race")
			var successor string
			hs.onCreate = func(ctx context.Context, tok *app.RefreshToken) {
				successor = tok.Hash
				if _, err := hs.EndSessions(ctx, u.User.ID, f.clock.Now()); err != nil {
					t.Errorf("EndSessions: %v", err)
				}
			}
			_, err := f.svc.Refresh(ctx, u.RefreshToken)
			wantCode(t, err, "unauthorized")
			tok, err := hs.RefreshTokenByHash(ctx, successor)
			if err != nil || tok.RevokedAt == nil {
				t.Fatalf("the successor issued during the revocation survived: %+v %v", tok, err)
			}
		})
	}
}

// TestLoginRacingPasswordChange: a login that checked the old password
// while the password changed (the change ended the sessions before the
// login stored its own) gets no session.
func TestLoginRacingPasswordChange(t *testing.T) {
	for name, open := range storetest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			hs := &hookStore{Store: open(t)}
			f := newFx(t, hs, nil)
			u := f.user(t, "racer")
			var family string
			hs.onCreate = func(ctx context.Context, tok *app.RefreshToken) {
				family = tok.FamilyID
				_, err := f.svc.UpdateMe(ctx, u.User.ID, app.ProfileChange{Password: ptr("changed-password"), CurrentPassword: ptr("password-1")})
				if err != nil {
					t.Errorf("UpdateMe: %v", err)
				}
			}
			_, err := f.svc.Login(ctx, u.User.Username, "password-1")
			wantCode(t, err, "invalid_credentials")
			if _, ended, err := hs.SessionUser(ctx, u.User.ID, family); err != nil || !ended {
				t.Fatalf("the session the login started survived the change: ended %v, %v", ended, err)
			}
		})
	}
}

// TestSessionsRecord: the record keeps each ended session as long as a
// token of it can be valid, tells what was new, and hands out what it
// learned after a mark.
func TestSessionsRecord(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	r := app.NewSessions(10 * time.Minute)
	if _, mark := r.Since(0); mark != 0 {
		t.Fatalf("empty record mark %d", mark)
	}
	added := r.Add(t0, app.SessionEnd{Session: "a", UserID: 1, At: t0}, app.SessionEnd{Session: "b", UserID: 2})
	if len(added) != 2 || added[1].At != t0 {
		t.Fatalf("added %+v", added)
	}
	if added := r.Add(t0, app.SessionEnd{Session: "a", UserID: 1, At: t0}); len(added) != 0 {
		t.Fatalf("a known session added again: %+v", added)
	}
	if !r.Ended("a") || !r.Ended("b") || r.Ended("c") {
		t.Fatal("Ended does not match what was added")
	}
	ends, mark := r.Since(0)
	if len(ends) != 2 || mark != 2 {
		t.Fatalf("Since(0) = %+v, %d", ends, mark)
	}
	r.Add(t0.Add(5*time.Minute), app.SessionEnd{Session: "c", UserID: 3, At: t0.Add(5 * time.Minute)})
	if ends, next := r.Since(mark); len(ends) != 1 || ends[0].Session != "c" || next != 3 {
		t.Fatalf("Since(%d) = %+v, %d", mark, ends, next)
	}
	// Eleven minutes on, a and b are forgotten (their tokens expired), c is kept.
	r.Add(t0.Add(11*time.Minute), app.SessionEnd{Session: "d", UserID: 4, At: t0.Add(11 * time.Minute)})
	if r.Ended("a") || r.Ended("b") || !r.Ended("c") || !r.Ended("d") {
		t.Fatal("pruning kept or dropped the wrong sessions")
	}
	if ends, next := r.Since(0); len(ends) != 2 || ends[0].Session != "c" || next != 4 {
		t.Fatalf("Since(0) after pruning = %+v, %d", ends, next)
	}
	if ends, next := r.Since(3); len(ends) != 1 || ends[0].Session != "d" || next != 4 {
		t.Fatalf("Since(3) after pruning = %+v, %d", ends, next)
	}
}

func TestUsersAndPresence(t *testing.T) {
	pres := presence{}
	eachStore(t, pres, func(t *testing.T, f *fx) {
		a, b := f.user(t, "findme"), f.user(t, "other")
		pres[a.User.ID] = true
		got, err := f.svc.User(ctx, b.User.ID, a.User.ID)
		if err != nil || got.Online == nil || !*got.Online {
			t.Fatalf("online user: %+v %v", got, err)
		}
		got, err = f.svc.User(ctx, a.User.ID, b.User.ID)
		if err != nil || got.Online == nil || *got.Online {
			t.Fatalf("offline user: %+v %v", got, err)
		}
		_, err = f.svc.User(ctx, a.User.ID, 999999)
		wantCode(t, err, "not_found")

		users, _, err := f.svc.SearchUsers(ctx, b.User.ID, app.Page{Query: "FINDME"})
		if err != nil || len(users) != 1 || users[0].ID != a.User.ID {
			t.Fatalf("search: %+v %v", users, err)
		}
		_, _, err = f.svc.SearchUsers(ctx, b.User.ID, app.Page{Limit: 101})
		wantCode(t, err, "validation_failed")
	})
	// Without a Presence everyone is offline, not an error.
	for name, open := range storetest.Stores(t) {
		t.Run(name+"/nil presence", func(t *testing.T) {
			f := newFx(t, open(t), nil)
			u := f.user(t, "solo")
			got, err := f.svc.User(ctx, u.User.ID, u.User.ID)
			if err != nil || got.Online == nil || *got.Online {
				t.Fatalf("%+v %v", got, err)
			}
		})
	}
}

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

func TestPermissions(t *testing.T) {
	type op func(s *app.Service, w world) error
	ignore1 := func(_ any, err error) error { return err }
	tests := []struct {
		name string
		do   op
		code string
	}{
		// Seeing groups.
		{"outsider sees public group", func(s *app.Service, w world) error { return ignore1(s.Group(ctx, w.outsider, w.pub)) }, ""},
		{"outsider cannot see private group", func(s *app.Service, w world) error { return ignore1(s.Group(ctx, w.outsider, w.priv)) }, "not_found"},
		{"member sees private group", func(s *app.Service, w world) error { return ignore1(s.Group(ctx, w.member, w.priv)) }, ""},
		{"no such group", func(s *app.Service, w world) error { return ignore1(s.Group(ctx, w.member, 987654)) }, "not_found"},
		{"outsider lists public members", func(s *app.Service, w world) error { return ignore1(s.Members(ctx, w.outsider, w.pub)) }, "not_member"},
		{"outsider lists private members", func(s *app.Service, w world) error { return ignore1(s.Members(ctx, w.outsider, w.priv)) }, "not_found"},
		{"member lists members", func(s *app.Service, w world) error { return ignore1(s.Members(ctx, w.member, w.pub)) }, ""},
		// Messages.
		{"outsider reads public history", func(s *app.Service, w world) error {
			_, _, err := s.History(ctx, w.outsider, w.pub, app.HistoryQuery{})
			return err
		}, "not_member"},
		{"outsider sends to public", func(s *app.Service, w world) error {
			_, _, err := s.Send(ctx, w.outsider, w.pub, app.Outgoing{Body: "hi"})
			return err
		}, "not_member"},
		{"outsider sends to private", func(s *app.Service, w world) error {
			_, _, err := s.Send(ctx, w.outsider, w.priv, app.Outgoing{Body: "hi"})
			return err
		}, "not_found"},
		{"member sends blank", func(s *app.Service, w world) error {
			_, _, err := s.Send(ctx, w.member, w.pub, app.Outgoing{Body: "   "})
			return err
		}, "validation_failed"},
		{"history limit too big", func(s *app.Service, w world) error {
			_, _, err := s.History(ctx, w.member, w.pub, app.HistoryQuery{Limit: 201})
			return err
		}, "validation_failed"},
		{"member edits own message", func(s *app.Service, w world) error {
			return ignore1(s.EditMessage(ctx, w.member, w.memberMsg, "edited"))
		}, ""},
		{"admin edits member's message", func(s *app.Service, w world) error {
			return ignore1(s.EditMessage(ctx, w.admin, w.memberMsg, "edited"))
		}, "forbidden"},
		{"outsider edits private message", func(s *app.Service, w world) error { return ignore1(s.EditMessage(ctx, w.outsider, w.privMsg, "x")) }, "not_found"},
		{"edit missing message", func(s *app.Service, w world) error { return ignore1(s.EditMessage(ctx, w.member, 987654, "x")) }, "not_found"},
		{"member deletes own message", func(s *app.Service, w world) error { return s.DeleteMessage(ctx, w.member, w.memberMsg) }, ""},
		{"admin deletes member's message", func(s *app.Service, w world) error { return s.DeleteMessage(ctx, w.admin, w.memberMsg) }, ""},
		{"owner deletes admin's message", func(s *app.Service, w world) error { return s.DeleteMessage(ctx, w.owner, w.adminMsg) }, ""},
		{"member deletes admin's message", func(s *app.Service, w world) error { return s.DeleteMessage(ctx, w.member, w.adminMsg) }, "forbidden"},
		{"outsider deletes public message", func(s *app.Service, w world) error { return s.DeleteMessage(ctx, w.outsider, w.memberMsg) }, "not_member"},
		{"outsider deletes private message", func(s *app.Service, w world) error { return s.DeleteMessage(ctx, w.outsider, w.privMsg) }, "not_found"},
		{"outsider types", func(s *app.Service, w world) error { return s.Typing(ctx, w.outsider, w.pub, "c") }, "not_member"},
		{"outsider marks read", func(s *app.Service, w world) error { return s.MarkRead(ctx, w.outsider, w.priv, 1, "") }, "not_found"},
		{"negative read seq", func(s *app.Service, w world) error { return s.MarkRead(ctx, w.member, w.pub, -1, "") }, "validation_failed"},
		// Group settings.
		{"member renames", func(s *app.Service, w world) error {
			return ignore1(s.UpdateGroup(ctx, w.member, w.pub, app.GroupPatch{Name: ptr("x")}))
		}, "forbidden"},
		{"outsider renames", func(s *app.Service, w world) error {
			return ignore1(s.UpdateGroup(ctx, w.outsider, w.pub, app.GroupPatch{Name: ptr("x")}))
		}, "not_member"},
		{"admin renames", func(s *app.Service, w world) error {
			return ignore1(s.UpdateGroup(ctx, w.admin, w.pub, app.GroupPatch{Name: ptr("Renamed")}))
		}, ""},
		{"admin renames to blank", func(s *app.Service, w world) error {
			return ignore1(s.UpdateGroup(ctx, w.admin, w.pub, app.GroupPatch{Name: ptr("  ")}))
		}, "validation_failed"},
		{"admin sets bad visibility", func(s *app.Service, w world) error {
			return ignore1(s.UpdateGroup(ctx, w.admin, w.pub, app.GroupPatch{Visibility: ptr(chat.Visibility("hidden"))}))
		}, "validation_failed"},
		{"admin deletes group", func(s *app.Service, w world) error { return s.DeleteGroup(ctx, w.admin, w.pub) }, "forbidden"},
		{"outsider deletes private group", func(s *app.Service, w world) error { return s.DeleteGroup(ctx, w.outsider, w.priv) }, "not_found"},
		{"owner deletes group", func(s *app.Service, w world) error { return s.DeleteGroup(ctx, w.owner, w.pub) }, ""},
		// Joining and leaving.
		{"outsider joins public", func(s *app.Service, w world) error { return ignore1(s.Join(ctx, w.outsider, w.pub)) }, ""},
		{"outsider joins private", func(s *app.Service, w world) error { return ignore1(s.Join(ctx, w.outsider, w.priv)) }, "not_found"},
		{"member joins again", func(s *app.Service, w world) error { return ignore1(s.Join(ctx, w.member, w.priv)) }, ""},
		{"member leaves", func(s *app.Service, w world) error { return s.Leave(ctx, w.member, w.pub) }, ""},
		{"owner leaves", func(s *app.Service, w world) error { return s.Leave(ctx, w.owner, w.pub) }, "conflict"},
		{"outsider leaves public", func(s *app.Service, w world) error { return s.Leave(ctx, w.outsider, w.pub) }, "not_member"},
		// Members.
		{"member adds outsider", func(s *app.Service, w world) error { return ignore1(s.AddMember(ctx, w.member, w.pub, w.outsider)) }, "forbidden"},
		{"admin adds outsider", func(s *app.Service, w world) error { return ignore1(s.AddMember(ctx, w.admin, w.priv, w.outsider)) }, ""},
		{"admin adds a member again", func(s *app.Service, w world) error { return ignore1(s.AddMember(ctx, w.admin, w.pub, w.member)) }, "conflict"},
		{"admin adds nobody", func(s *app.Service, w world) error { return ignore1(s.AddMember(ctx, w.admin, w.pub, 987654)) }, "not_found"},
		{"admin sets a role", func(s *app.Service, w world) error {
			return ignore1(s.SetRole(ctx, w.admin, w.pub, w.member, chat.RoleAdmin))
		}, "forbidden"},
		{"owner makes member admin", func(s *app.Service, w world) error {
			return ignore1(s.SetRole(ctx, w.owner, w.pub, w.member, chat.RoleAdmin))
		}, ""},
		{"owner demotes admin", func(s *app.Service, w world) error {
			return ignore1(s.SetRole(ctx, w.owner, w.pub, w.admin, chat.RoleMember))
		}, ""},
		{"owner gives ownership", func(s *app.Service, w world) error {
			return ignore1(s.SetRole(ctx, w.owner, w.pub, w.member, chat.RoleOwner))
		}, "validation_failed"},
		{"owner changes own role", func(s *app.Service, w world) error {
			return ignore1(s.SetRole(ctx, w.owner, w.pub, w.owner, chat.RoleMember))
		}, "forbidden"},
		{"owner sets role of outsider", func(s *app.Service, w world) error {
			return ignore1(s.SetRole(ctx, w.owner, w.pub, w.outsider, chat.RoleAdmin))
		}, "not_found"},
		{"admin removes member", func(s *app.Service, w world) error { return s.RemoveMember(ctx, w.admin, w.pub, w.member) }, ""},
		{"admin removes owner", func(s *app.Service, w world) error { return s.RemoveMember(ctx, w.admin, w.pub, w.owner) }, "forbidden"},
		{"admin removes self", func(s *app.Service, w world) error { return s.RemoveMember(ctx, w.admin, w.pub, w.admin) }, ""},
		{"member removes member", func(s *app.Service, w world) error { return s.RemoveMember(ctx, w.member, w.pub, w.admin) }, "forbidden"},
		{"owner removes admin", func(s *app.Service, w world) error { return s.RemoveMember(ctx, w.owner, w.pub, w.admin) }, ""},
		{"owner removes self", func(s *app.Service, w world) error { return s.RemoveMember(ctx, w.owner, w.pub, w.owner) }, "conflict"},
		{"owner removes non-member", func(s *app.Service, w world) error { return s.RemoveMember(ctx, w.owner, w.pub, w.outsider) }, "not_found"},
	}
	eachStore(t, nil, func(t *testing.T, f *fx) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				w := f.world(t)
				err := tt.do(f.svc, w)
				wantCode(t, err, tt.code)
				if evs := f.rec.take(); err != nil && len(evs) != 0 {
					t.Fatalf("a failed call emitted events: %+v", evs)
				}
			})
		}
	})
}

// seqs lists the seqs of messages.
func seqs(ms []chat.Message) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.Seq
	}
	return out
}

func TestSendIsIdempotentAndOrdered(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, f *fx) {
		w := f.world(t) // pub already holds seq 1 and 2
		m1, created, err := f.svc.Send(ctx, w.member, w.pub, app.Outgoing{Body: "  one  ", ClientID: ptr("c-1")})
		if err != nil || !created || m1.Seq != 3 || m1.Body != "one" || m1.Sender.ID != w.member {
			t.Fatalf("first send %+v %v %v", m1, created, err)
		}
		evs := f.rec.take()
		if len(evs) != 1 || evs[0].Type != chat.EventMessage || evs[0].GroupID != w.pub || evs[0].Message == nil || evs[0].Message.ID != m1.ID {
			t.Fatalf("message event %+v", evs)
		}
		again, created, err := f.svc.Send(ctx, w.member, w.pub, app.Outgoing{Body: "one (retry)", ClientID: ptr("c-1")})
		if err != nil || created || again.ID != m1.ID || again.Seq != 3 || again.Body != "one" {
			t.Fatalf("repeat %+v %v %v", again, created, err)
		}
		if evs := f.rec.take(); len(evs) != 0 {
			t.Fatalf("a repeat was announced again: %+v", evs)
		}
		// Another sender may use the same client_id; an empty one means none.
		other, created, err := f.svc.Send(ctx, w.admin, w.pub, app.Outgoing{Body: "two", ClientID: ptr("c-1")})
		if err != nil || !created || other.Seq != 4 {
			t.Fatalf("other sender %+v %v %v", other, created, err)
		}
		for i := range 2 {
			m, created, err := f.svc.Send(ctx, w.member, w.pub, app.Outgoing{Body: "x", ClientID: ptr("")})
			if err != nil || !created || m.Seq != int64(5+i) {
				t.Fatalf("empty client id %d: %+v %v %v", i, m, created, err)
			}
		}
		_, _, err = f.svc.Send(ctx, w.member, w.pub, app.Outgoing{Body: "x", ClientID: ptr(string(make([]rune, 65)))})
		wantCode(t, err, "validation_failed")

		items, more, err := f.svc.History(ctx, w.owner, w.pub, app.HistoryQuery{})
		if err != nil || more || !slices.Equal(seqs(items), []int64{1, 2, 3, 4, 5, 6}) {
			t.Fatalf("history %v %v %v", seqs(items), more, err)
		}
		items, more, err = f.svc.History(ctx, w.owner, w.pub, app.HistoryQuery{BeforeSeq: 5, Limit: 2})
		if err != nil || !more || !slices.Equal(seqs(items), []int64{3, 4}) {
			t.Fatalf("history before %v %v %v", seqs(items), more, err)
		}
		_, _, err = f.svc.History(ctx, w.owner, w.pub, app.HistoryQuery{BeforeSeq: 5, After: new(int64(1))})
		wantCode(t, err, "validation_failed")
	})
}

func TestEvents(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, f *fx) {
		w := f.world(t)
		one := func(want chat.EventType) chat.Event {
			t.Helper()
			evs := f.rec.take()
			if len(evs) != 1 || evs[0].Type != want {
				t.Fatalf("want one %s event, got %+v", want, evs)
			}
			return evs[0]
		}

		// Edit and delete.
		edited, err := f.svc.EditMessage(ctx, w.member, w.memberMsg, " changed ")
		if err != nil || edited.Body != "changed" || edited.EditedAt == nil {
			t.Fatalf("edit %+v %v", edited, err)
		}
		if ev := one(chat.EventMessageUpdated); ev.Message.ID != w.memberMsg || ev.GroupID != w.pub {
			t.Fatalf("updated event %+v", ev)
		}
		wantCode(t, f.svc.DeleteMessage(ctx, w.owner, w.memberMsg), "")
		if ev := one(chat.EventMessageDeleted); ev.Message.ID != w.memberMsg || !ev.Message.Deleted || ev.Message.Body != "" {
			t.Fatalf("deleted event %+v", ev)
		}
		wantCode(t, f.svc.DeleteMessage(ctx, w.member, w.memberMsg), "") // again: fine, silent
		if evs := f.rec.take(); len(evs) != 0 {
			t.Fatalf("second delete emitted %+v", evs)
		}
		_, err = f.svc.EditMessage(ctx, w.member, w.memberMsg, "back")
		wantCode(t, err, "conflict")

		// Read markers go to the reader's other connections only, and only when they move.
		wantCode(t, f.svc.MarkRead(ctx, w.member, w.pub, 2, "conn-1"), "")
		ev := one(chat.EventRead)
		if a := ev.Audience(); ev.GroupID != w.pub || ev.Seq != 2 || !slices.Equal(a.Users, []int64{w.member}) || a.ExceptConn != "conn-1" || a.Group {
			t.Fatalf("read event %+v", ev)
		}
		wantCode(t, f.svc.MarkRead(ctx, w.member, w.pub, 1, "conn-1"), "")
		if evs := f.rec.take(); len(evs) != 0 {
			t.Fatalf("a marker that did not move emitted %+v", evs)
		}

		// Typing.
		wantCode(t, f.svc.Typing(ctx, w.admin, w.pub, "conn-9"), "")
		if ev := one(chat.EventTyping); ev.UserID != w.admin || ev.GroupID != w.pub || ev.Audience().ExceptConn != "conn-9" || ev.Audience().ExceptUser != w.admin {
			t.Fatalf("typing event %+v", ev)
		}

		// Membership.
		if _, err := f.svc.Join(ctx, w.outsider, w.pub); err != nil {
			t.Fatal(err)
		}
		if ev := one(chat.EventMemberJoined); ev.GroupID != w.pub || ev.User == nil || ev.User.ID != w.outsider {
			t.Fatalf("joined event %+v", ev)
		}
		if _, err := f.svc.Join(ctx, w.outsider, w.pub); err != nil {
			t.Fatal(err)
		}
		if evs := f.rec.take(); len(evs) != 0 {
			t.Fatalf("joining again emitted %+v", evs)
		}
		wantCode(t, f.svc.Leave(ctx, w.outsider, w.pub), "")
		if ev := one(chat.EventMemberLeft); ev.UserID != w.outsider || !slices.Contains(ev.Audience().Users, w.outsider) || !slices.Contains(ev.Audience().Users, w.owner) || ev.Audience().Leave != w.outsider {
			t.Fatalf("left event %+v", ev)
		}
		wantCode(t, f.svc.RemoveMember(ctx, w.admin, w.pub, w.member), "")
		if ev := one(chat.EventMemberLeft); ev.UserID != w.member || !slices.Contains(ev.Audience().Users, w.member) {
			t.Fatalf("removed event must reach the removed user: %+v", ev)
		}
		if _, err := f.svc.AddMember(ctx, w.admin, w.pub, w.member); err != nil {
			t.Fatal(err)
		}
		if ev := one(chat.EventMemberJoined); ev.User == nil || ev.User.ID != w.member {
			t.Fatalf("added event %+v", ev)
		}

		// Group changes.
		g, err := f.svc.UpdateGroup(ctx, w.owner, w.pub, app.GroupPatch{Name: ptr(" New name "), Description: ptr("about")})
		if err != nil || g.Name == nil || *g.Name != "New name" || g.Description != "about" {
			t.Fatalf("update %+v %v", g, err)
		}
		if ev := one(chat.EventGroupUpdated); ev.Group == nil || ev.Group.ID != w.pub || *ev.Group.Name != "New name" {
			t.Fatalf("group event %+v", ev)
		}
		wantCode(t, f.svc.DeleteGroup(ctx, w.owner, w.pub), "")
		ev = one(chat.EventGroupDeleted)
		to := slices.Sorted(slices.Values(ev.Audience().Users))
		want := []int64{w.owner, w.admin, w.member}
		slices.Sort(want)
		if ev.GroupID != w.pub || !slices.Equal(to, want) || !ev.Audience().Dissolve {
			t.Fatalf("deleted event %+v, want to %v", ev, want)
		}
		_, err = f.svc.Group(ctx, w.owner, w.pub)
		wantCode(t, err, "not_found")

		// Creating a group tells the owner's connections.
		g, err = f.svc.CreateGroup(ctx, w.member, app.GroupInput{Name: "Mine"})
		if err != nil || g.OwnerID != w.member || g.Visibility != chat.Public || g.Kind != chat.KindGroup {
			t.Fatalf("create %+v %v", g, err)
		}
		if ev := one(chat.EventMemberJoined); ev.GroupID != g.ID || ev.User.ID != w.member {
			t.Fatalf("create event %+v", ev)
		}
		_, err = f.svc.CreateGroup(ctx, w.member, app.GroupInput{Name: "x", Visibility: "secret"})
		wantCode(t, err, "validation_failed")
	})
}

func TestDirect(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, f *fx) {
		a, b, c := f.user(t, "da").User.ID, f.user(t, "db").User.ID, f.user(t, "dc").User.ID
		_, _, err := f.svc.Direct(ctx, a, a)
		wantCode(t, err, "validation_failed")
		_, _, err = f.svc.Direct(ctx, a, 987654)
		wantCode(t, err, "not_found")
		if evs := f.rec.take(); len(evs) != 0 {
			t.Fatalf("failed direct emitted %+v", evs)
		}

		g, created, err := f.svc.Direct(ctx, a, b)
		if err != nil || !created || g.Kind != chat.KindDirect || g.Name != nil || g.Peer == nil || g.Peer.ID != b {
			t.Fatalf("direct %+v %v %v", g, created, err)
		}
		if evs := f.rec.take(); len(evs) != 2 {
			t.Fatalf("want member_joined for both, got %+v", evs)
		}
		again, created, err := f.svc.Direct(ctx, b, a)
		if err != nil || created || again.ID != g.ID || again.Peer == nil || again.Peer.ID != a {
			t.Fatalf("direct again %+v %v %v", again, created, err)
		}
		if _, _, err := f.svc.Send(ctx, b, g.ID, app.Outgoing{Body: "hi"}); err != nil {
			t.Fatal(err)
		}
		f.rec.take()

		tests := []struct {
			name string
			do   func() error
			code string
		}{
			{"third user sees it", func() error { _, err := f.svc.Group(ctx, c, g.ID); return err }, "not_found"},
			{"third user joins", func() error { _, err := f.svc.Join(ctx, c, g.ID); return err }, "not_found"},
			{"third user sends", func() error { _, _, err := f.svc.Send(ctx, c, g.ID, app.Outgoing{Body: "x"}); return err }, "not_found"},
			{"member joins", func() error { _, err := f.svc.Join(ctx, a, g.ID); return err }, "forbidden"},
			{"member leaves", func() error { return f.svc.Leave(ctx, a, g.ID) }, "forbidden"},
			{"member renames", func() error {
				_, err := f.svc.UpdateGroup(ctx, a, g.ID, app.GroupPatch{Name: ptr("x")})
				return err
			}, "forbidden"},
			{"member adds", func() error { _, err := f.svc.AddMember(ctx, a, g.ID, c); return err }, "forbidden"},
			{"member removes", func() error { return f.svc.RemoveMember(ctx, a, g.ID, b) }, "forbidden"},
			{"member deletes", func() error { return f.svc.DeleteGroup(ctx, a, g.ID) }, "forbidden"},
			{"member sets role", func() error { _, err := f.svc.SetRole(ctx, a, g.ID, b, chat.RoleAdmin); return err }, "forbidden"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				wantCode(t, tt.do(), tt.code)
				if evs := f.rec.take(); len(evs) != 0 {
					t.Fatalf("failed call emitted %+v", evs)
				}
			})
		}

		ids, err := f.svc.GroupIDs(ctx, a)
		if err != nil || !slices.Contains(ids, g.ID) {
			t.Fatalf("group ids %v %v", ids, err)
		}
		mine, err := f.svc.MyGroups(ctx, b)
		if err != nil || len(mine) != 1 || mine[0].ID != g.ID || mine[0].LastMessage == nil {
			t.Fatalf("my groups %+v %v", mine, err)
		}
	})
}

func TestSearchGroups(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, f *fx) {
		w := f.world(t)
		groups, _, err := f.svc.SearchGroups(ctx, w.outsider, app.Page{})
		if err != nil || len(groups) != 1 || groups[0].ID != w.pub {
			t.Fatalf("outsider search %+v %v", groups, err)
		}
		groups, _, err = f.svc.SearchGroups(ctx, w.member, app.Page{Query: "priv"})
		if err != nil || len(groups) != 1 || groups[0].ID != w.priv {
			t.Fatalf("member search %+v %v", groups, err)
		}
		_, _, err = f.svc.SearchGroups(ctx, w.member, app.Page{Limit: -1})
		wantCode(t, err, "validation_failed")
	})
}

package app_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/chat"
	"github.com/chatapp/chat/store/storetest"
)

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
	onCreate func(ctx context.Context, t *chat.RefreshToken)
}

func (h *hookStore) CreateRefreshToken(ctx context.Context, t *chat.RefreshToken) error {
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
			hs.onCreate = func(ctx context.Context, tok *chat.RefreshToken) {
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

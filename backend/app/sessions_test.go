package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/chat"
	"github.com/chatapp/chat/store/storetest"
)

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
			hs.onCreate = func(ctx context.Context, tok *chat.RefreshToken) {
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
	added := r.Add(t0, chat.SessionEnd{Session: "a", UserID: 1, At: t0}, chat.SessionEnd{Session: "b", UserID: 2})
	if len(added) != 2 || added[1].At != t0 {
		t.Fatalf("added %+v", added)
	}
	if added := r.Add(t0, chat.SessionEnd{Session: "a", UserID: 1, At: t0}); len(added) != 0 {
		t.Fatalf("a known session added again: %+v", added)
	}
	if !r.Ended("a") || !r.Ended("b") || r.Ended("c") {
		t.Fatal("Ended does not match what was added")
	}
	ends, mark := r.Since(0)
	if len(ends) != 2 || mark != 2 {
		t.Fatalf("Since(0) = %+v, %d", ends, mark)
	}
	r.Add(t0.Add(5*time.Minute), chat.SessionEnd{Session: "c", UserID: 3, At: t0.Add(5 * time.Minute)})
	if ends, next := r.Since(mark); len(ends) != 1 || ends[0].Session != "c" || next != 3 {
		t.Fatalf("Since(%d) = %+v, %d", mark, ends, next)
	}
	// Eleven minutes on, a and b are forgotten (their tokens expired), c is kept.
	r.Add(t0.Add(11*time.Minute), chat.SessionEnd{Session: "d", UserID: 4, At: t0.Add(11 * time.Minute)})
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

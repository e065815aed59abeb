package app_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/chat"
)

// from is a request context from a client address.
func from(addr string) context.Context { return app.WithClient(context.Background(), addr) }

// retryAfter is the Retry-After of a rate_limited error.
func retryAfter(t *testing.T, err error) int {
	t.Helper()
	wantCode(t, err, "rate_limited")
	var ce *chat.Error
	errors.As(err, &ce)
	if ce.RetryAfter < 1 {
		t.Fatalf("retry after %d", ce.RetryAfter)
	}
	return ce.RetryAfter
}

// TestLoginGuard: each sentence of API.md's login limits (chatd's
// defaults: 5 free failures per username and address, then a doubling
// back-off from 1 s; 100 failures per 15 min per username from all
// addresses).
func TestLoginGuard(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, f *fx) {
		const a, b, c = "192.0.2.1", "198.51.100.2", "203.0.113.3"

		t.Run("only failures count", func(t *testing.T) {
			u := f.user(t, "ok")
			for i := range 30 {
				_, err := f.svc.Login(from(a), u.User.Username, "password-1")
				if err != nil {
					t.Fatalf("correct login %d: %v", i, err)
				}
			}
		})

		t.Run("failures from one address do not lock the owner out", func(t *testing.T) {
			u := f.user(t, "victim")
			name := u.User.Username
			for range 5 {
				_, err := f.svc.Login(from(a), name, "wrong-password")
				wantCode(t, err, "invalid_credentials")
			}
			// The attacker's address now waits, ...
			retryAfter(t, firstErr(f.svc.Login(from(a), name, "wrong-password")))
			// ... the owner elsewhere logs in and changes the password.
			res, err := f.svc.Login(from(b), strings.ToUpper(name), "password-1")
			wantCode(t, err, "")
			_, err = f.svc.UpdateMe(from(b), res.User.ID, app.ProfileChange{Password: ptr("password-2"), CurrentPassword: ptr("password-1")})
			wantCode(t, err, "")
			// Even the right password waits on the backed-off address.
			retryAfter(t, firstErr(f.svc.Login(from(a), name, "password-2")))
		})

		t.Run("the back-off grows and a success clears it", func(t *testing.T) {
			u := f.user(t, "grow")
			name := u.User.Username
			for range 5 {
				_, err := f.svc.Login(from(a), name, "wrong-password")
				wantCode(t, err, "invalid_credentials")
			}
			var waits []int
			for range 4 {
				w := retryAfter(t, firstErr(f.svc.Login(from(a), name, "wrong-password")))
				waits = append(waits, w)
				f.clock.Add(time.Duration(w) * time.Second)
				_, err := f.svc.Login(from(a), name, "wrong-password")
				wantCode(t, err, "invalid_credentials")
			}
			for i := 1; i < len(waits); i++ {
				if waits[i] <= waits[i-1] {
					t.Fatalf("back-off does not grow: %v", waits)
				}
			}
			w := retryAfter(t, firstErr(f.svc.Login(from(a), name, "password-1")))
			f.clock.Add(time.Duration(w) * time.Second)
			_, err := f.svc.Login(from(a), name, "password-1")
			wantCode(t, err, "")
			for range 5 { // the success cleared the address's failures
				_, err := f.svc.Login(from(a), name, "wrong-password")
				wantCode(t, err, "invalid_credentials")
			}
		})

		t.Run("an IPv6 /64 is one address", func(t *testing.T) {
			u := f.user(t, "six")
			for i := range 5 {
				_, err := f.svc.Login(from(fmt.Sprintf("2001:db8:1:2::%x", i+1)), u.User.Username, "wrong-password")
				wantCode(t, err, "invalid_credentials")
			}
			retryAfter(t, firstErr(f.svc.Login(from("2001:db8:1:2:ffff::1"), u.User.Username, "wrong-password")))
			_, err := f.svc.Login(from("2001:db8:1:3::1"), u.User.Username, "password-1")
			wantCode(t, err, "")
		})

		t.Run("per-username ceiling over all addresses", func(t *testing.T) {
			u := f.user(t, "ceiling")
			name := u.User.Username
			for i := range 100 {
				_, err := f.svc.Login(from(fmt.Sprintf("10.0.%d.%d", i/200, i%200+1)), name, "wrong-password")
				wantCode(t, err, "invalid_credentials")
			}
			w := retryAfter(t, firstErr(f.svc.Login(from(c), name, "password-1")))
			if w > 60 {
				t.Fatalf("a ceiling refill takes %d s, want one failure's share of 15 min", w)
			}
			// Unknown usernames have the same ceiling (a 429 tells nothing).
			for i := range 100 {
				_, err := f.svc.Login(from(fmt.Sprintf("10.1.%d.%d", i/200, i%200+1)), "ghost", "wrong-password")
				wantCode(t, err, "invalid_credentials")
			}
			retryAfter(t, firstErr(f.svc.Login(from(c), "GHOST", "wrong-password")))
			// The ceiling refills with time.
			f.clock.Add(15 * time.Minute)
			_, err := f.svc.Login(from(c), name, "password-1")
			wantCode(t, err, "")
		})

		t.Run("password change counts failures the same way", func(t *testing.T) {
			u := f.user(t, "pwchange")
			id := u.User.ID
			wrong := app.ProfileChange{Password: ptr("password-2"), CurrentPassword: ptr("not-my-password")}
			for range 5 {
				_, err := f.svc.UpdateMe(from(a), id, wrong)
				wantCode(t, err, "validation_failed")
			}
			retryAfter(t, firstErr(f.svc.UpdateMe(from(a), id, wrong)))
			// Logins from that address for that username wait too: one guard.
			retryAfter(t, firstErr(f.svc.Login(from(a), u.User.Username, "password-1")))
			// The owner, elsewhere, is not refused.
			_, err := f.svc.UpdateMe(from(b), id, app.ProfileChange{Password: ptr("password-2"), CurrentPassword: ptr("password-1")})
			wantCode(t, err, "")
		})

		t.Run("a name that cannot be a username is not counted", func(t *testing.T) {
			before, beforeUsers := f.logins.Len()
			huge := strings.Repeat("x", 1<<20)
			for range 20 {
				_, err := f.svc.Login(from(a), huge, "wrong-password")
				wantCode(t, err, "invalid_credentials")
			}
			if pairs, users := f.logins.Len(); pairs != before || users != beforeUsers {
				t.Fatalf("guard grew from %d/%d to %d/%d entries", before, beforeUsers, pairs, users)
			}
		})
	})
}

// firstErr drops a result to keep the error.
func firstErr[T any](_ T, err error) error { return err }

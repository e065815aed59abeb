package app_test

import (
	"testing"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/store/storetest"
)

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

package app_test

import (
	"testing"

	"github.com/chatapp/chat/app"
)

// TestRepeatAfterRemovalIsRefused: a member removed from a private group
// who repeats an old client_id gets the group's not-found answer, not the
// message it once sent (nor anything else from the group).
func TestRepeatAfterRemovalIsRefused(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, f *fx) {
		w := f.world(t)
		out := app.Outgoing{Body: "before removal", ClientID: ptr("once")}
		_, created, err := f.svc.Send(ctx, w.member, w.priv, out)
		wantCode(t, err, "")
		if !created {
			t.Fatal("first send not created")
		}
		wantCode(t, f.svc.RemoveMember(ctx, w.owner, w.priv, w.member), "")
		m, _, err := f.svc.Send(ctx, w.member, w.priv, out)
		wantCode(t, err, "not_found")
		if m.ID != 0 || m.Body != "" {
			t.Fatalf("removed member got %+v back", m)
		}
	})
}

package realtime

import (
	"context"
	"testing"

	"github.com/coder/websocket"

	"github.com/chatapp/chat/store/storetest"
)

// TestSendFollowsTheTextRules checks that a send frame gets the answers of
// REST's send, on both databases: a NUL byte (which Postgres refuses
// itself), a bidi override or an invisible-only body is a validation error
// naming the field, the connection stays open, nothing is stored, and a
// decomposed body is acknowledged and delivered in NFC.
func TestSendFollowsTheTextRules(t *testing.T) {
	for name, open := range storetest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			f := newFixtureOn(t, instanceConfig{store: open(t)})
			a := connect(t, f.inst, f.alice)
			b := connect(t, f.inst, f.bob)
			gid := itoa(f.gid)
			for _, tc := range []struct{ name, body, clientID, field string }{
				{"NUL in body", `"a\u0000b"`, `null`, "body"},
				{"NUL in client_id", `"ok"`, `"\u0000"`, "client_id"},
				{"bidi override", `"\u202Eevil"`, `null`, "body"},
				{"ZWSP only", `"\u200B"`, `null`, "body"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					frame := `{"type":"send","group_id":` + gid + `,"body":` + tc.body + `,"client_id":` + tc.clientID + `,"ref":"r"}`
					if err := a.ws.Write(context.Background(), websocket.MessageText, []byte(frame)); err != nil {
						t.Fatal(err)
					}
					got := a.until(t, "error", "ack", "message")
					if got.Ref != "r" || got.Error == nil || got.Error.Code != "validation_failed" || got.Error.Details[tc.field] == "" {
						t.Fatalf("got %s, want validation_failed naming %s", got.raw, tc.field)
					}
				})
			}
			a.send(map[string]any{"type": "send", "group_id": f.gid, "body": "Cafe\u0301", "ref": "nfc"})
			ack := a.until(t, "ack", "message")
			if ack.Ref != "nfc" || ack.Message == nil || ack.Message.Body != "Caf\u00e9" || ack.Message.Seq != 1 {
				t.Fatalf("ack %s", ack.raw)
			}
			if m := b.until(t, "message"); m.Message == nil || m.Message.Body != "Caf\u00e9" || m.Message.Seq != 1 {
				t.Fatalf("bob got %s", m.raw)
			}
		})
	}
}

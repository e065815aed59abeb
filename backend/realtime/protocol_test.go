package realtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/chatapp/chat/chat"
)

// TestEnvelopeRoundTrip: whatever the event, the bytes a client receives
// are json.Marshal's encoding of it, and the routing fields survive the
// broker payload.
func TestEnvelopeRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 26, 1, 2, 3, 4000, time.UTC)
	cid := "c-1"
	m := chat.Message{ID: 9, GroupID: 4, Seq: 17, Sender: chat.User{ID: 2, Username: "ann", DisplayName: "Ann <&>", CreatedAt: at},
		Body: "line one\nline two \u2028 🎉", ClientID: &cid, CreatedAt: at}
	online := true
	tests := []struct {
		name  string
		ev    chat.Event
		route envelope // Event is not compared
	}{
		{"message", chat.Event{Type: chat.EventMessage, GroupID: 4, Message: &m},
			envelope{Type: chat.EventMessage, Group: 4, Seq: 17, Sender: 2, Audience: chat.Audience{Group: true}}},
		{"edited", chat.Event{Type: chat.EventMessageUpdated, GroupID: 4, Message: &m},
			envelope{Type: chat.EventMessageUpdated, Group: 4, Audience: chat.Audience{Group: true}}},
		{"read", chat.Event{Type: chat.EventRead, GroupID: 4, Seq: 3, Actor: 2, Conn: "c1"},
			envelope{Type: chat.EventRead, Group: 4, Audience: chat.Audience{Users: []int64{2}, ExceptConn: "c1"}}},
		{"typing", chat.Event{Type: chat.EventTyping, GroupID: 4, UserID: 2, Conn: "c1"},
			envelope{Type: chat.EventTyping, Group: 4, Audience: chat.Audience{Group: true, ExceptUser: 2, ExceptConn: "c1"}}},
		{"presence", chat.Event{Type: chat.EventPresence, UserID: 2, Online: &online, Groups: []int64{4, 9}},
			envelope{Type: chat.EventPresence, Audience: chat.Audience{Groups: []int64{4, 9}, ExceptUser: 2}}},
		{"joined", chat.Event{Type: chat.EventMemberJoined, GroupID: 4, User: &m.Sender},
			envelope{Type: chat.EventMemberJoined, Group: 4, Audience: chat.Audience{Group: true, Join: 2}}},
		{"left", chat.Event{Type: chat.EventMemberLeft, GroupID: 4, UserID: 2, Members: []int64{3}},
			envelope{Type: chat.EventMemberLeft, Group: 4, Audience: chat.Audience{Users: []int64{3, 2}, Leave: 2}}},
		{"deleted", chat.Event{Type: chat.EventGroupDeleted, GroupID: 4, Members: []int64{2, 3}},
			envelope{Type: chat.EventGroupDeleted, Group: 4, Audience: chat.Audience{Users: []int64{2, 3}, Dissolve: true}}},
		{"sessions ended", chat.Event{Type: chat.EventSessionsEnded, UserID: 2},
			envelope{Type: chat.EventSessionsEnded, Audience: chat.Audience{Close: 2}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			payload, err := encodeEnvelope(tc.ev)
			if err != nil {
				t.Fatal(err)
			}
			env, err := decodeEnvelope(payload)
			if err != nil {
				t.Fatal(err)
			}
			want, err := json.Marshal(tc.ev)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(env.Event, want) {
				t.Errorf("event bytes =\n%s\nwant\n%s", env.Event, want)
			}
			got := env
			got.Event = nil
			if !reflect.DeepEqual(got, tc.route) {
				t.Errorf("routing = %+v, want %+v", got, tc.route)
			}
		})
	}
}

func TestDecodeEnvelopeRejects(t *testing.T) {
	for _, p := range []string{"", "\n", `{"t":"message"}`, "{\"t\":\"message\"}\n", "not json\n{}", "{\"t\":1}\n{}"} {
		if _, err := decodeEnvelope([]byte(p)); !errors.Is(err, errEnvelope) {
			t.Errorf("decodeEnvelope(%q) = %v, want errEnvelope", p, err)
		}
	}
}

// TestAckFrame: the ack is what encoding/json makes of the documented
// shape, with and without a ref.
func TestAckFrame(t *testing.T) {
	m := chat.Message{ID: 1, GroupID: 2, Seq: 3, Body: "<hi>"}
	for _, ref := range []string{"", "r-1", "quote\" <tag> \u2028"} {
		want, err := json.Marshal(struct {
			Type    string        `json:"type"`
			Ref     string        `json:"ref,omitempty"`
			Message *chat.Message `json:"message"`
		}{"ack", ref, &m})
		if err != nil {
			t.Fatal(err)
		}
		if got := ackFrame(ref, &m); !bytes.Equal(got, want) {
			t.Errorf("ackFrame(%q) =\n%s\nwant\n%s", ref, got, want)
		}
	}
}

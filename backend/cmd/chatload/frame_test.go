package main

import (
	"encoding/json"
	"testing"
	"time"
)

func TestSendBody(t *testing.T) {
	b := sendBody(nil, 1234567*time.Nanosecond, 40)
	if len(b) != 40 || string(b[:11]) != "cl:1234567 " {
		t.Fatalf("sendBody = %q", b)
	}
	if b := sendBody(nil, 5, 0); string(b) != "cl:5 " {
		t.Fatalf("sendBody without padding = %q", b)
	}
	// Senders append the body to the frame they are building: the body,
	// not the frame, is what has the requested size.
	prefix := `{"type":"send","group_id":1,"client_id":"abcdefgh-0-1","ref":"abcdefgh-0-1","body":"`
	b = sendBody([]byte(prefix), 1234567, 64)
	if body := b[len(prefix):]; len(body) != 64 || string(body[:11]) != "cl:1234567 " {
		t.Fatalf("sendBody after a %d-byte prefix wrote a %d-byte body %q, want 64 bytes", len(prefix), len(body), body)
	}
}

func TestParseFrame(t *testing.T) {
	body := string(sendBody(nil, 987654321, 30))
	msg := map[string]any{
		"id": 77, "group_id": 3, "seq": 42,
		"sender": map[string]any{"id": 9, "username": "u", "display_name": "", "created_at": "2025-01-01T00:00:00Z"},
		"body":   body, "client_id": "c-1", "created_at": "2025-01-01T00:00:00Z", "edited_at": nil, "deleted": false,
	}
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	// encoding/json sorts map keys, so this "message" frame does not start
	// with "type" and takes the slow path; the literal ones take the fast path.
	tests := []struct {
		name  string
		in    string
		want  frame
		isErr bool
	}{
		{"message, fast path", `{"type":"message","message":{"id":77,"group_id":3,"seq":42,"sender":{"id":9,"username":"u"},"body":"` + body + `","client_id":"c-1"}}`,
			frame{kind: kindMessage, groupID: 3, seq: 42, sentAt: 987654321}, false},
		{"ack, fast path", `{"type":"ack","ref":"r7","message":{"id":77,"group_id":3,"seq":42,"body":"` + body + `"}}`,
			frame{kind: kindAck, groupID: 3, seq: 42, sentAt: 987654321}, false},
		{"message, other key order", enc(map[string]any{"type": "message", "message": msg}),
			frame{kind: kindMessage, groupID: 3, seq: 42, sentAt: 987654321}, false},
		{"message from someone else", `{"type":"message","message":{"id":1,"group_id":4,"seq":5,"body":"hello"}}`,
			frame{kind: kindMessage, groupID: 4, seq: 5, sentAt: -1}, false},
		{"message with spaces", `{"type": "message", "message": {"group_id": 2, "seq": 8, "body": "cl:55 x"}}`,
			frame{kind: kindMessage, groupID: 2, seq: 8, sentAt: 55}, false},
		{"message_updated is not a message", `{"type":"message_updated","message":{"group_id":2,"seq":8,"body":"cl:1 x"}}`,
			frame{kind: kindOther, groupID: 2, seq: 8, sentAt: 1}, false},
		{"error", `{"type":"error","ref":"r1","error":{"code":"rate_limited","message":"slow down"}}`,
			frame{kind: kindError, code: "rate_limited", sentAt: -1}, false},
		{"ready", `{"type":"ready","user":{"id":1,"username":"a"}}`, frame{kind: kindReady, sentAt: -1}, false},
		{"resumed", `{"type":"resumed"}`, frame{kind: kindResumed, sentAt: -1}, false},
		{"presence", `{"type":"presence","user_id":3,"online":true}`, frame{kind: kindOther, sentAt: -1}, false},
		{"not json", `hello`, frame{sentAt: -1}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var f frame
			err := parseFrame([]byte(tc.in), &f)
			if (err != nil) != tc.isErr {
				t.Fatalf("parseFrame error = %v, want error %v", err, tc.isErr)
			}
			if err == nil && f != tc.want {
				t.Fatalf("parseFrame = %+v, want %+v", f, tc.want)
			}
		})
	}
}

func BenchmarkParseFrameFast(b *testing.B) {
	in := []byte(`{"type":"message","message":{"id":77,"group_id":3,"seq":42,"sender":{"id":9,"username":"user_0001","display_name":"","created_at":"2025-01-01T00:00:00Z"},"body":"` +
		string(sendBody(nil, 987654321, 64)) + `","client_id":"c-1","created_at":"2025-01-01T00:00:00Z","edited_at":null,"deleted":false}}`)
	var f frame
	for b.Loop() {
		if err := parseFrame(in, &f); err != nil {
			b.Fatal(err)
		}
	}
}

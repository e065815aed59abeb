package chat_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chatapp/chat/chat"
)

// jsonStrings covers every class appendString treats differently.
var jsonStrings = []string{
	"", "hello", "Hello, World! 123 ~`^|{}[]", "<script>alert(1)</script>", "a & b", `quote " and \ backslash`,
	"line\nbreak\ttab\rreturn", "\x00\x01\x08\x0c\x1f\x7f", "héllo wörld", "日本語のテキスト", "emoji 🎉👍🏽",
	"\u2028 and \u2029", "bad \xff utf-8 \xc3", "mixed é<>&\n🎉", strings.Repeat("long text ", 400),
}

func TestMessageAppendJSON(t *testing.T) {
	at := time.Date(2026, 11, 26, 1, 2, 3, 456789000, time.UTC)
	round := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	yes, no := true, false
	var cases []chat.Message
	for i, s := range jsonStrings {
		cid := s
		cases = append(cases, chat.Message{
			ID: int64(i + 1), GroupID: 42, Seq: int64(i * 1000),
			Sender: chat.User{ID: 7, Username: s, DisplayName: s, CreatedAt: at},
			Body:   s, ClientID: &cid, CreatedAt: at, EditedAt: &round, Deleted: i%2 == 0,
		})
	}
	cases = append(cases,
		chat.Message{},
		chat.Message{ID: -1, GroupID: 1 << 62, Seq: 1, Sender: chat.User{Online: &yes}, CreatedAt: round, Mentions: []int64{}},
		chat.Message{Sender: chat.User{Online: &no, CreatedAt: at.In(time.FixedZone("x", 3600)), ShareReadReceipts: &yes}, Mentions: []int64{3, 1 << 40, -2}},
	)
	for i, m := range cases {
		want, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.AppendJSON(nil); !bytes.Equal(got, want) {
			t.Errorf("case %d: AppendJSON =\n%s\nwant\n%s", i, got, want)
		}
		wantEv, err := json.Marshal(chat.Event{Type: chat.EventMessage, GroupID: m.GroupID, Message: &m})
		if err != nil {
			t.Fatal(err)
		}
		if got := chat.AppendMessageEvent([]byte("prefix"), &m); !bytes.Equal(got, append([]byte("prefix"), wantEv...)) {
			t.Errorf("case %d: AppendMessageEvent =\n%s\nwant\n%s", i, got, wantEv)
		}
	}
}

// FuzzAppendJSONString holds appendString (through a message body) to
// encoding/json on arbitrary bytes.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range jsonStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m := chat.Message{Body: s, Sender: chat.User{Username: s}}
		want, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.AppendJSON(nil); !bytes.Equal(got, want) {
			t.Errorf("AppendJSON(%q) =\n%s\nwant\n%s", s, got, want)
		}
	})
}

func BenchmarkMessageJSON(b *testing.B) {
	at := time.Date(2026, 11, 26, 1, 2, 3, 456789000, time.UTC)
	cid := "c-123"
	m := chat.Message{ID: 123456, GroupID: 42, Seq: 9876, Sender: chat.User{ID: 7, Username: "alice", DisplayName: "Alice Liddell", CreatedAt: at},
		Body: "Hello there, this is a typical chat message of moderate length.", ClientID: &cid, CreatedAt: at}
	b.Run("AppendJSON", func(b *testing.B) {
		buf := make([]byte, 0, 1024)
		for b.Loop() {
			buf = m.AppendJSON(buf[:0])
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		for b.Loop() {
			if _, err := json.Marshal(m); err != nil {
				b.Fatal(err)
			}
		}
	})
}

package chat_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/chatapp/chat/chat"
)

func TestParseMentions(t *testing.T) {
	tests := []struct {
		body string
		want []string
	}{
		{"@alice hi", []string{"alice"}},
		{"hi @Alice and @BOB!", []string{"alice", "bob"}},
		{"(@alice), [@bob]: \"@carol\"", []string{"alice", "bob", "carol"}},
		{"thanks @bob.", []string{"bob.", "bob"}},
		{"@bob... and @bob", []string{"bob...", "bob"}},
		{"ask @j.doe-2 now", []string{"j.doe-2"}},
		{"@al is too short, @alice's fine", []string{"alice"}},
		{"mail me at alice@example.com", nil},
		{"x@alice 1@alice é@alice _@alice .@alice -@alice", nil},
		{"@@alice", nil},
		{"@alice@bob", []string{"alice"}},
		{"@alice @ALICE @Alice", []string{"alice"}},
		{"@" + strings.Repeat("a", 33), nil},
		{"@" + strings.Repeat("a", 32), []string{strings.Repeat("a", 32)}},
		{"line\n@alice\t@bob", []string{"alice", "bob"}},
		{"— @alice", []string{"alice"}},
		{"@ alice", nil},
		{"@élodie", nil},
		{"", nil},
	}
	for _, tc := range tests {
		if got := chat.ParseMentions(tc.body); !slices.Equal(got, tc.want) {
			t.Errorf("ParseMentions(%q) = %q, want %q", tc.body, got, tc.want)
		}
	}
	var b strings.Builder
	for i := range 200 {
		b.WriteString(" @user")
		b.WriteString(strings.Repeat("x", i%5))
		b.WriteString(string(rune('a' + i%26)))
		b.WriteString(string(rune('a' + i/26)))
	}
	if got := chat.ParseMentions(b.String()); len(got) != chat.MentionsMax {
		t.Errorf("a body naming 200 users gives %d candidates, want %d", len(got), chat.MentionsMax)
	}
}

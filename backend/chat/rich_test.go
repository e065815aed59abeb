package chat_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/chatapp/chat/chat"
)

func TestValidateEmoji(t *testing.T) {
	for _, ok := range []string{"👍", "👍🏽", "❤️", "❤", "🇫🇷", "👨‍👩‍👧", "1️⃣", "#️⃣", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "☕", "🫠"} {
		if got, err := chat.NormalizeEmoji(ok); err != nil || got != ok {
			t.Errorf("NormalizeEmoji(%q) = %q, %v, want it back", ok, got, err)
		}
	}
	for _, bad := range []string{"", "a", "1", "#", "👍👍", "👍 ", " 👍", "ab", "é", "\u202e👍", "\xff", "👍\x00", strings.Repeat("👍", 30), "<"} {
		_, err := chat.NormalizeEmoji(bad)
		if err == nil || err.Details["emoji"] == "" {
			t.Errorf("ValidateEmoji(%q) = %v, want an error naming emoji", bad, err)
		}
	}
}

func TestPreviewOfKeepsTheFirst200Characters(t *testing.T) {
	long := strings.Repeat("é", 150) + strings.Repeat("🎉", 100)
	p := chat.PreviewOf(chat.Message{ID: 4, Seq: 2, Body: long, Deleted: true, Sender: chat.User{ID: 9}})
	if want := strings.Repeat("é", 150) + strings.Repeat("🎉", 50); p.Body != want {
		t.Errorf("preview body = %q, want %q", p.Body, want)
	}
	if p.ID != 4 || p.Seq != 2 || !p.Deleted || p.Sender.ID != 9 {
		t.Errorf("preview = %+v", p)
	}
	if p := chat.PreviewOf(chat.Message{Body: "short"}); p.Body != "short" {
		t.Errorf("short preview = %q", p.Body)
	}
}

func TestReactionsForPutsTheViewerFirstAndShowsTwenty(t *testing.T) {
	var many []int64
	for u := int64(1); u <= 30; u++ {
		many = append(many, u)
	}
	rs := []chat.Reaction{{Emoji: "👍", Count: 30, UserIDs: many}, {Emoji: "❤️", Count: 2, UserIDs: []int64{5, 6}}}
	got := chat.ReactionsFor(rs, 25)
	if want := append([]int64{25}, many[:19]...); !slices.Equal(got[0].UserIDs, want) {
		t.Errorf("viewer 25 sees %v, want %v", got[0].UserIDs, want)
	}
	if got[0].Count != 30 || !slices.Equal(got[1].UserIDs, []int64{5, 6}) {
		t.Errorf("got %+v", got)
	}
	if got := chat.ReactionsFor(rs, 6); !slices.Equal(got[1].UserIDs, []int64{6, 5}) {
		t.Errorf("viewer 6 sees %v", got[1].UserIDs)
	}
	if got := chat.ReactionsFor(rs, 0); !slices.Equal(got[0].UserIDs, many[:20]) {
		t.Errorf("no viewer sees %v", got[0].UserIDs)
	}
	if len(rs[0].UserIDs) != 30 {
		t.Error("ReactionsFor changed its input")
	}
}

func TestValidateAttachmentIDs(t *testing.T) {
	if err := chat.ValidateAttachmentIDs([]int64{1, 2, 3}); err != nil {
		t.Error(err)
	}
	for _, bad := range [][]int64{{1, 1}, {0}, {-2}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}} {
		if err := chat.ValidateAttachmentIDs(bad); err == nil || err.Details["attachment_ids"] == "" {
			t.Errorf("%v: %v", bad, err)
		}
	}
}

func TestNormalizeFilename(t *testing.T) {
	for in, want := range map[string]string{
		"photo.png": "photo.png", `C:\Users\me\report.pdf`: "report.pdf", "../../etc/passwd": "passwd",
		"": "file", "dir/": "file", " spaced name.txt ": "spaced name.txt", "Cafe\u0301.txt": "Café.txt", "..": "file",
	} {
		if got, err := chat.NormalizeFilename(in); err != nil || got != want {
			t.Errorf("NormalizeFilename(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"invoice\u202egnp.exe", "a\x00b", strings.Repeat("x", 256)} {
		if _, err := chat.NormalizeFilename(bad); err == nil || err.Details["filename"] == "" {
			t.Errorf("NormalizeFilename(%q) = %v, want an error naming filename", bad, err)
		}
	}
}

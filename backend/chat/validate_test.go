package chat_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/chatapp/chat/chat"
)

// check asserts that err is nil when wantField is "", else a validation
// error naming exactly that field.
func check(t *testing.T, err *chat.Error, wantField string) {
	t.Helper()
	if wantField == "" {
		if err != nil {
			t.Fatalf("unexpected error %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("want an error on %q, got nil", wantField)
	}
	if !errors.Is(err, chat.ErrInvalid) || err.Code != "validation_failed" {
		t.Fatalf("want validation_failed, got %v", err)
	}
	if _, ok := err.Details[wantField]; !ok || len(err.Details) != 1 {
		t.Fatalf("want details on %q only, got %v", wantField, err.Details)
	}
}

func TestValidateUsername(t *testing.T) {
	tests := []struct {
		in   string
		fail bool
	}{
		{"abc", false},
		{"Alice_01.x-y", false},
		{strings.Repeat("a", 32), false},
		{"ab", true},
		{strings.Repeat("a", 33), true},
		{"", true},
		{"has space", true},
		{"émile", true},
		{"a/b", true},
		{"<script>", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			want := ""
			if tt.fail {
				want = "username"
			}
			check(t, chat.ValidateUsername(tt.in), want)
		})
	}
}

func TestValidatePassword(t *testing.T) {
	tests := []struct {
		name string
		in   string
		fail bool
	}{
		{"8 ascii", "12345678", false},
		{"7 ascii", "1234567", true},
		{"128 runes", strings.Repeat("é", 128), false}, // 256 bytes: runes are counted
		{"129 runes", strings.Repeat("a", 129), true},
		{"8 runes of 2 bytes", strings.Repeat("ü", 8), false},
		{"4 runes of 2 bytes", strings.Repeat("ü", 4), true}, // 8 bytes, 4 characters
		{"spaces count", "        ", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := ""
			if tt.fail {
				want = "password"
			}
			check(t, chat.ValidatePassword(tt.in), want)
		})
	}
}

func TestNormalizers(t *testing.T) {
	tests := []struct {
		name  string
		fn    func(string) (string, *chat.Error)
		in    string
		want  string
		field string // "" when valid
	}{
		{"display trimmed", chat.NormalizeDisplayName, "  Ann  ", "Ann", ""},
		{"display empty ok", chat.NormalizeDisplayName, "   ", "", ""},
		{"display 64", chat.NormalizeDisplayName, strings.Repeat("ж", 64), strings.Repeat("ж", 64), ""},
		{"display 65", chat.NormalizeDisplayName, strings.Repeat("x", 65), strings.Repeat("x", 65), "display_name"},
		{"group name trimmed", chat.NormalizeGroupName, "\tGo fans\n", "Go fans", ""},
		{"group name blank", chat.NormalizeGroupName, "   ", "", "name"},
		{"group name 65", chat.NormalizeGroupName, strings.Repeat("n", 65), strings.Repeat("n", 65), "name"},
		{"description 1000", chat.NormalizeDescription, strings.Repeat("d", 1000), strings.Repeat("d", 1000), ""},
		{"description 1001", chat.NormalizeDescription, strings.Repeat("d", 1001), strings.Repeat("d", 1001), "description"},
		{"description empty", chat.NormalizeDescription, "", "", ""},
		{"body trimmed", chat.NormalizeBody, "  hi  ", "hi", ""},
		{"body blank", chat.NormalizeBody, " \n\t ", "", "body"},
		{"body 4000 runes", chat.NormalizeBody, strings.Repeat("界", 4000), strings.Repeat("界", 4000), ""},
		{"body 4001", chat.NormalizeBody, strings.Repeat("b", 4001), strings.Repeat("b", 4001), "body"},
		{"body html kept as text", chat.NormalizeBody, "<b>x</b>", "<b>x</b>", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.fn(tt.in)
			check(t, err, tt.field)
			if got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSmallValidators(t *testing.T) {
	tests := []struct {
		name  string
		err   *chat.Error
		field string
	}{
		{"client id 64", chat.ValidateClientID(strings.Repeat("c", 64)), ""},
		{"client id 65", chat.ValidateClientID(strings.Repeat("c", 65)), "client_id"},
		{"public", chat.ValidateVisibility(chat.Public), ""},
		{"private", chat.ValidateVisibility(chat.Private), ""},
		{"secret", chat.ValidateVisibility("secret"), "visibility"},
		{"empty visibility", chat.ValidateVisibility(""), "visibility"},
		{"admin", chat.ValidateRole(chat.RoleAdmin), ""},
		{"member", chat.ValidateRole(chat.RoleMember), ""},
		{"owner cannot be given", chat.ValidateRole(chat.RoleOwner), "role"},
		{"bogus role", chat.ValidateRole("root"), "role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { check(t, tt.err, tt.field) })
	}
}

func TestMerge(t *testing.T) {
	if chat.Merge() != nil || chat.Merge(nil, nil) != nil {
		t.Fatal("merge of nothing must be nil")
	}
	got := chat.Merge(chat.ValidateUsername("x"), nil, chat.ValidatePassword("short"))
	if got == nil || got.Code != "validation_failed" {
		t.Fatalf("got %v", got)
	}
	if len(got.Details) != 2 || got.Details["username"] == "" || got.Details["password"] == "" {
		t.Fatalf("details %v", got.Details)
	}
}

package chat_test

import (
	"errors"
	"fmt"
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

// textFields are the normalisers of every free-text field, with the field
// their errors name.
var textFields = []struct {
	field string
	fn    func(string) (string, *chat.Error)
}{
	{"body", chat.NormalizeBody},
	{"display_name", chat.NormalizeDisplayName},
	{"name", chat.NormalizeGroupName},
	{"description", chat.NormalizeDescription},
	{"client_id", clientID},
	{"q", chat.NormalizeQuery},
}

func TestTextRules(t *testing.T) {
	const refused = "\x00refused" // a want that no valid value has
	tests := []struct{ name, in, want string }{
		{"NUL", "a\x00b", refused},
		{"bell", "a\x07b", refused},
		{"carriage return", "a\rb", refused},
		{"escape", "a\x1b[31mb", refused},
		{"DEL", "a\x7fb", refused},
		{"C1 next line", "a\u0085b", refused},
		{"C1 last", "a\u009fb", refused},
		{"LRE", "a\u202ab", refused},
		{"RLO", "a\u202eb", refused},
		{"LRI", "a\u2066b", refused},
		{"PDI", "a\u2069b", refused},
		{"invalid UTF-8", "a\xffb", refused},
		{"only a control", "\x00", refused},
		{"control after spaces", "   \x01", refused},
		{"letters", "Grüße, мир, 世界", "Grüße, мир, 世界"},
		{"line feed and tab", "a\n\tb", "a\n\tb"},
		{"emoji ZWJ sequence", "👩\u200d💻", "👩\u200d💻"},
		{"variation selector", "I \u2764\ufe0f Go", "I \u2764\ufe0f Go"},
		{"right-to-left mark", "\u05e9\u05dc\u05d5\u05dd\u200f!", "\u05e9\u05dc\u05d5\u05dd\u200f!"},
		{"ZWNJ inside a word", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"},
		{"NFD to NFC", "Cafe\u0301", "Caf\u00e9"},
		{"singleton to NFC", "\u2126", "\u03a9"}, // Ohm sign → Omega
	}
	for _, f := range textFields {
		for _, tt := range tests {
			t.Run(f.field+"/"+tt.name, func(t *testing.T) {
				got, err := f.fn(tt.in)
				if tt.want == refused {
					check(t, err, f.field)
					return
				}
				check(t, err, "")
				if got != tt.want {
					t.Fatalf("got %q, want %q", got, tt.want)
				}
			})
		}
	}
}

func TestTextRulesBlankAndInvisibleValues(t *testing.T) {
	invisible := map[string]string{
		"ZWSP":           "\u200b",
		"ZWNJ and ZWJ":   "\u200c\u200d",
		"word joiner":    "\u2060",
		"BOM":            "\ufeff",
		"Mongolian VS":   "\u180e",
		"Hangul fillers": "\u3164\u115f\u1160\uffa0",
		"soft hyphen":    "\u00ad",
		"mixed":          " \u200b\t\u3000\u2060\n",
		"variation only": "\ufe0f",
	}
	for name, in := range invisible {
		t.Run(name, func(t *testing.T) {
			// Required fields refuse them as empty.
			for _, fn := range []func(string) (string, *chat.Error){chat.NormalizeBody, chat.NormalizeGroupName} {
				got, err := fn(in)
				if err == nil {
					t.Fatalf("accepted %q as %q", in, got)
				}
			}
			_, err := chat.NormalizeBody(in)
			check(t, err, "body")
			if reason := err.Details["body"]; reason != "must not be empty" {
				t.Fatalf("body reason %q", reason)
			}
			_, err = chat.NormalizeGroupName(in)
			check(t, err, "name")
			// Optional fields take them as empty.
			for _, f := range []func(string) (string, *chat.Error){
				chat.NormalizeDisplayName, chat.NormalizeDescription, clientID, chat.NormalizeQuery,
			} {
				got, err := f(in)
				check(t, err, "")
				if got != "" {
					t.Fatalf("got %q, want empty", got)
				}
			}
		})
	}
	// Invisible characters inside text are kept: they may be meaningful there.
	got, err := chat.NormalizeBody(" a\u200bb ")
	check(t, err, "")
	if got != "a\u200bb" {
		t.Fatalf("got %q", got)
	}
}

func TestTextRulesCountCodePointsAfterNFC(t *testing.T) {
	// 4000 decomposed "é" are 8000 code points in NFD but 4000 in NFC.
	decomposed := strings.Repeat("e\u0301", chat.BodyMax)
	got, err := chat.NormalizeBody(decomposed)
	check(t, err, "")
	if got != strings.Repeat("\u00e9", chat.BodyMax) {
		t.Fatalf("body not composed")
	}
	_, err = chat.NormalizeBody(decomposed + "e")
	check(t, err, "body")
	// A combining mark with no precomposed form stays a code point of its own.
	_, err = chat.NormalizeDisplayName(strings.Repeat("q\u0301", 32) + "q")
	check(t, err, "display_name")
	_, err = clientID(strings.Repeat("ж", chat.ClientIDMax))
	check(t, err, "")
	_, err = clientID(strings.Repeat("ж", chat.ClientIDMax+1))
	check(t, err, "client_id")
	_, err = chat.NormalizeQuery(strings.Repeat("q", chat.QueryMax+1))
	check(t, err, "q")
}

// clientID is NormalizeClientID of a present value as a text normaliser:
// "" stands for none.
func clientID(s string) (string, *chat.Error) {
	id, err := chat.NormalizeClientID(&s)
	if id == nil {
		return "", err
	}
	return *id, err
}

func TestClientIDIsNotTrimmed(t *testing.T) {
	// The client matches its acks by the id it chose; trimming would break that.
	got, err := clientID(" id ")
	check(t, err, "")
	if got != " id " {
		t.Fatalf("got %q", got)
	}
}

// TestEmptyClientIDIsNone: absent, empty and invisible client_ids all mean
// none, for a send being validated and for a message being stored alike.
func TestEmptyClientIDIsNone(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   *string
		want *string
	}{
		{"absent", nil, nil},
		{"empty", new(""), nil},
		{"invisible", new("\u200b"), nil},
		{"kept", new(" k1 "), new(" k1 ")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := chat.NormalizeClientID(tc.in)
			check(t, err, "")
			if (got == nil) != (tc.want == nil) || (got != nil && *got != *tc.want) {
				t.Fatalf("NormalizeClientID = %v, want %v", got, tc.want)
			}
			if tc.name == "invisible" {
				return // a stored message's client_id was normalised before
			}
			stored := chat.NewMessage{ClientID: tc.in}.StoredClientID()
			if (stored == nil) != (tc.want == nil) || (stored != nil && *stored != *tc.want) {
				t.Fatalf("StoredClientID = %v, want %v", stored, tc.want)
			}
		})
	}
}

func TestInvalidCapsDetails(t *testing.T) {
	details := map[string]string{}
	for i := range 25 {
		details[fmt.Sprintf("f%02d", i)] = "unknown field"
	}
	err := chat.Invalid(details)
	if len(err.Details) != chat.MaxDetails || err.Details["f00"] == "" || err.Details["f19"] == "" || err.Details["f20"] != "" {
		t.Fatalf("details %v", err.Details)
	}
	if !strings.Contains(err.Message, "25 fields") {
		t.Fatalf("message %q", err.Message)
	}
	if len(details) != 25 {
		t.Fatal("the caller's map was changed")
	}
	if got := chat.Merge(err, chat.Invalid(map[string]string{"a": "x"})); len(got.Details) != chat.MaxDetails {
		t.Fatalf("merged details %v", got.Details)
	}
}

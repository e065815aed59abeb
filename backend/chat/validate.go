package chat

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Limits of the API contract (API.md). Lengths count characters (runes), not
// bytes, so that a name in Greek or with emoji gets the same room as one in
// ASCII.
const (
	UsernameMin    = 3
	UsernameMax    = 32
	PasswordMin    = 8
	PasswordMax    = 128
	DisplayNameMax = 64
	GroupNameMax   = 64
	DescriptionMax = 1000 // API.md is silent; 1000 matches the old app's message limit and fits a card
	BodyMax        = 4000
	ClientIDMax    = 64
	QueryMax       = 100 // a search term
)

// The validators below are pure: they read nothing but their input and return
// nil or an *Error of kind ErrInvalid whose Details name the field. Those that
// normalise (text) return the value to store as well. Merge joins the answers
// of several fields into one error so that a form shows every problem at once.

// ValidateUsername checks 3–32 characters of [A-Za-z0-9_.-].
func ValidateUsername(s string) *Error {
	if n := utf8.RuneCountInString(s); n < UsernameMin || n > UsernameMax {
		return field("username", "must be 3 to 32 characters")
	}
	for _, r := range s {
		if !usernameRune(r) {
			return field("username", "may contain only letters A-Z, digits, '_', '.' and '-'")
		}
	}
	return nil
}

func usernameRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-'
}

// ValidatePassword checks 8–128 characters. Passwords are never trimmed: a
// space the user typed is part of the secret.
func ValidatePassword(s string) *Error {
	if n := utf8.RuneCountInString(s); n < PasswordMin || n > PasswordMax {
		return field("password", "must be 8 to 128 characters")
	}
	return nil
}

// The text rules of API.md hold for every free-text field: control
// characters (C0 other than \n and \t, DEL, C1) and bidi overrides and
// isolates are refused, because they change how the text around them looks
// ("invoice" U+202E "gnp.exe" shows as "invoiceexe.png"; an escape sequence
// can repaint a terminal that prints a log) and Postgres cannot store a NUL
// at all; text is normalised to NFC, so that one word is one byte sequence for
// uniqueness, idempotency and search; lengths count code points after that;
// and a value made only of white space and invisible characters is empty,
// so that a blank message or name cannot pass for one with content.
// Passwords are secrets, not text, and never pass through here.

// textField is one free-text field of the API.
type textField struct {
	name     string
	max      int  // code points, after NFC
	required bool // an empty value is refused
	keep     bool // surrounding white space is part of the value (ids)
}

var (
	bodyField        = textField{name: "body", max: BodyMax, required: true}
	displayNameField = textField{name: "display_name", max: DisplayNameMax}
	groupNameField   = textField{name: "name", max: GroupNameMax, required: true}
	descriptionField = textField{name: "description", max: DescriptionMax}
	clientIDField    = textField{name: "client_id", max: ClientIDMax, keep: true}
	queryField       = textField{name: "q", max: QueryMax}
	searchQueryField = textField{name: "q", max: SearchQueryMax}
)

// NormalizeBody applies the text rules to a message body: 1–4000 characters
// after trimming.
func NormalizeBody(s string) (string, *Error) { return bodyField.normalize(s) }

// NormalizeDisplayName applies the text rules to a display name: 0–64
// characters after trimming.
func NormalizeDisplayName(s string) (string, *Error) { return displayNameField.normalize(s) }

// NormalizeGroupName applies the text rules to a group name: 1–64
// characters after trimming.
func NormalizeGroupName(s string) (string, *Error) { return groupNameField.normalize(s) }

// NormalizeDescription applies the text rules to a group description: at
// most DescriptionMax characters after trimming.
func NormalizeDescription(s string) (string, *Error) { return descriptionField.normalize(s) }

// NormalizeClientID applies the rules of an optional client_id: the text
// rules, at most 64 characters, not trimmed (the client matches acks by the
// exact id it chose). An empty one, or one of invisible characters only, is
// none (nil), like an absent one.
func NormalizeClientID(s *string) (*string, *Error) {
	if s == nil {
		return nil, nil
	}
	id, err := clientIDField.normalize(*s)
	if err != nil {
		return nil, err
	}
	return noClientID(&id), nil
}

// noClientID is the rule that an empty client_id names no send: stored,
// "" would make every later send without a client_id a repeat of the
// first.
func noClientID(id *string) *string {
	if id == nil || *id == "" {
		return nil
	}
	return id
}

// NormalizeQuery applies the text rules to a search term: at most 100
// characters after trimming; "" matches everything.
func NormalizeQuery(s string) (string, *Error) { return queryField.normalize(s) }

func (f textField) normalize(s string) (string, *Error) {
	if !utf8.ValidString(s) {
		return s, field(f.name, "must be UTF-8 text")
	}
	for _, r := range s {
		switch {
		case isControl(r):
			return s, field(f.name, "must not contain control characters (other than line feed and tab)")
		case isBidiControl(r):
			return s, field(f.name, "must not contain bidirectional override or isolate characters")
		}
	}
	s = norm.NFC.String(s)
	if !f.keep {
		s = strings.TrimSpace(s)
	}
	if isBlank(s) {
		s = ""
	}
	switch n := utf8.RuneCountInString(s); {
	case n == 0 && f.required:
		return s, field(f.name, "must not be empty")
	case n > f.max:
		return s, field(f.name, fmt.Sprintf("must be at most %d characters", f.max))
	}
	return s, nil
}

// isControl reports the control characters (general category Cc) other
// than line feed and tab.
func isControl(r rune) bool {
	return unicode.IsControl(r) && r != '\n' && r != '\t'
}

// isBidiControl reports the embeddings, overrides and isolates
// (U+202A–U+202E, U+2066–U+2069). The marks (U+200E, U+200F, U+061C) stay
// allowed: they only hint the direction of neutral characters, and text in
// right-to-left scripts needs them.
func isBidiControl(r rune) bool {
	return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069
}

// isBlank reports a value with nothing visible: only white space and
// default-ignorable code points.
func isBlank(s string) bool {
	for _, r := range s {
		if !unicode.IsSpace(r) && !isDefaultIgnorable(r) {
			return false
		}
	}
	return true
}

// isDefaultIgnorable is Unicode's derived Default_Ignorable_Code_Point
// property (DerivedCoreProperties.txt), which the unicode package does not
// export, built from the tables it does: code points that render as nothing
// when not supported, such as U+200B, U+2060, U+FEFF, variation selectors
// and the Hangul fillers.
func isDefaultIgnorable(r rune) bool {
	if !unicode.In(r, unicode.Other_Default_Ignorable_Code_Point, unicode.Cf, unicode.Variation_Selector) {
		return false
	}
	return !unicode.In(r, unicode.White_Space, unicode.Prepended_Concatenation_Mark) &&
		!(r >= 0xFFF9 && r <= 0xFFFB) && // interlinear annotation marks
		!(r >= 0x13430 && r <= 0x1343F) // Egyptian hieroglyph format controls
}

// ValidateVisibility accepts "public" and "private".
func ValidateVisibility(v Visibility) *Error {
	if v != Public && v != Private {
		return field("visibility", `must be "public" or "private"`)
	}
	return nil
}

// ValidateRole accepts the roles that can be given: "admin" and "member".
// Ownership is not a role one assigns.
func ValidateRole(r Role) *Error {
	if r != RoleAdmin && r != RoleMember {
		return field("role", `must be "admin" or "member"`)
	}
	return nil
}

// Merge joins validation errors into one; nil when all are nil. The first
// reason for a field wins.
func Merge(errs ...*Error) *Error {
	var details map[string]string
	for _, e := range errs {
		if e == nil {
			continue
		}
		if details == nil {
			details = make(map[string]string)
		}
		for k, v := range e.Details {
			if _, ok := details[k]; !ok {
				details[k] = v
			}
		}
	}
	if details == nil {
		return nil
	}
	return Invalid(details)
}

func field(name, reason string) *Error {
	return Invalid(map[string]string{name: reason})
}

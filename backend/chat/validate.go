package chat

import (
	"strings"
	"unicode/utf8"
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
	GroupNameMin   = 1
	GroupNameMax   = 64
	DescriptionMax = 1000 // API.md is silent; 1000 matches the old app's message limit and fits a card
	BodyMin        = 1
	BodyMax        = 4000
	ClientIDMax    = 64
)

// The validators below are pure: they read nothing but their input and return
// nil or an *Error of kind ErrInvalid whose Details name the field. Those that
// normalise (trim) return the value to store as well. Merge joins the answers
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

// NormalizeDisplayName trims and checks 0–64 characters.
func NormalizeDisplayName(s string) (string, *Error) {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > DisplayNameMax {
		return s, field("display_name", "must be at most 64 characters")
	}
	return s, nil
}

// NormalizeGroupName trims and checks 1–64 characters.
func NormalizeGroupName(s string) (string, *Error) {
	s = strings.TrimSpace(s)
	if n := utf8.RuneCountInString(s); n < GroupNameMin || n > GroupNameMax {
		return s, field("name", "must be 1 to 64 characters")
	}
	return s, nil
}

// NormalizeDescription trims and checks at most DescriptionMax characters.
func NormalizeDescription(s string) (string, *Error) {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > DescriptionMax {
		return s, field("description", "must be at most 1000 characters")
	}
	return s, nil
}

// NormalizeBody trims a message body and checks 1–4000 characters.
func NormalizeBody(s string) (string, *Error) {
	s = strings.TrimSpace(s)
	if n := utf8.RuneCountInString(s); n < BodyMin || n > BodyMax {
		return s, field("body", "must be 1 to 4000 characters")
	}
	return s, nil
}

// ValidateClientID checks at most 64 characters.
func ValidateClientID(s string) *Error {
	if utf8.RuneCountInString(s) > ClientIDMax {
		return field("client_id", "must be at most 64 characters")
	}
	return nil
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

package chat

import (
	"errors"
	"fmt"
	"maps"
	"slices"
)

// The kinds of failure every layer speaks. Stores and use cases wrap them
// (directly or through *Error) with %w; the HTTP and WebSocket transports map
// each kind to a status in one table.
var (
	ErrInvalid      = errors.New("invalid")      // 400 validation_failed, invalid_json
	ErrUnauthorized = errors.New("unauthorized") // 401
	ErrForbidden    = errors.New("forbidden")    // 403
	ErrNotFound     = errors.New("not found")    // 404
	ErrConflict     = errors.New("conflict")     // 409
	ErrTooLarge     = errors.New("too large")    // 413
	ErrRateLimited  = errors.New("rate limited") // 429
	ErrUnavailable  = errors.New("unavailable")  // 503: database or broker unreachable
)

// Error is a failure with a stable machine code and a sentence that is safe
// to show to the client. It matches its Kind with errors.Is.
type Error struct {
	Kind    error             // one of the Err* values above
	Code    string            // snake_case, e.g. "username_taken"
	Message string            // human sentence, safe for clients
	Details map[string]string // optional, e.g. {"username": "already taken"}
	// RetryAfter is set on ErrRateLimited, in whole seconds.
	RetryAfter int
}

func (e *Error) Error() string {
	if len(e.Details) == 0 {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	return fmt.Sprintf("%s: %s %v", e.Code, e.Message, e.Details)
}

// Is makes errors.Is(err, ErrNotFound) true for an *Error of that kind.
func (e *Error) Is(target error) bool { return target == e.Kind }

// Unwrap returns the kind, so wrapping chains keep working.
func (e *Error) Unwrap() error { return e.Kind }

// Errorf builds an *Error of the given kind and code.
func Errorf(kind error, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// MaxDetails caps the fields one error names. A body of 60 000 unknown
// fields would otherwise get an answer twice its own size.
const MaxDetails = 20

// Invalid is a validation failure naming the offending fields, at most
// MaxDetails of them (the first by name, so that the answer is the same
// every time); its message then says how many there were.
func Invalid(details map[string]string) *Error {
	e := &Error{Kind: ErrInvalid, Code: "validation_failed", Message: "Some fields are not valid.", Details: details}
	if len(details) > MaxDetails {
		names := slices.Sorted(maps.Keys(details))[:MaxDetails]
		e.Details = make(map[string]string, MaxDetails)
		for _, name := range names {
			e.Details[name] = details[name]
		}
		e.Message = fmt.Sprintf("%d fields are not valid; the first %d by name are listed.", len(details), MaxDetails)
	}
	return e
}

// Common errors with fixed codes.
var (
	ErrNotMember          = &Error{Kind: ErrForbidden, Code: "not_member", Message: "You are not a member of this group."}
	ErrInvalidCredentials = &Error{Kind: ErrUnauthorized, Code: "invalid_credentials", Message: "Wrong username or password."}
	ErrUsernameTaken      = &Error{Kind: ErrConflict, Code: "username_taken", Message: "This username is already taken.", Details: map[string]string{"username": "already taken"}}
)

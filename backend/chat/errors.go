package chat

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
)

// The kinds of failure every layer speaks. Stores and use cases wrap them
// (directly or through *Error) with %w. What a client is told of each kind
// is in kinds below; the HTTP and WebSocket transports only map a kind to a
// status or close code.
var (
	ErrInvalid      = errors.New("invalid")
	ErrUnauthorized = errors.New("unauthorized")
	ErrForbidden    = errors.New("forbidden")
	ErrNotFound     = errors.New("not found")
	ErrConflict     = errors.New("conflict")
	ErrTooLarge     = errors.New("too large")
	ErrRateLimited  = errors.New("rate limited")
	ErrUnavailable  = errors.New("unavailable") // database or broker unreachable
)

// kindText is what a client is told of an error of one kind that says
// nothing more itself.
type kindText struct {
	kind          error
	code, message string
}

// kinds is the one table from an error kind to its code and sentence
// (API.md, Errors). The order decides for an error that is of several
// kinds. A function, so that no package state can be changed by anyone.
func kinds() []kindText {
	return []kindText{
		{ErrInvalid, "validation_failed", "Some fields are not valid."},
		{ErrUnauthorized, "unauthorized", "Authentication is required."},
		{ErrForbidden, "forbidden", "You are not allowed to do this."},
		{ErrNotFound, "not_found", "Not found."},
		{ErrConflict, "conflict", "This conflicts with the current state."},
		{ErrTooLarge, "payload_too_large", "The request is too large."},
		{ErrRateLimited, "rate_limited", "Too many requests; try again later."},
		{ErrUnavailable, "unavailable", "The service is temporarily unavailable."},
	}
}

// Error is a failure with a stable machine code and a sentence that is safe
// to show to the client. It matches its Kind with errors.Is.
type Error struct {
	Kind    error             // one of the Err* values above, or a transport's own kind
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

// Fail builds an *Error of kind with the kind's own code, and message, or
// the kind's sentence when message is "".
func Fail(kind error, message string) *Error {
	e := &Error{Kind: kind, Message: message}
	for _, k := range kinds() {
		if k.kind == kind { //nolint:errorlint // kinds are sentinel values compared for identity
			e.Code, e.Message = k.code, cmp.Or(message, k.message)
			break
		}
	}
	return e
}

// Description is what a client may be told of an error: a kind for the
// transport to map (to an HTTP status, a WebSocket frame), and the body.
type Description struct {
	// Kind is the Err* kind of the error or, for an error of none of them,
	// the Kind of the *Error it carries (a transport's own kind); nil for an
	// internal failure, whose cause only the log may see.
	Kind       error
	Code       string
	Message    string
	Details    map[string]string
	RetryAfter int // seconds; set with ErrRateLimited
}

// Describe tells what a client may learn of err. Of the first kind err is
// (in the order of kinds), the *Error of that kind in its chain speaks for
// itself, with the kind's code and sentence where it leaves them empty; a
// bare kind gets the kind's. An error of no kind is an internal failure.
func Describe(err error) Description {
	var ce *Error
	hasCE := errors.As(err, &ce)
	for _, k := range kinds() {
		if !errors.Is(err, k.kind) {
			continue
		}
		d := Description{Kind: k.kind, Code: k.code, Message: k.message}
		if hasCE && ce.Kind == k.kind { //nolint:errorlint // kinds are sentinel values compared for identity
			d.Code = cmp.Or(ce.Code, d.Code)
			d.Message = cmp.Or(ce.Message, d.Message)
			d.Details, d.RetryAfter = ce.Details, ce.RetryAfter
		}
		return d
	}
	if hasCE && ce.Kind != nil && ce.Code != "" {
		return Description{Kind: ce.Kind, Code: ce.Code, Message: ce.Message, Details: ce.Details, RetryAfter: ce.RetryAfter}
	}
	return Internal()
}

// Internal describes a failure of our own: the client learns nothing of it.
func Internal() Description {
	return Description{Code: "internal", Message: "Something went wrong on our side."}
}

// MaxDetails caps the fields one error names. A body of 60 000 unknown
// fields would otherwise get an answer twice its own size.
const MaxDetails = 20

// Invalid is a validation failure naming the offending fields, at most
// MaxDetails of them (the first by name, so that the answer is the same
// every time); its message then says how many there were.
func Invalid(details map[string]string) *Error {
	e := Fail(ErrInvalid, "")
	e.Details = details
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

// InvalidJSON is a body or frame that is not the JSON asked for.
func InvalidJSON(message string) *Error {
	return &Error{Kind: ErrInvalid, Code: "invalid_json", Message: message}
}

// ErrNoMembership is a store's answer to a write or read that needs the
// user to be a member of the group when no such membership exists (nor,
// perhaps, the group or the user). It is an ErrNotFound; the use case that
// gets it reads the group to tell the caller which error applies.
var ErrNoMembership = fmt.Errorf("no such membership: %w", ErrNotFound)

// Common errors with fixed codes.
var (
	ErrNotMember          = &Error{Kind: ErrForbidden, Code: "not_member", Message: "You are not a member of this group."}
	ErrInvalidCredentials = &Error{Kind: ErrUnauthorized, Code: "invalid_credentials", Message: "Wrong username or password."}
	ErrUsernameTaken      = &Error{Kind: ErrConflict, Code: "username_taken", Message: "This username is already taken.", Details: map[string]string{"username": "already taken"}}
)

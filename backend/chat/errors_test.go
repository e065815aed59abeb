package chat_test

import (
	"errors"
	"fmt"
	"maps"
	"testing"

	"github.com/chatapp/chat/chat"
)

func TestDescribe(t *testing.T) {
	transportKind := errors.New("unsupported media type")
	tests := []struct {
		name       string
		err        error
		kind       error
		code, msg  string
		details    map[string]string
		retryAfter int
	}{
		{"bare kind", chat.ErrNotFound, chat.ErrNotFound, "not_found", "Not found.", nil, 0},
		{"wrapped kind", fmt.Errorf("load: %w", chat.ErrUnavailable), chat.ErrUnavailable, "unavailable", "The service is temporarily unavailable.", nil, 0},
		{"own code and sentence", fmt.Errorf("send: %w", chat.ErrNotMember), chat.ErrForbidden, "not_member", "You are not a member of this group.", nil, 0},
		{"details", chat.Invalid(map[string]string{"body": "must not be empty"}), chat.ErrInvalid, "validation_failed", "Some fields are not valid.", map[string]string{"body": "must not be empty"}, 0},
		{"retry after", &chat.Error{Kind: chat.ErrRateLimited, Code: "rate_limited", Message: "Slow down.", RetryAfter: 7}, chat.ErrRateLimited, "rate_limited", "Slow down.", nil, 7},
		{"empty code and sentence", &chat.Error{Kind: chat.ErrConflict}, chat.ErrConflict, "conflict", "This conflicts with the current state.", nil, 0},
		// The first kind of the table decides; the *Error of another kind
		// does not speak for it.
		{"two kinds", fmt.Errorf("%w: %w", chat.ErrInvalid, chat.ErrNotMember), chat.ErrInvalid, "validation_failed", "Some fields are not valid.", nil, 0},
		{"transport kind", &chat.Error{Kind: transportKind, Code: "unsupported_media_type", Message: "JSON only."}, transportKind, "unsupported_media_type", "JSON only.", nil, 0},
		{"unknown kind without code", &chat.Error{Kind: transportKind}, nil, "internal", "Something went wrong on our side.", nil, 0},
		{"no kind", errors.New(`pq: syntax error at "SELECT password_hash"`), nil, "internal", "Something went wrong on our side.", nil, 0},
		{"nil", nil, nil, "internal", "Something went wrong on our side.", nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := chat.Describe(tc.err)
			if d.Kind != tc.kind || d.Code != tc.code || d.Message != tc.msg || //nolint:errorlint // kinds are compared for identity
				!maps.Equal(d.Details, tc.details) || d.RetryAfter != tc.retryAfter {
				t.Errorf("Describe(%v) = %+v, want kind %v code %q message %q details %v retry %d",
					tc.err, d, tc.kind, tc.code, tc.msg, tc.details, tc.retryAfter)
			}
		})
	}
}

func TestFailTakesTheKindsCode(t *testing.T) {
	kinds := []error{chat.ErrInvalid, chat.ErrUnauthorized, chat.ErrForbidden, chat.ErrNotFound,
		chat.ErrConflict, chat.ErrTooLarge, chat.ErrRateLimited, chat.ErrUnavailable}
	codes := map[string]bool{}
	for _, kind := range kinds {
		plain := chat.Describe(kind)
		e := chat.Fail(kind, "")
		if e.Code != plain.Code || e.Message != plain.Message || !errors.Is(e, kind) {
			t.Errorf("Fail(%v, \"\") = %+v, want code %q message %q", kind, e, plain.Code, plain.Message)
		}
		if e := chat.Fail(kind, "More."); e.Code != plain.Code || e.Message != "More." {
			t.Errorf("Fail(%v, \"More.\") = %+v", kind, e)
		}
		if codes[plain.Code] || plain.Code == "" || plain.Code == "internal" {
			t.Errorf("kind %v has code %q, not its own", kind, plain.Code)
		}
		codes[plain.Code] = true
	}
	if e := chat.Fail(errors.New("other"), "m"); e.Code != "" || e.Message != "m" {
		t.Errorf("Fail of a kind outside the table = %+v, want no code", e)
	}
}

package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/chatapp/chat/chat"
)

// errorBody is the one shape of every non-2xx answer (API.md, Errors).
type errorBody struct {
	Error errorPayload `json:"error"`
}

type errorPayload struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Details map[string]string `json:"details,omitempty"`
}

type kindEntry struct {
	kind    error
	status  int
	code    string
	message string
}

// errorTable is the one table from an error kind to its HTTP status and the
// code and sentence used when the error is not a *chat.Error of its own. It is a
// function so that no package state can be changed by anyone.
func errorTable() []kindEntry {
	return []kindEntry{
		{chat.ErrInvalid, http.StatusBadRequest, "validation_failed", "Some fields are not valid."},
		{chat.ErrUnauthorized, http.StatusUnauthorized, "unauthorized", "Authentication is required."},
		{chat.ErrForbidden, http.StatusForbidden, "forbidden", "You are not allowed to do this."},
		{chat.ErrNotFound, http.StatusNotFound, "not_found", "Not found."},
		{chat.ErrConflict, http.StatusConflict, "conflict", "This conflicts with the current state."},
		{chat.ErrTooLarge, http.StatusRequestEntityTooLarge, "payload_too_large", "The request is too large."},
		{chat.ErrRateLimited, http.StatusTooManyRequests, "rate_limited", "Too many requests; try again later."},
		{chat.ErrUnavailable, http.StatusServiceUnavailable, "unavailable", "The service is temporarily unavailable."},
		{errUnsupportedMedia, http.StatusUnsupportedMediaType, "unsupported_media_type", "The body must be JSON."},
		{errMethodNotAllowed, http.StatusMethodNotAllowed, "method_not_allowed", "This method is not allowed here."},
	}
}

// classify turns any error into the status and payload the client may see.
// ok is false for errors of no known kind: those are answered as 500 and
// their cause is only logged.
func classify(err error) (status int, p errorPayload, retryAfter int, ok bool) {
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		err = chat.ErrTooLarge
	}
	if errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, chat.ErrUnavailable) {
		err = chat.ErrUnavailable
	}
	for _, k := range errorTable() {
		if !errors.Is(err, k.kind) {
			continue
		}
		p = errorPayload{Code: k.code, Message: k.message}
		var ce *chat.Error
		if errors.As(err, &ce) && ce.Kind == k.kind { //nolint:errorlint // kinds are sentinel values compared for identity
			if ce.Code != "" {
				p.Code = ce.Code
			}
			if ce.Message != "" {
				p.Message = ce.Message
			}
			p.Details = ce.Details
			retryAfter = ce.RetryAfter
		}
		return k.status, p, retryAfter, true
	}
	return http.StatusInternalServerError, errorPayload{Code: "internal", Message: "Something went wrong on our side."}, 0, false
}

// fail answers err and stops the handler chain. Causes the client does not
// see are logged (500s as errors, 503s at debug level).
func (a *api) fail(c *gin.Context, err error) {
	status, p, retryAfter, known := classify(err)
	switch {
	case !known:
		a.log.ErrorContext(c.Request.Context(), "request failed", "err", err, "method", c.Request.Method, "route", c.FullPath())
	case status == http.StatusServiceUnavailable:
		// The outage itself is logged once by the store (WARN when it
		// begins, INFO when it ends), not once per request.
		a.log.DebugContext(c.Request.Context(), "dependency unavailable", "err", err, "route", c.FullPath())
	}
	if status == http.StatusTooManyRequests {
		if retryAfter < 1 {
			retryAfter = 1
		}
		c.Header("Retry-After", strconv.Itoa(retryAfter))
	}
	if status == http.StatusUnauthorized {
		c.Header("WWW-Authenticate", `Bearer realm="chat"`)
	}
	abortJSON(c, status, p)
}

// abortJSON writes an error body unless something was already written (a
// panic after the answer started cannot change it any more).
func abortJSON(c *gin.Context, status int, p errorPayload) {
	if c.Writer.Written() {
		c.Abort()
		return
	}
	c.AbortWithStatusJSON(status, errorBody{Error: p})
}

// invalid answers 400 validation_failed naming the offending fields.
func (a *api) invalid(c *gin.Context, details map[string]string) {
	a.fail(c, chat.Invalid(details))
}

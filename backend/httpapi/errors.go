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

// The transport's own kinds: failures of HTTP itself, not of the domain.
var (
	errUnsupportedMedia = errors.New("unsupported media type")
	errMethodNotAllowed = errors.New("method not allowed")
)

type kindStatus struct {
	kind   error
	status int
}

// statuses is the one table from an error kind to its HTTP status; what
// the client is told of each kind is the domain's (chat.Describe). It is a
// function so that no package state can be changed by anyone.
func statuses() []kindStatus {
	return []kindStatus{
		{chat.ErrInvalid, http.StatusBadRequest},
		{chat.ErrUnauthorized, http.StatusUnauthorized},
		{chat.ErrForbidden, http.StatusForbidden},
		{chat.ErrNotFound, http.StatusNotFound},
		{chat.ErrConflict, http.StatusConflict},
		{chat.ErrTooLarge, http.StatusRequestEntityTooLarge},
		{chat.ErrRateLimited, http.StatusTooManyRequests},
		{chat.ErrUnavailable, http.StatusServiceUnavailable},
		{errUnsupportedMedia, http.StatusUnsupportedMediaType},
		{errMethodNotAllowed, http.StatusMethodNotAllowed},
	}
}

// describe turns any error into the status and description the client may
// see. Errors of no known kind are answered as 500 and their cause is only
// logged.
func describe(err error) (int, chat.Description) {
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		err = chat.ErrTooLarge
	}
	if errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, chat.ErrUnavailable) {
		err = chat.ErrUnavailable
	}
	d := chat.Describe(err)
	for _, s := range statuses() {
		if d.Kind == s.kind { //nolint:errorlint // kinds are sentinel values compared for identity
			return s.status, d
		}
	}
	return http.StatusInternalServerError, chat.Internal()
}

// fail answers err and stops the handler chain. Causes the client does not
// see are logged (500s as errors, 503s at debug level).
func (a *api) fail(c *gin.Context, err error) {
	switch status := abortError(c, err); status {
	case http.StatusInternalServerError:
		a.log.ErrorContext(c.Request.Context(), "request failed", "err", err, "method", c.Request.Method, "route", c.FullPath())
	case http.StatusServiceUnavailable:
		// The outage itself is logged once by the store (WARN when it
		// begins, INFO when it ends), not once per request.
		a.log.DebugContext(c.Request.Context(), "dependency unavailable", "err", err, "route", c.FullPath())
	}
}

// abortError answers err with its status and error body and stops the
// handler chain, unless something was already written (a panic after the
// answer started cannot change it any more). It returns the status.
func abortError(c *gin.Context, err error) int {
	status, d := describe(err)
	if c.Writer.Written() {
		c.Abort()
		return status
	}
	switch status {
	case http.StatusTooManyRequests:
		c.Header("Retry-After", strconv.Itoa(max(1, d.RetryAfter)))
	case http.StatusUnauthorized:
		c.Header("WWW-Authenticate", `Bearer realm="chat"`)
	}
	c.AbortWithStatusJSON(status, errorBody{Error: errorPayload{Code: d.Code, Message: d.Message, Details: d.Details}})
	return status
}

// invalid answers 400 validation_failed naming the offending fields.
func (a *api) invalid(c *gin.Context, details map[string]string) {
	a.fail(c, chat.Invalid(details))
}

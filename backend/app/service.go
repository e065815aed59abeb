// Package app holds the use cases of the product: sign-up, login, groups,
// membership, history, sending, editing, read markers. It checks every
// permission, persists before it publishes, and declares the interfaces of
// the outside systems it needs (ports.go). Transports (httpapi, realtime)
// call it; it calls no transport.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/chatapp/chat/chat"
)

// DefaultRefreshTTL is the lifetime of a refresh token unless configured.
const DefaultRefreshTTL = 30 * 24 * time.Hour

// Config holds the use-case settings read from the environment in main.
type Config struct {
	RefreshTTL time.Duration // lifetime of a refresh token (default 30 days)
	// SessionPoll is how often WatchSessions reads the sessions ended on
	// any instance (default DefaultSessionPoll).
	SessionPoll time.Duration
	// MaxUpload is the largest attachment in bytes (CHAT_MAX_UPLOAD,
	// default DefaultMaxUpload).
	MaxUpload int64
}

// Deps are the outside systems the use cases need.
type Deps struct {
	Store    Store
	Tokens   Tokens
	Hasher   PasswordHasher
	Notifier Notifier // nil: events are dropped (tests of pure use cases)
	Presence Presence // nil: everyone is reported offline
	// Admission slows senders down while the instance cannot deliver what
	// it is asked to (the realtime hub). nil: sends are never held.
	Admission Admission
	// Logins limits password checks (login, password change) by their
	// failures per username and client address (WithClient). nil: no limit.
	Logins LoginGuard
	// Sessions records the sessions that ended (WatchSessions keeps it in
	// step with the database), so that REST checks a token's session
	// without a database read. nil: every check reads the database.
	Sessions *Sessions
	// Blobs keeps the bytes of attachments (nil: uploads fail).
	Blobs Blobs
	// Links signs attachment downloads (nil: unsigned links, which need a
	// member's bearer token).
	Links AttachmentLinks
	// Pages keeps the latest page of the groups Live says this instance
	// hears (pages.go); nil, or Live nil: every page is read from the
	// database.
	Pages *PageCache
	Live  LiveGroups
	Clock func() time.Time // nil: time.Now
	Log   *slog.Logger     // nil: discard
	// Rand is the source of refresh tokens and family ids (nil: crypto/rand).
	Rand io.Reader
}

// Service runs the use cases. It is safe for concurrent use.
type Service struct {
	Deps
	cfg Config

	// dummyHash is a hash of a random password, verified against when a
	// login names an unknown user so that the answer takes as long as for a
	// wrong password. Made on first use: hashing costs ~50 ms.
	dummyOnce sync.Once
	dummyHash string
}

// New returns a Service.
func New(d Deps, cfg Config) *Service {
	if cfg.RefreshTTL <= 0 {
		cfg.RefreshTTL = DefaultRefreshTTL
	}
	if cfg.SessionPoll <= 0 {
		cfg.SessionPoll = DefaultSessionPoll
	}
	if cfg.MaxUpload <= 0 {
		cfg.MaxUpload = DefaultMaxUpload
	}
	if d.Clock == nil {
		d.Clock = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{Deps: d, cfg: cfg}
}

func (s *Service) now() time.Time { return s.Clock().UTC() }

// Presenter is how the service presents messages: cmd/chatd gives the hub
// the same one (HubStore).
func (s *Service) Presenter() Presenter { return Presenter{Links: s.Links, Clock: s.Clock} }

// clientKey is the context key of the caller's network address.
type clientKey struct{}

// WithClient returns ctx carrying the caller's IP address, which the
// transport knows and the login guard keys on.
func WithClient(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, clientKey{}, addr)
}

// ClientAddr is the caller's address from WithClient, "" when unknown (all
// unknown callers then share one key).
func ClientAddr(ctx context.Context) string {
	addr, _ := ctx.Value(clientKey{}).(string)
	return addr
}

// notify hands a committed change to the Notifier. The request context may be
// cancelled right after the commit (the client hung up); the event must still
// go out, so cancellation is detached while the values (trace ids) are kept.
func (s *Service) notify(ctx context.Context, ev chat.Event) {
	if s.Pages != nil && ev.GroupID != 0 {
		// Before the use case answers: its caller's next page shows the
		// change (the other instances drop theirs when they hear the event).
		s.Pages.Changed(ev.GroupID, ev.Type)
	}
	if s.Notifier == nil {
		return
	}
	if ev.Message != nil {
		m := *ev.Message
		s.Presenter().Message(&m, 0)
		ev.Message = &m
	}
	s.Notifier.Notify(context.WithoutCancel(ctx), ev)
}

func notFound(what string) *chat.Error {
	return chat.Fail(chat.ErrNotFound, "No such "+what+".")
}

func forbidden(msg string) *chat.Error { return chat.Fail(chat.ErrForbidden, msg) }

func conflict(msg string) *chat.Error { return chat.Fail(chat.ErrConflict, msg) }

func unauthorized() *chat.Error { return chat.Fail(chat.ErrUnauthorized, "Please log in again.") }

// orNotFound turns a store's not-found into the client-facing error for what,
// and wraps anything else with op for the log.
func orNotFound(err error, op, what string) error {
	if errors.Is(err, chat.ErrNotFound) {
		return notFound(what)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// asError returns a validation *chat.Error as an error, keeping a nil
// *chat.Error from becoming a non-nil interface.
func asError(e *chat.Error) error {
	if e == nil {
		return nil
	}
	return e
}

func isInvalid(err error) bool { return errors.Is(err, chat.ErrInvalid) }

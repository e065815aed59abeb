package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/chatapp/chat/auth"
	"github.com/chatapp/chat/chat"
)

// Sessions is one instance's record of the sessions (refresh-token
// families) that ended recently: REST refuses their access tokens with a
// map lookup instead of a database read per request. The database is the
// truth: WatchSessions reads the sessions ended on any instance every
// SessionPoll, so a record lost on the way (the broker is at most once)
// costs at most that long. A session is kept as long as a token issued
// before it ended can be valid, then forgotten.
type Sessions struct {
	keep time.Duration

	mu     sync.Mutex
	loaded bool                 // the database has been read once
	ended  map[string]time.Time // session → when it ended
	log    []chat.SessionEnd    // in the order learned, for Since
	first  uint64               // the mark of log[0]
	pruned time.Time            // last prune
}

// NewSessions returns an empty record that keeps each ended session for
// keep: at least the access-token lifetime, plus the clock skew allowed
// between instances.
func NewSessions(keep time.Duration) *Sessions {
	return &Sessions{keep: keep, ended: make(map[string]time.Time)}
}

// Add records sessions that ended (here, or heard of from another
// instance); it returns those that were not known yet.
func (r *Sessions) Add(now time.Time, ends ...chat.SessionEnd) []chat.SessionEnd {
	r.mu.Lock()
	defer r.mu.Unlock()
	var added []chat.SessionEnd
	for _, e := range ends {
		if _, ok := r.ended[e.Session]; ok || e.Session == "" {
			continue
		}
		if e.At.IsZero() {
			e.At = now
		}
		r.ended[e.Session] = e.At
		r.log = append(r.log, e)
		added = append(added, e)
	}
	if now.Sub(r.pruned) >= time.Minute {
		r.pruneLocked(now)
	}
	return added
}

func (r *Sessions) pruneLocked(now time.Time) {
	r.pruned = now
	for s, at := range r.ended {
		if now.Sub(at) > r.keep {
			delete(r.ended, s)
		}
	}
	n := 0
	for n < len(r.log) && now.Sub(r.log[n].At) > r.keep {
		n++
	}
	clear(r.log[:n])
	r.log = r.log[n:]
	r.first += uint64(n)
}

// Ended reports whether the session is known to have ended.
func (r *Sessions) Ended(session string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.ended[session]
	return ok
}

// Since returns the sessions learned after mark (0: all kept) and the mark
// to pass next time.
func (r *Sessions) Since(mark uint64) ([]chat.SessionEnd, uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	end := r.first + uint64(len(r.log))
	if mark >= end {
		return nil, end
	}
	from := uint64(0)
	if mark > r.first {
		from = mark - r.first
	}
	return append([]chat.SessionEnd(nil), r.log[from:]...), end
}

func (r *Sessions) markLoaded() {
	r.mu.Lock()
	r.loaded = true
	r.mu.Unlock()
}

// Loaded reports whether the record has read the database once; before
// that it cannot tell an ended session from a live one.
func (r *Sessions) Loaded() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.loaded
}

// DefaultSessionPoll is how often WatchSessions reads the ended sessions.
const DefaultSessionPoll = time.Second

// sessionPollOverlap is how far back each read of the ended sessions
// reaches before the previous one began: instances stamp the rows with
// their own clocks, and a row may commit a little after its stamp.
const sessionPollOverlap = time.Minute

// WatchSessions keeps Deps.Sessions in step with the database until ctx
// ends: at once, then every SessionPoll, it reads the sessions ended since
// the last read (on any instance). It returns nil when ctx ends.
func (s *Service) WatchSessions(ctx context.Context) error {
	if s.Sessions == nil {
		return errors.New("app: WatchSessions needs Deps.Sessions")
	}
	since := s.now().Add(-s.Sessions.keep)
	t := time.NewTicker(s.cfg.SessionPoll)
	defer t.Stop()
	failing := false
	for {
		start := s.now()
		ends, err := s.Store.EndedSessions(ctx, since.Add(-sessionPollOverlap))
		switch {
		case err == nil:
			s.Sessions.Add(start, ends...)
			s.Sessions.markLoaded()
			since = start
			if failing {
				s.Log.InfoContext(ctx, "reading ended sessions again")
			}
			failing = false
		case ctx.Err() != nil:
			return nil
		case !failing:
			// The store logs the outage itself; this says what waits for it.
			s.Log.WarnContext(ctx, "cannot read ended sessions; tokens of sessions ended on other instances are refused once it can", "err", err)
			failing = true
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// errSessionEnded answers a token of a session that has ended.
func errSessionEnded() *chat.Error {
	return &chat.Error{Kind: chat.ErrUnauthorized, Code: "unauthorized", Message: "The session has ended; log in again."}
}

// verify checks an access token and that its session has not ended: from
// Deps.Sessions once it has read the database, else from the database.
func (s *Service) verify(ctx context.Context, accessToken string) (auth.Claims, error) {
	if accessToken == "" {
		return auth.Claims{}, unauthorized()
	}
	c, err := s.Tokens.Verify(accessToken, s.now())
	if err != nil {
		return auth.Claims{}, err
	}
	if s.Sessions != nil && s.Sessions.Loaded() {
		if s.Sessions.Ended(c.Session) {
			return auth.Claims{}, errSessionEnded()
		}
		return c, nil
	}
	if _, err := s.sessionUser(ctx, c); err != nil {
		return auth.Claims{}, err
	}
	return c, nil
}

// sessionUser reads the token's user and refuses it if its session ended,
// from the database: exact, for what lives long (a WebSocket).
func (s *Service) sessionUser(ctx context.Context, c auth.Claims) (chat.User, error) {
	u, ended, err := s.Store.SessionUser(ctx, c.UserID, c.Session)
	if err != nil {
		if errors.Is(err, chat.ErrNotFound) {
			return chat.User{}, unauthorized() // the user is gone
		}
		return chat.User{}, fmt.Errorf("session user: %w", err)
	}
	if ended {
		return chat.User{}, errSessionEnded()
	}
	return u, nil
}

// ended records sessions of uid that ended here and tells every instance:
// their tokens are refused and their sockets close.
func (s *Service) ended(ctx context.Context, uid int64, families []string, at time.Time) {
	ends := make([]chat.SessionEnd, len(families))
	for i, f := range families {
		ends[i] = chat.SessionEnd{Session: f, UserID: uid, At: at}
	}
	if s.Sessions != nil {
		s.Sessions.Add(at, ends...)
	}
	s.notify(ctx, chat.Event{Type: chat.EventSessionsEnded, UserID: uid, Sessions: families})
}

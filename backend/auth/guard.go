package auth

import (
	"math"
	"sync"
	"time"
)

// GuardConfig tunes a LoginGuard; zero fields take the defaults.
type GuardConfig struct {
	// FreeFailures is how many failures one (username, client) pair has
	// before its back-off starts (default 5).
	FreeFailures int
	// BaseBackoff is the first back-off of a pair; each further failure
	// doubles it (default 1 s).
	BaseBackoff time.Duration
	// MaxBackoff caps a pair's back-off (default 15 min).
	MaxBackoff time.Duration
	// ForgetAfter is how long a pair without attempts is remembered
	// (default 1 h): then its failures are forgotten.
	ForgetAfter time.Duration
	// UserCeiling failures per UserWindow, from all addresses together,
	// refuse further checks for the username (defaults 100 per 15 min). It
	// is a bucket: capacity UserCeiling, refilled at UserCeiling per
	// UserWindow.
	UserCeiling int
	UserWindow  time.Duration
	// MaxEntries bounds the pairs and the usernames remembered, each
	// (default 100 000); when full, idle entries go first, then arbitrary
	// ones (forgetting only makes the guard more lenient).
	MaxEntries int
}

func (c GuardConfig) withDefaults() GuardConfig {
	if c.FreeFailures <= 0 {
		c.FreeFailures = 5
	}
	if c.BaseBackoff <= 0 {
		c.BaseBackoff = time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 15 * time.Minute
	}
	if c.ForgetAfter <= 0 {
		c.ForgetAfter = time.Hour
	}
	if c.UserCeiling <= 0 {
		c.UserCeiling = 100
	}
	if c.UserWindow <= 0 {
		c.UserWindow = 15 * time.Minute
	}
	if c.MaxEntries <= 0 {
		c.MaxEntries = 100_000
	}
	return c
}

// LoginGuard slows down password guessing without letting anyone lock an
// account's owner out. It counts failed password checks only, per
// (username, client address) pair with a growing back-off, and per
// username with a much higher ceiling over all addresses. A pair without
// failures is refused only when the username's ceiling is reached, which
// takes many addresses guessing at once (each is slowed by its own
// back-off). A success clears its pair.
//
// Checks in flight count as failures until they finish, so that a burst of
// parallel requests gets no more tries than a sequence would. Memory is
// bounded: keys are at most maxLimitKeyLen bytes and entries at most MaxEntries
// per map. Safe for concurrent use.
type LoginGuard struct {
	cfg GuardConfig

	mu    sync.Mutex
	pairs map[pairKey]*pairState
	users map[string]*bucket // tokens: failures the username has left
}

type pairKey struct{ user, client string }

type pairState struct {
	failures, pending int
	last              time.Time // the latest attempt
}

// NewLoginGuard returns a LoginGuard.
func NewLoginGuard(c GuardConfig) *LoginGuard {
	return &LoginGuard{cfg: c.withDefaults(), pairs: map[pairKey]*pairState{}, users: map[string]*bucket{}}
}

// Begin asks whether a password check of user (lower-cased by the caller)
// from client (an IP address, see ClientKey) may run at now. If not, it
// returns how long to wait. If so, done must be called once the check is
// over, with whether the password was wrong.
func (g *LoginGuard) Begin(user, client string, now time.Time) (done func(failed bool), wait time.Duration, ok bool) {
	k := pairKey{boundKey(user), ClientKey(client)}
	g.mu.Lock()
	defer g.mu.Unlock()

	p := g.pairs[k]
	if p != nil && now.Sub(p.last) >= g.cfg.ForgetAfter && p.pending == 0 {
		delete(g.pairs, k)
		p = nil
	}
	if p != nil {
		if w := p.last.Add(g.backoff(p.failures + p.pending)).Sub(now); w > 0 {
			return nil, w, false
		}
	}
	u := g.users[k.user]
	if u != nil {
		g.refill(u, now)
		if u.tokens < 1 {
			return nil, time.Duration(math.Ceil((1 - u.tokens) / g.rate() * float64(time.Second))), false
		}
	}

	if p == nil {
		g.makeRoomPairs(now)
		p = &pairState{}
		g.pairs[k] = p
	}
	if u == nil {
		g.makeRoomUsers(now)
		u = &bucket{tokens: float64(g.cfg.UserCeiling), last: now}
		g.users[k.user] = u
	}
	p.pending++
	p.last = now
	u.tokens-- // given back on success
	var once sync.Once
	return func(failed bool) {
		once.Do(func() { g.finish(k, p, u, failed) })
	}, 0, true
}

func (g *LoginGuard) finish(k pairKey, p *pairState, u *bucket, failed bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	p.pending--
	if failed {
		p.failures++
		return
	}
	u.tokens = min(float64(g.cfg.UserCeiling), u.tokens+1)
	p.failures = 0
	if p.pending == 0 && g.pairs[k] == p {
		delete(g.pairs, k)
	}
}

// backoff is how long after its latest attempt a pair with n failures (in
// flight included) waits: nothing up to FreeFailures, then BaseBackoff
// doubling with each failure, up to MaxBackoff.
func (g *LoginGuard) backoff(n int) time.Duration {
	over := n - g.cfg.FreeFailures
	if over < 0 {
		return 0
	}
	if over >= 30 { // 2^30 × any sane base is past the cap; avoids overflow
		return g.cfg.MaxBackoff
	}
	return min(g.cfg.MaxBackoff, g.cfg.BaseBackoff<<over)
}

func (g *LoginGuard) rate() float64 {
	return float64(g.cfg.UserCeiling) / g.cfg.UserWindow.Seconds()
}

func (g *LoginGuard) refill(b *bucket, now time.Time) {
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = min(float64(g.cfg.UserCeiling), b.tokens+elapsed.Seconds()*g.rate())
		b.last = now
	}
}

// makeRoomPairs runs before a pair is added to a full map: forgotten pairs
// go first, then arbitrary idle ones, an eighth of the map at once so that
// a flood of new pairs pays for one sweep per many.
func (g *LoginGuard) makeRoomPairs(now time.Time) {
	if len(g.pairs) < g.cfg.MaxEntries {
		return
	}
	for k, p := range g.pairs {
		if p.pending == 0 && now.Sub(p.last) >= g.cfg.ForgetAfter {
			delete(g.pairs, k)
		}
	}
	for k, p := range g.pairs {
		if len(g.pairs) < g.cfg.MaxEntries-g.cfg.MaxEntries/8 {
			break
		}
		if p.pending == 0 {
			delete(g.pairs, k)
		}
	}
}

// makeRoomUsers is makeRoomPairs for usernames: refilled buckets carry no
// information.
func (g *LoginGuard) makeRoomUsers(now time.Time) {
	if len(g.users) < g.cfg.MaxEntries {
		return
	}
	for k, b := range g.users {
		g.refill(b, now)
		if b.tokens >= float64(g.cfg.UserCeiling) {
			delete(g.users, k)
		}
	}
	for k := range g.users {
		if len(g.users) < g.cfg.MaxEntries-g.cfg.MaxEntries/8 {
			break
		}
		delete(g.users, k)
	}
}

// Len reports how many pairs and usernames are remembered.
func (g *LoginGuard) Len() (pairs, users int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.pairs), len(g.users)
}

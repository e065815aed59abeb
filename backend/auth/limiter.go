package auth

import (
	"math"
	"sync"
	"time"
)

// DefaultMaxKeys bounds the number of keys a Limiter tracks.
const DefaultMaxKeys = 100_000

// Limiter is an in-memory token bucket per key (a client address, see
// ClientKey). It is safe for concurrent use and keeps memory bounded
// without a background goroutine: at most maxKeys buckets of keys of at
// most maxLimitKeyLen bytes (longer keys are hashed), and buckets that have
// refilled completely, indistinguishable from new ones, are dropped lazily
// during Allow.
type Limiter struct {
	rate    float64 // tokens per second; 0 disables the limiter
	burst   float64
	maxKeys int

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

// NewLimiter allows perMinute attempts per key with bursts of burst (at least
// 1). perMinute <= 0 allows everything (CHAT_AUTH_RATE=0).
func NewLimiter(perMinute int, burst int) *Limiter {
	if burst < 1 {
		burst = 1
	}
	rate := 0.0
	if perMinute > 0 {
		rate = float64(perMinute) / 60
	}
	return &Limiter{rate: rate, burst: float64(burst), maxKeys: DefaultMaxKeys, buckets: make(map[string]*bucket)}
}

// WithMaxKeys sets how many keys are tracked at most (for tests and small
// deployments) and returns l.
func (l *Limiter) WithMaxKeys(n int) *Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.maxKeys = max(n, 1)
	return l
}

// Allow takes one token for key at time now; when none is left it returns
// false and how long until the next one.
func (l *Limiter) Allow(key string, now time.Time) (bool, time.Duration) {
	if l.rate == 0 {
		return true, 0
	}
	key = boundKey(key)
	l.mu.Lock()
	defer l.mu.Unlock()

	b, ok := l.buckets[key]
	if !ok {
		l.makeRoom(now)
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	l.refill(b, now)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration(math.Ceil((1 - b.tokens) / l.rate * float64(time.Second)))
	return false, wait
}

func (l *Limiter) refill(b *bucket, now time.Time) {
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = min(l.burst, b.tokens+elapsed.Seconds()*l.rate)
		b.last = now
	}
}

// fullAfter is how long an emptied bucket takes to refill completely; a
// bucket idle that long carries no information.
func (l *Limiter) fullAfter() time.Duration {
	return time.Duration(l.burst / l.rate * float64(time.Second))
}

// makeRoom runs before a new key is added. It sweeps refilled buckets at most
// once per refill period, or whenever the map is full; if the map is still
// full (a flood of distinct keys), it drops arbitrary buckets: forgetting a
// key only makes the limiter more lenient for it, while growing without bound
// would let the flood exhaust memory.
func (l *Limiter) makeRoom(now time.Time) {
	full := len(l.buckets) >= l.maxKeys
	if !full && now.Sub(l.lastSweep) < l.fullAfter() {
		return
	}
	l.lastSweep = now
	idle := l.fullAfter()
	for k, b := range l.buckets {
		if now.Sub(b.last) >= idle {
			delete(l.buckets, k)
		}
	}
	// An eighth at once, so that a flood pays for one sweep per many keys
	// rather than one per key.
	for k := range l.buckets {
		if len(l.buckets) < l.maxKeys-l.maxKeys/8 {
			break
		}
		delete(l.buckets, k)
	}
}

// Len reports how many keys are tracked.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

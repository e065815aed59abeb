package broker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// MemoryPresence counts the connected users of the instances of one process.
// A user is online while at least one instance has reported them connected.
// Nothing expires: an in-process instance cannot die without the process.
type MemoryPresence struct {
	mu     sync.Mutex
	counts map[int64]int
}

// NewMemoryPresence returns an empty in-process presence.
func NewMemoryPresence() *MemoryPresence {
	return &MemoryPresence{counts: make(map[int64]int)}
}

// Connect records that one more instance has the user connected; it reports
// true when the user was offline everywhere before.
func (p *MemoryPresence) Connect(_ context.Context, uid int64) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts[uid]++
	return p.counts[uid] == 1, nil
}

// Disconnect records that one instance no longer has the user connected; it
// reports true when the user is now offline everywhere.
func (p *MemoryPresence) Disconnect(_ context.Context, uid int64) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.counts[uid]
	switch {
	case n <= 0:
		return false, nil
	case n == 1:
		delete(p.counts, uid)
		return true, nil
	default:
		p.counts[uid] = n - 1
		return false, nil
	}
}

// Online reports whether the user is connected anywhere.
func (p *MemoryPresence) Online(_ context.Context, uid int64) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[uid] > 0, nil
}

// Heartbeat does nothing: in-process entries do not expire.
func (p *MemoryPresence) Heartbeat(context.Context, []int64) error { return nil }

// Sweep finds nothing: in-process entries do not expire.
func (p *MemoryPresence) Sweep(context.Context) ([]int64, error) { return nil, nil }

// RedisPresence keeps, per user, one entry per instance that has the user
// connected, each with an expiry that the instance's heartbeat pushes
// forward. When an instance dies its entries run out, and the sweep (run by
// every instance; exactly one wins each user) reports those users offline
// within about TTL.
type RedisPresence struct {
	client   redis.UniversalClient
	prefix   string
	instance string
	// TTL is how long an entry lives without a heartbeat.
	TTL time.Duration
	// Clock gives the current time.
	Clock func() time.Time

	connectScript, disconnectScript, sweepScript *redis.Script
}

// NewRedisPresence returns a presence stored under keys starting with prefix.
// Each call gets its own random instance id.
func NewRedisPresence(client redis.UniversalClient, prefix string) (*RedisPresence, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("broker: presence instance id: %w", err)
	}
	return &RedisPresence{
		client: client, prefix: prefix, instance: hex.EncodeToString(b[:]), TTL: 60 * time.Second, Clock: time.Now,
		connectScript:    redis.NewScript(connectLua),
		disconnectScript: redis.NewScript(disconnectLua),
		sweepScript:      redis.NewScript(sweepLua),
	}, nil
}

// Instance is this presence's instance id.
func (p *RedisPresence) Instance() string { return p.instance }

func (p *RedisPresence) userKey(uid int64) string {
	return p.prefix + ":u:" + strconv.FormatInt(uid, 10)
}
func (p *RedisPresence) indexKey() string { return p.prefix + ":z" }
func (p *RedisPresence) nowMS() int64     { return p.Clock().UnixMilli() }

// The scripts make each check-and-change atomic, so two instances can never
// both believe they saw a user's first connection or their last.
const (
	connectLua = `
local vals = redis.call('HGETALL', KEYS[1])
local online = false
for i = 1, #vals, 2 do
  if vals[i] ~= ARGV[1] and tonumber(vals[i+1]) > tonumber(ARGV[3]) then online = true end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('ZADD', KEYS[2], 'GT', ARGV[2], ARGV[4])
if online then return 0 end
return 1`
	disconnectLua = `
redis.call('HDEL', KEYS[1], ARGV[1])
local vals = redis.call('HGETALL', KEYS[1])
for i = 1, #vals, 2 do
  if tonumber(vals[i+1]) > tonumber(ARGV[2]) then return 0 end
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[3])
return 1`
	sweepLua = `
local vals = redis.call('HGETALL', KEYS[1])
local maxexp = 0
for i = 1, #vals, 2 do
  local e = tonumber(vals[i+1])
  if e <= tonumber(ARGV[1]) then redis.call('HDEL', KEYS[1], vals[i]) elseif e > maxexp then maxexp = e end
end
if maxexp == 0 then
  redis.call('DEL', KEYS[1])
  return redis.call('ZREM', KEYS[2], ARGV[2])
end
redis.call('ZADD', KEYS[2], maxexp, ARGV[2])
return 0`
)

// Connect records this instance's entry for the user; it reports true when
// no other live entry existed (the user came online).
func (p *RedisPresence) Connect(ctx context.Context, uid int64) (bool, error) {
	now := p.nowMS()
	n, err := p.connectScript.Run(ctx, p.client, []string{p.userKey(uid), p.indexKey()},
		p.instance, now+p.TTL.Milliseconds(), now, uid, 3*p.TTL.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("broker: presence connect: %w", err)
	}
	return n == 1, nil
}

// Disconnect removes this instance's entry; it reports true when no live
// entry is left (the user went offline).
func (p *RedisPresence) Disconnect(ctx context.Context, uid int64) (bool, error) {
	n, err := p.disconnectScript.Run(ctx, p.client, []string{p.userKey(uid), p.indexKey()},
		p.instance, p.nowMS(), uid).Int()
	if err != nil {
		return false, fmt.Errorf("broker: presence disconnect: %w", err)
	}
	return n == 1, nil
}

// Online reports whether any instance has a live entry for the user.
func (p *RedisPresence) Online(ctx context.Context, uid int64) (bool, error) {
	vals, err := p.client.HGetAll(ctx, p.userKey(uid)).Result()
	if err != nil {
		return false, fmt.Errorf("broker: presence online: %w", err)
	}
	now := p.nowMS()
	for _, v := range vals {
		if e, err := strconv.ParseInt(v, 10, 64); err == nil && e > now {
			return true, nil
		}
	}
	return false, nil
}

// Heartbeat pushes the expiry of this instance's entries for uids forward.
func (p *RedisPresence) Heartbeat(ctx context.Context, uids []int64) error {
	if len(uids) == 0 {
		return nil
	}
	exp := p.nowMS() + p.TTL.Milliseconds()
	_, err := p.client.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for _, uid := range uids {
			k := p.userKey(uid)
			pipe.HSet(ctx, k, p.instance, exp)
			pipe.PExpire(ctx, k, 3*p.TTL)
			pipe.ZAddGT(ctx, p.indexKey(), redis.Z{Score: float64(exp), Member: uid})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("broker: presence heartbeat: %w", err)
	}
	return nil
}

// Sweep removes expired entries (of any instance) and returns the users that
// thereby went offline; each such user is returned by exactly one sweeping
// instance.
func (p *RedisPresence) Sweep(ctx context.Context) ([]int64, error) {
	now := p.nowMS()
	ids, err := p.client.ZRangeArgs(ctx, redis.ZRangeArgs{
		Key: p.indexKey(), Start: "-inf", Stop: strconv.FormatInt(now, 10), ByScore: true, Count: 1000,
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("broker: presence sweep: %w", err)
	}
	var offline []int64
	for _, s := range ids {
		uid, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			continue
		}
		n, err := p.sweepScript.Run(ctx, p.client, []string{p.userKey(uid), p.indexKey()}, now, uid).Int()
		if err != nil {
			return offline, fmt.Errorf("broker: presence sweep: %w", err)
		}
		if n == 1 {
			offline = append(offline, uid)
		}
	}
	return offline, nil
}

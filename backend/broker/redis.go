package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a broker over Redis pub/sub, one channel per topic, through any
// go-redis client: one node, Sentinel or Cluster. On one node or a Sentinel
// master it uses classic PUBLISH/SUBSCRIBE on channels prefix:topic. On a
// Cluster it uses sharded pub/sub (SPUBLISH/SSUBSCRIBE, Redis >= 7.0): a
// classic PUBLISH there is forwarded to every node over the cluster bus,
// while a sharded one stays on the node owning its channel's slot. Redis
// pub/sub is at-most-once: a subscriber that is disconnected misses what
// is published meanwhile, which is why every (re)subscription of a topic
// is reported to the consumer.
type Redis struct {
	client redis.UniversalClient
	prefix string
	log    *slog.Logger
	// cluster is set when the client is a Cluster's: pub/sub is sharded.
	cluster *redis.ClusterClient
	// shards are the hash tags of a Cluster's channels: a topic's channel
	// is {shards[i]}:topic, i a hash of the topic (see shardTags).
	shards []string

	// HealthInterval is how long the subscription may stay silent before it
	// pings Redis to find out whether the connection is still alive.
	HealthInterval time.Duration
	// MaxBackoff caps the wait between reconnect attempts.
	MaxBackoff time.Duration
}

// ClusterShards is how many hash tags a Cluster's channels are spread over.
// Every SSUBSCRIBE names channels of one slot only, and go-redis holds a
// sharded subscription on one connection, to its first channel's node,
// subscribing every channel again on that connection when it reconnects: so
// a subscription holds one connection per tag (not per slot, which would be
// thousands), and the tags' slots are spread evenly over the slot space, so
// over the masters. Every instance must use the same value.
const ClusterShards = 16

// NewRedis returns a broker whose channels are named prefix:topic (on a
// Cluster, {tag}:topic with prefix-derived tags). Whether pub/sub is
// sharded is decided here, from the client's kind, and nowhere else.
func NewRedis(client redis.UniversalClient, prefix string, log *slog.Logger) *Redis {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Redis{client: client, prefix: prefix, log: log, HealthInterval: 15 * time.Second, MaxBackoff: 2 * time.Second}
	if c, ok := client.(*redis.ClusterClient); ok {
		r.cluster = c
		r.shards = shardTags(prefix, ClusterShards)
	}
	return r
}

func (r *Redis) sharded() bool { return r.cluster != nil }

// shardOf is the index of topic's shard (0 when not sharded).
func (r *Redis) shardOf(topic string) int {
	if !r.sharded() {
		return 0
	}
	// FNV-1a, inline: this runs for every message published.
	h := uint32(2166136261)
	for i := 0; i < len(topic); i++ {
		h ^= uint32(topic[i])
		h *= 16777619
	}
	return int(h % uint32(len(r.shards)))
}

func (r *Redis) channel(topic string) string {
	if !r.sharded() {
		return r.prefix + ":" + topic
	}
	return "{" + r.shards[r.shardOf(topic)] + "}:" + topic
}

// Publish sends the messages, in order, to the subscribers of their topics
// on every instance: one round trip however many there are (a pipeline, in
// chunks of pipelineMax; on a Cluster, one per node, in parallel). The
// caller batches (package realtime publishes from one goroutine, taking
// whatever queued meanwhile). On a Cluster, the order holds per topic
// (each topic's channel lives on one node), not across topics.
func (r *Redis) Publish(ctx context.Context, msgs ...Message) error {
	for len(msgs) > 0 {
		n := min(len(msgs), pipelineMax)
		if err := r.publishChunk(ctx, msgs[:n]); err != nil {
			return err
		}
		msgs = msgs[n:]
	}
	return nil
}

// pipelineMax bounds one pipeline's commands (and its buffers).
const pipelineMax = 512

// publisher is what a publish is sent through: the client or a pipeline.
type publisher interface {
	Publish(ctx context.Context, channel string, message any) *redis.IntCmd
	SPublish(ctx context.Context, channel string, message any) *redis.IntCmd
}

func (r *Redis) publishOn(ctx context.Context, p publisher, m Message) *redis.IntCmd {
	if r.sharded() {
		return p.SPublish(ctx, r.channel(m.Topic), m.Payload)
	}
	return p.Publish(ctx, r.channel(m.Topic), m.Payload)
}

func (r *Redis) publishChunk(ctx context.Context, msgs []Message) error {
	if len(msgs) == 1 {
		if err := r.publishOn(ctx, r.client, msgs[0]).Err(); err != nil {
			return fmt.Errorf("broker: redis publish: %w", err)
		}
		return nil
	}
	pipe := r.client.Pipeline()
	for _, m := range msgs {
		r.publishOn(ctx, pipe, m)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("broker: redis publish (%d pipelined): %w", len(msgs), err)
	}
	return nil
}

// Subscribe holds ONE subscription until ctx ends, following the topics of
// topics (one SUBSCRIBE and one UNSUBSCRIBE per batch of changes; on a
// Cluster one SSUBSCRIBE and one SUNSUBSCRIBE per batch and shard) and
// delivering every message of them in the order Redis sends them (on a
// Cluster: per topic). It reconnects on its own (with backoff; go-redis
// subscribes every channel again) and calls connected with each topic whose
// subscription Redis confirms, before the messages received on it, and with
// no topic when the subscription (on a Cluster: one shard's connection) is
// (re)established. connected and deliver are called from one goroutine.
func (r *Redis) Subscribe(ctx context.Context, topics *Topics, deliver func(Message), connected func([]string)) error {
	lines := make([]*line, max(len(r.shards), 1))
	for i := range lines {
		l := &line{anchor: r.prefix + "!"}
		if r.sharded() {
			l.tag = r.shards[i]
			l.anchor = "{" + l.tag + "}!"
			l.want = make(map[string]struct{})
			l.ours = make(map[string]int)
		}
		l.ps = r.open(ctx, l)
		lines[i] = l
	}
	// Receive does not watch ctx while it waits on the socket; closing the
	// PubSub is what unblocks it.
	stop := context.AfterFunc(ctx, func() {
		for _, l := range lines {
			l.close()
		}
	})
	defer func() {
		if stop() {
			for _, l := range lines {
				l.close()
			}
		}
	}()
	// The topic changes go out from their own goroutine: go-redis lets a
	// command be written while the receive below waits.
	done := make(chan struct{})
	var wg sync.WaitGroup
	defer func() {
		close(done)
		wg.Wait()
	}()
	wg.Go(func() {
		follow(done, topics, func(added, removed []string) {
			gone, come := r.byShard(removed, len(lines)), r.byShard(added, len(lines))
			for i, l := range lines {
				// Errors need no handling here: go-redis records the
				// channels either way, and its reconnect subscribes them
				// all.
				if len(gone[i]) > 0 {
					l.unsubscribe(ctx, gone[i])
				}
				if len(come[i]) > 0 {
					l.subscribe(ctx, come[i])
				}
			}
		})
	})

	handle := func(e event) {
		switch {
		case e.lost:
			topics.setBroken(true)
		case e.anchor:
			connected(nil)
			if e.restored {
				// After connected: what the subscriber dropped there is
				// not kept again from a read made while this was lost.
				topics.setBroken(false)
			}
		case e.confirmed:
			active := []string{e.msg.Topic}
			topics.activate(active)
			connected(active)
		default:
			deliver(e.msg)
		}
	}
	if len(lines) == 1 {
		r.receive(ctx, lines[0], handle)
		return nil
	}
	// One receiver per shard's connection; their events are handled here,
	// one at a time.
	events := make(chan event, 64)
	for _, l := range lines {
		wg.Go(func() {
			r.receive(ctx, l, func(e event) {
				select {
				case events <- e:
				case <-ctx.Done():
				}
			})
		})
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case e := <-events:
			handle(e)
		}
	}
}

// event is what a line received: its anchor's confirmation (restored:
// after the line was lost), a topic's confirmation, or a message; or that
// the line is lost (its topics carry nothing until its anchor is back).
type event struct {
	anchor, confirmed, lost, restored bool
	msg                               Message
}

// byShard returns the channels of topics, shard by shard (n shards).
func (r *Redis) byShard(topics []string, n int) [][]string {
	out := make([][]string, n)
	for _, t := range topics {
		i := r.shardOf(t)
		out[i] = append(out[i], r.channel(t))
	}
	return out
}

// line is one pub/sub connection of a subscription: the only one on one
// node or a Sentinel master; one per shard on a Cluster.
type line struct {
	// anchor is a channel nobody publishes on that the line always holds:
	// its confirmation tells that the connection is (re)established even
	// when it has no topic.
	anchor string
	tag    string // a Cluster shard's hash tag; "" when not sharded

	mu     sync.Mutex
	ps     *redis.PubSub
	closed bool
	// want (sharded) are the channels the line holds, to subscribe on a
	// fresh connection when their slot moved.
	want map[string]struct{}
	// ours (sharded) counts the SUNSUBSCRIBEs sent and not yet confirmed:
	// a confirmation beyond them is the server dropping the channels of a
	// slot that moved away.
	ours map[string]int
}

// open returns a new PubSub holding l's anchor (and, sharded, its
// channels: all of one slot, so one SSUBSCRIBE).
func (r *Redis) open(ctx context.Context, l *line) *redis.PubSub {
	if !r.sharded() {
		return r.client.Subscribe(ctx, l.anchor)
	}
	channels := append([]string{l.anchor}, slices.Collect(maps.Keys(l.want))...)
	return r.cluster.SSubscribe(ctx, channels...)
}

func (l *line) current() (*redis.PubSub, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ps, !l.closed
}

func (l *line) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	_ = l.ps.Close()
}

func (l *line) subscribe(ctx context.Context, channels []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.want == nil {
		_ = l.ps.Subscribe(ctx, channels...)
		return
	}
	for _, ch := range channels {
		l.want[ch] = struct{}{}
	}
	_ = l.ps.SSubscribe(ctx, channels...)
}

func (l *line) unsubscribe(ctx context.Context, channels []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.want == nil {
		_ = l.ps.Unsubscribe(ctx, channels...)
		return
	}
	for _, ch := range channels {
		delete(l.want, ch)
		l.ours[ch]++
	}
	_ = l.ps.SUnsubscribe(ctx, channels...)
}

// dropped tells whether a sharded unsubscription of channel came from the
// server (its slot moved to another node) rather than from us.
func (l *line) dropped(channel string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := l.ours[channel]; n > 0 {
		if n == 1 {
			delete(l.ours, channel)
		} else {
			l.ours[channel] = n - 1
		}
		return false
	}
	return true
}

// reconnected forgets the unsubscriptions that a lost connection will
// never confirm.
func (l *line) reconnected() {
	l.mu.Lock()
	defer l.mu.Unlock()
	clear(l.ours)
}

// relocate replaces a sharded line's connection by one to its slot's
// current owner, after the slot moved (the server dropped the channels or
// answered MOVED): go-redis would reconnect to the node it knows, and its
// reconnect only follows a broken connection. The client's slot map is
// reloaded first.
func (r *Redis) relocate(ctx context.Context, l *line) {
	r.cluster.ReloadState(ctx)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	_ = l.ps.Close()
	clear(l.ours)
	l.ps = r.open(ctx, l)
}

// receive reads l until ctx ends, handing its confirmations and messages
// to handle.
func (r *Redis) receive(ctx context.Context, l *line, handle func(event)) {
	kind := map[bool][2]string{false: {"subscribe", "unsubscribe"}, true: {"ssubscribe", "sunsubscribe"}}[r.sharded()]
	backoff := 50 * time.Millisecond
	healthy := true
	// markLost reports the line lost once, until its anchor is back.
	markLost := func() {
		if healthy {
			healthy = false
			handle(event{lost: true})
		}
	}
	lost := func(err error) bool {
		if healthy {
			r.log.Warn("broker: redis subscription lost; reconnecting", "err", err, "shard", l.tag)
			markLost()
		}
		if !sleepCtx(ctx, backoff) {
			return false
		}
		backoff = min(backoff*2, r.MaxBackoff)
		return true
	}
	for {
		ps, ok := l.current()
		if !ok {
			return
		}
		msg, err := ps.ReceiveTimeout(ctx, r.HealthInterval)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// Silence: make sure the connection is alive. A failed ping
				// marks it bad and the next receive reconnects.
				if perr := ps.Ping(ctx); perr != nil {
					r.log.Warn("broker: redis subscription ping failed", "err", perr)
				}
				continue
			}
			if !lost(err) {
				return
			}
			// A reply that is an error (MOVED, CLUSTERDOWN…) leaves the
			// connection up but the channels unsubscribed: only a new
			// connection to the slot's owner brings them back.
			var rerr redis.Error
			if r.sharded() && errors.As(err, &rerr) {
				r.relocate(ctx, l)
			}
			continue
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			switch {
			case m.Kind == kind[1] && r.sharded() && l.dropped(m.Channel):
				r.log.Warn("broker: redis dropped a shard's channels (slot moved); subscribing on its new node", "channel", m.Channel, "shard", l.tag)
				markLost()
				if !sleepCtx(ctx, backoff) {
					return
				}
				r.relocate(ctx, l)
			case m.Kind != kind[0]:
			case m.Channel == l.anchor:
				restored := !healthy
				if restored {
					r.log.Info("broker: redis subscription restored", "shard", l.tag)
				}
				healthy = true
				backoff = 50 * time.Millisecond
				l.reconnected()
				handle(event{anchor: true, restored: restored})
			default:
				if topic, ok := r.topic(l, m.Channel); ok {
					handle(event{confirmed: true, msg: Message{Topic: topic}})
				}
			}
		case *redis.Message:
			if topic, ok := r.topic(l, m.Channel); ok {
				handle(event{msg: Message{Topic: topic, Payload: []byte(m.Payload)}})
			}
		case *redis.Pong:
		}
	}
}

func (r *Redis) topic(l *line, channel string) (string, bool) {
	if !r.sharded() {
		return strings.CutPrefix(channel, r.prefix+":")
	}
	return strings.CutPrefix(channel, "{"+l.tag+"}:")
}

// shardTags returns n hash tags derived from prefix, the i-th one's slot
// in the i-th n-th of the slot space: the masters own contiguous ranges of
// slots, so the shards spread over them as evenly as the slots do. The
// same prefix and n give the same tags on every instance.
func shardTags(prefix string, n int) []string {
	tags := make([]string, n)
	left := n
	for k := 0; left > 0; k++ {
		tag := prefix + ":" + strconv.Itoa(k)
		i := int(clusterSlot(tag)) * n / clusterSlots
		if tags[i] == "" {
			tags[i] = tag
			left--
		}
	}
	return tags
}

// clusterSlots is the number of hash slots of a Redis Cluster.
const clusterSlots = 16384

// clusterSlot is the hash slot of a key without braces (Redis Cluster
// specification: CRC16-CCITT/XMODEM modulo 16384).
func clusterSlot(key string) uint16 {
	var crc uint16
	for i := 0; i < len(key); i++ {
		crc ^= uint16(key[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc % clusterSlots
}

// Ping reports whether Redis answers.
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("broker: redis ping: %w", err)
	}
	return nil
}

// Close does nothing: the client belongs to the caller, and subscriptions
// end with their context.
func (r *Redis) Close() error { return nil }

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// RedisLogger routes go-redis's own messages (dial failures, pool and
// pub/sub trouble) into the structured log at WARN level, instead of the
// plain-text lines the library prints to stderr by default. go-redis keeps
// one logger per process: main installs it once with redis.SetLogger.
type RedisLogger struct {
	Log *slog.Logger
}

// Printf implements go-redis's logging interface.
func (l RedisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.Log.WarnContext(ctx, "redis: "+fmt.Sprintf(format, v...), "component", "go-redis")
}

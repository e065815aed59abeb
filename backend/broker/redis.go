package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a broker over Redis pub/sub, one channel per topic (the prefix,
// a colon, the topic), through any go-redis client: one node, Sentinel or
// Cluster (classic PUBLISH/SUBSCRIBE works on all three; in a cluster every
// node forwards every publish to the others, which sharded pub/sub, SPUBLISH
// and SSUBSCRIBE, would avoid: not used yet). Redis pub/sub is at-most-once:
// a subscriber that is disconnected misses what is published meanwhile,
// which is why every (re)subscription of a topic is reported to the
// consumer.
type Redis struct {
	client redis.UniversalClient
	prefix string
	log    *slog.Logger

	// HealthInterval is how long the subscription may stay silent before it
	// pings Redis to find out whether the connection is still alive.
	HealthInterval time.Duration
	// MaxBackoff caps the wait between reconnect attempts.
	MaxBackoff time.Duration
}

// NewRedis returns a broker whose channels are named prefix:topic.
func NewRedis(client redis.UniversalClient, prefix string, log *slog.Logger) *Redis {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Redis{client: client, prefix: prefix, log: log, HealthInterval: 15 * time.Second, MaxBackoff: 2 * time.Second}
}

func (r *Redis) channel(topic string) string { return r.prefix + ":" + topic }

// anchor is a channel nobody publishes on that every subscription holds:
// its confirmation tells that the subscription is (re)established even
// when it has no topic.
func (r *Redis) anchor() string { return r.prefix + "!" }

// Publish sends the messages, in order, to the subscribers of their topics
// on every instance: one round trip however many there are (a pipeline, in
// chunks of pipelineMax). The caller batches (package realtime publishes
// from one goroutine, taking whatever queued meanwhile).
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

func (r *Redis) publishChunk(ctx context.Context, msgs []Message) error {
	if len(msgs) == 1 {
		if err := r.client.Publish(ctx, r.channel(msgs[0].Topic), msgs[0].Payload).Err(); err != nil {
			return fmt.Errorf("broker: redis publish: %w", err)
		}
		return nil
	}
	pipe := r.client.Pipeline()
	for _, m := range msgs {
		pipe.Publish(ctx, r.channel(m.Topic), m.Payload)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("broker: redis publish (%d pipelined): %w", len(msgs), err)
	}
	return nil
}

// Subscribe holds ONE subscription until ctx ends, following the topics of
// topics (one SUBSCRIBE and one UNSUBSCRIBE per batch of changes) and
// delivering every message of them in the order Redis sends them. It
// reconnects on its own (with backoff; go-redis subscribes every channel
// again) and calls connected with each topic whose subscription Redis
// confirms, before the messages received on it, and with no topic when the
// subscription itself is (re)established. connected and deliver are called
// from one goroutine.
func (r *Redis) Subscribe(ctx context.Context, topics *Topics, deliver func(Message), connected func([]string)) error {
	ps := r.client.Subscribe(ctx, r.anchor())
	// Receive does not watch ctx while it waits on the socket; closing the
	// PubSub is what unblocks it.
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	defer func() {
		if stop() {
			_ = ps.Close()
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
			// Errors need no handling here: go-redis records the channels
			// either way, and its reconnect subscribes them all.
			if len(removed) > 0 {
				_ = ps.Unsubscribe(ctx, r.channels(removed)...)
			}
			if len(added) > 0 {
				_ = ps.Subscribe(ctx, r.channels(added)...)
			}
		})
	})

	backoff := 50 * time.Millisecond
	healthy := true
	for {
		msg, err := ps.ReceiveTimeout(ctx, r.HealthInterval)
		if ctx.Err() != nil {
			return nil
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
			if healthy {
				r.log.Warn("broker: redis subscription lost; reconnecting", "err", err)
				healthy = false
				topics.setBroken(true)
			}
			if !sleepCtx(ctx, backoff) {
				return nil
			}
			backoff = min(backoff*2, r.MaxBackoff)
			continue
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind != "subscribe" {
				continue
			}
			if m.Channel == r.anchor() {
				if !healthy {
					r.log.Info("broker: redis subscription restored")
				}
				healthy = true
				backoff = 50 * time.Millisecond
				connected(nil)
				// After connected: what the subscriber dropped there is
				// not kept again from a read made while this was lost.
				topics.setBroken(false)
			} else if topic, ok := r.topic(m.Channel); ok {
				active := []string{topic}
				topics.activate(active)
				connected(active)
			}
		case *redis.Message:
			if topic, ok := r.topic(m.Channel); ok {
				deliver(Message{Topic: topic, Payload: []byte(m.Payload)})
			}
		case *redis.Pong:
		}
	}
}

func (r *Redis) channels(topics []string) []string {
	out := make([]string, len(topics))
	for i, t := range topics {
		out[i] = r.channel(t)
	}
	return out
}

func (r *Redis) topic(channel string) (string, bool) {
	return strings.CutPrefix(channel, r.prefix+":")
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

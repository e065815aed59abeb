package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a broker over one Redis pub/sub channel. Redis pub/sub is
// at-most-once: a subscriber that is disconnected misses what is published
// meanwhile, which is why every (re)subscription is reported to the consumer.
type Redis struct {
	client  *redis.Client
	channel string
	log     *slog.Logger

	// HealthInterval is how long the subscription may stay silent before it
	// pings Redis to find out whether the connection is still alive.
	HealthInterval time.Duration
	// MaxBackoff caps the wait between reconnect attempts.
	MaxBackoff time.Duration
}

// NewRedis returns a broker publishing on and subscribing to channel.
func NewRedis(client *redis.Client, channel string, log *slog.Logger) *Redis {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Redis{client: client, channel: channel, log: log, HealthInterval: 15 * time.Second, MaxBackoff: 2 * time.Second}
}

// Publish sends the payloads, in order, to every subscriber of the channel
// on every instance: one round trip however many there are (a pipeline, in
// chunks of pipelineMax). The caller batches (package realtime publishes
// from one goroutine, taking whatever queued meanwhile).
func (r *Redis) Publish(ctx context.Context, payloads ...[]byte) error {
	for len(payloads) > 0 {
		n := min(len(payloads), pipelineMax)
		if err := r.publishChunk(ctx, payloads[:n]); err != nil {
			return err
		}
		payloads = payloads[n:]
	}
	return nil
}

// pipelineMax bounds one pipeline's commands (and its buffers).
const pipelineMax = 512

func (r *Redis) publishChunk(ctx context.Context, payloads [][]byte) error {
	if len(payloads) == 1 {
		if err := r.client.Publish(ctx, r.channel, payloads[0]).Err(); err != nil {
			return fmt.Errorf("broker: redis publish: %w", err)
		}
		return nil
	}
	pipe := r.client.Pipeline()
	for _, p := range payloads {
		pipe.Publish(ctx, r.channel, p)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("broker: redis publish (%d pipelined): %w", len(payloads), err)
	}
	return nil
}

// Subscribe holds ONE subscription to the channel until ctx ends, delivering
// every payload to deliver in the order Redis sends them. It reconnects on
// its own (with backoff) and calls connected after every successful
// (re)subscription, before the payloads received on it.
func (r *Redis) Subscribe(ctx context.Context, deliver func([]byte), connected func()) error {
	ps := r.client.Subscribe(ctx, r.channel)
	// Receive does not watch ctx while it waits on the socket; closing the
	// PubSub is what unblocks it.
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	defer func() {
		if stop() {
			_ = ps.Close()
		}
	}()

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
			}
			if !sleepCtx(ctx, backoff) {
				return nil
			}
			backoff = min(backoff*2, r.MaxBackoff)
			continue
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" && m.Channel == r.channel {
				if !healthy {
					r.log.Info("broker: redis subscription restored")
				}
				healthy = true
				backoff = 50 * time.Millisecond
				connected()
			}
		case *redis.Message:
			deliver([]byte(m.Payload))
		case *redis.Pong:
		}
	}
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

// ClientName is the connection name of the Redis client (tests use it to
// find the subscription's connection on the server).
func (r *Redis) ClientName() string { return r.client.Options().ClientName }

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

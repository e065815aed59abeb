package broker

import (
	"fmt"
	"net/url"

	"github.com/redis/go-redis/v9"
)

// RedisConfig is the client a REDIS_URL describes: one node, a Sentinel
// master (master_name=…, the URL's host and every addr=… being sentinels)
// or a Cluster (addr=… naming further seed nodes). Each is a
// redis.UniversalClient: the broker (sharded pub/sub on a Cluster, see
// NewRedis) and presence work on all three. Exactly one of Node, Sentinel
// and Cluster is set.
type RedisConfig struct {
	Node     *redis.Options
	Sentinel *redis.FailoverOptions
	Cluster  *redis.ClusterOptions
}

// ParseRedisURL reads a REDIS_URL. Its errors may quote the URL (with its
// password): callers redact them.
func ParseRedisURL(raw string) (RedisConfig, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return RedisConfig{}, fmt.Errorf("REDIS_URL: %w", err)
	}
	q := u.Query()
	switch {
	case q.Has("master_name"):
		o, err := redis.ParseFailoverURL(raw)
		if err != nil {
			return RedisConfig{}, fmt.Errorf("REDIS_URL (sentinel): %w", err)
		}
		return RedisConfig{Sentinel: o}, nil
	case q.Has("addr"):
		o, err := redis.ParseClusterURL(raw)
		if err != nil {
			return RedisConfig{}, fmt.Errorf("REDIS_URL (cluster): %w", err)
		}
		return RedisConfig{Cluster: o}, nil
	}
	o, err := redis.ParseURL(raw)
	if err != nil {
		return RedisConfig{}, fmt.Errorf("REDIS_URL: %w", err)
	}
	return RedisConfig{Node: o}, nil
}

// Mode names the kind of setup: "node", "sentinel" or "cluster".
func (c RedisConfig) Mode() string {
	switch {
	case c.Sentinel != nil:
		return "sentinel"
	case c.Cluster != nil:
		return "cluster"
	}
	return "node"
}

// Client returns a new client of the setup; the caller closes it.
func (c RedisConfig) Client() redis.UniversalClient {
	switch {
	case c.Sentinel != nil:
		return redis.NewFailoverClient(c.Sentinel)
	case c.Cluster != nil:
		return redis.NewClusterClient(c.Cluster)
	}
	return redis.NewClient(c.Node)
}

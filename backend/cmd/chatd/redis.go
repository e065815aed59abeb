package main

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"
)

// redisSetup is the client REDIS_URL describes: one node, a Sentinel
// master (master_name=…, the URL's host and every addr=… being sentinels)
// or a Cluster (addr=… naming further seed nodes). Each is a
// redis.UniversalClient: the broker and presence work the same on all
// three.
type redisSetup struct {
	mode     string // "node", "sentinel" or "cluster"
	node     *redis.Options
	sentinel *redis.FailoverOptions
	cluster  *redis.ClusterOptions
}

func parseRedisURL(raw string) (redisSetup, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return redisSetup{}, fmt.Errorf("REDIS_URL: %w", err)
	}
	q := u.Query()
	switch {
	case q.Has("master_name"):
		o, err := redis.ParseFailoverURL(raw)
		if err != nil {
			return redisSetup{}, fmt.Errorf("REDIS_URL (sentinel): %w", err)
		}
		return redisSetup{mode: "sentinel", sentinel: o}, nil
	case q.Has("addr"):
		o, err := redis.ParseClusterURL(raw)
		if err != nil {
			return redisSetup{}, fmt.Errorf("REDIS_URL (cluster): %w", err)
		}
		return redisSetup{mode: "cluster", cluster: o}, nil
	}
	o, err := redis.ParseURL(raw)
	if err != nil {
		return redisSetup{}, fmt.Errorf("REDIS_URL: %w", err)
	}
	return redisSetup{mode: "node", node: o}, nil
}

func (s redisSetup) client() redis.UniversalClient {
	switch s.mode {
	case "sentinel":
		return redis.NewFailoverClient(s.sentinel)
	case "cluster":
		return redis.NewClusterClient(s.cluster)
	}
	return redis.NewClient(s.node)
}

// redactURLError is err's text without the password of raw, if it has one.
func redactURLError(err error, raw string) string {
	msg := err.Error()
	if u, perr := url.Parse(raw); perr == nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "…")
		}
	}
	return msg
}

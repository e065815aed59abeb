package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/auth"
	"github.com/chatapp/chat/broker"
)

// Config is every setting of the server, read once from the environment at
// start (API.md, Configuration).
type Config struct {
	Addr        string // CHAT_ADDR
	DataDir     string // CHAT_DATA_DIR
	DatabaseURL string // DATABASE_URL; empty: SQLite in DataDir
	RedisURL    string // REDIS_URL; empty: in-process broker
	// JWTSecret is JWT_SECRET; nil: generated once, kept in the database
	// (Postgres, shared by every instance) or in DataDir/jwt-secret (SQLite).
	JWTSecret []byte
	// JWTSecretPrevious is JWT_SECRET_PREVIOUS: still verifies the tokens
	// it signed during a rotation; nil: none.
	JWTSecretPrevious []byte
	JWTIssuer         string        // JWT_ISSUER
	JWTAudience       string        // JWT_AUDIENCE
	AccessTTL         time.Duration // ACCESS_TOKEN_TTL
	RefreshTTL        time.Duration // REFRESH_TOKEN_TTL
	// StaticDir is CHAT_STATIC_DIR, else ./frontend/dist when it exists;
	// empty: no SPA is served.
	StaticDir   string
	CORSOrigins []string   // CORS_ORIGINS
	LogLevel    slog.Level // LOG_LEVEL
	LogFormat   string     // LOG_FORMAT: "json" or "text"
	AuthRate    int        // CHAT_AUTH_RATE, per minute per client address; 0: off
	WSRate      int        // CHAT_WS_RATE, frames per second per connection
	// WSMaxPerUser is CHAT_WS_MAX_PER_USER: open sockets per user on this
	// instance; 0: no limit.
	WSMaxPerUser int
	// WSMaxPendingPerAddr is CHAT_WS_MAX_PENDING_PER_ADDR: sockets of one
	// client address not authenticated yet; 0: no limit.
	WSMaxPendingPerAddr int
	TrustedProxies      []string // CHAT_TRUSTED_PROXIES, addresses or CIDRs
	// PprofAddr is CHAT_PPROF_ADDR: a loopback host:port serving
	// net/http/pprof; empty: no profiling listener.
	PprofAddr string
	// MetricsAddr is CHAT_METRICS_ADDR: the host:port serving /metrics,
	// apart from the API; empty ("off"): no metrics listener.
	MetricsAddr   string
	ShutdownGrace time.Duration
	// MaxUpload is CHAT_MAX_UPLOAD: the largest attachment, in bytes.
	MaxUpload int64
	// PageCacheGroups is CHAT_PAGE_CACHE_GROUPS: the groups whose latest
	// history page is kept in memory (app.PageCache); 0: none.
	PageCacheGroups int
	// BlobURL is CHAT_BLOB_URL: where attachments' bytes are kept; empty:
	// the folder DataDir/blobs. blob.Open checks it at start.
	BlobURL string
}

// defaultStaticDir is where `make frontend` puts the built SPA.
const defaultStaticDir = "./frontend/dist"

// loadConfig reads the configuration through lookup (os.LookupEnv in main).
// Every bad value is reported, not only the first, each naming its variable.
func loadConfig(lookup func(string) (string, bool)) (Config, error) {
	get := func(name, def string) string {
		if v, ok := lookup(name); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		return def
	}
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}

	c := Config{
		Addr:          get("CHAT_ADDR", ":8080"),
		DataDir:       get("CHAT_DATA_DIR", "./data"),
		DatabaseURL:   get("DATABASE_URL", ""),
		RedisURL:      get("REDIS_URL", ""),
		JWTIssuer:     get("JWT_ISSUER", "chat"),
		JWTAudience:   get("JWT_AUDIENCE", "chat"),
		LogFormat:     strings.ToLower(get("LOG_FORMAT", "json")),
		ShutdownGrace: 15 * time.Second,
	}

	if !hostPort(c.Addr) {
		bad("CHAT_ADDR", "%q is not host:port with a valid port (e.g. :8080 or 127.0.0.1:8080)", c.Addr)
	}

	if c.DatabaseURL != "" {
		u, err := url.Parse(c.DatabaseURL)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
			// The value may hold a password: it is not repeated.
			bad("DATABASE_URL", "must be a postgres://user@host:port/db URL")
		}
	}
	if c.RedisURL != "" {
		u, err := url.Parse(c.RedisURL)
		if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
			bad("REDIS_URL", "must be a redis://host:port/db URL")
		} else if _, err := broker.ParseRedisURL(c.RedisURL); err != nil {
			// The value may hold a password: only the library's reason.
			bad("REDIS_URL", "is not understood: %s", redactURLError(err, c.RedisURL))
		}
	}

	c.JWTSecret = secret(lookup, bad, "JWT_SECRET")
	c.JWTSecretPrevious = secret(lookup, bad, "JWT_SECRET_PREVIOUS")
	if c.JWTSecretPrevious != nil && c.JWTSecret == nil {
		bad("JWT_SECRET_PREVIOUS", "is only used together with JWT_SECRET (the new secret of a rotation)")
	}

	c.AccessTTL = duration(get, bad, "ACCESS_TOKEN_TTL", auth.DefaultAccessTTL)
	c.RefreshTTL = duration(get, bad, "REFRESH_TOKEN_TTL", 30*24*time.Hour)
	if c.AccessTTL > 0 && c.RefreshTTL > 0 && c.RefreshTTL <= c.AccessTTL {
		bad("REFRESH_TOKEN_TTL", "must be longer than ACCESS_TOKEN_TTL (%s)", c.AccessTTL)
	}

	if v, ok := lookup("CHAT_STATIC_DIR"); ok && strings.TrimSpace(v) != "" {
		dir := strings.TrimSpace(v)
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			bad("CHAT_STATIC_DIR", "%q is not a directory", dir)
		} else {
			c.StaticDir = dir
		}
	} else if st, err := os.Stat(filepath.Join(defaultStaticDir, "index.html")); err == nil && st.Mode().IsRegular() {
		c.StaticDir = defaultStaticDir
	}

	for _, o := range splitList(get("CORS_ORIGINS", "")) {
		origin, err := auth.ParseOrigin(o)
		if err != nil {
			bad("CORS_ORIGINS", "%q is not an origin like https://chat.example.com", o)
			continue
		}
		c.CORSOrigins = append(c.CORSOrigins, origin)
	}

	switch lvl := strings.ToLower(get("LOG_LEVEL", "info")); lvl {
	case "debug":
		c.LogLevel = slog.LevelDebug
	case "info":
		c.LogLevel = slog.LevelInfo
	case "warn", "warning":
		c.LogLevel = slog.LevelWarn
	case "error":
		c.LogLevel = slog.LevelError
	default:
		bad("LOG_LEVEL", "%q is not one of debug, info, warn, error", lvl)
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		bad("LOG_FORMAT", "%q is not json or text", c.LogFormat)
	}

	c.MaxUpload = size(get, bad, "CHAT_MAX_UPLOAD", 25<<20)
	c.BlobURL = get("CHAT_BLOB_URL", "")

	c.AuthRate = nonNegative(get, bad, "CHAT_AUTH_RATE", 10)
	c.WSRate = nonNegative(get, bad, "CHAT_WS_RATE", 20)
	c.WSMaxPerUser = nonNegative(get, bad, "CHAT_WS_MAX_PER_USER", 20)
	c.WSMaxPendingPerAddr = nonNegative(get, bad, "CHAT_WS_MAX_PENDING_PER_ADDR", 50)
	c.PageCacheGroups = nonNegative(get, bad, "CHAT_PAGE_CACHE_GROUPS", app.DefaultPageCacheGroups)

	for _, p := range splitList(get("CHAT_TRUSTED_PROXIES", "")) {
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				bad("CHAT_TRUSTED_PROXIES", "%q is not an IP address or CIDR", p)
				continue
			}
		}
		c.TrustedProxies = append(c.TrustedProxies, p)
	}

	// Profiles expose memory contents and can cost CPU on demand: they are
	// served only on a loopback address, never next to the public API.
	if v := get("CHAT_PPROF_ADDR", ""); v != "" {
		if !loopbackAddr(v) {
			bad("CHAT_PPROF_ADDR", "%q is not a loopback host:port (e.g. 127.0.0.1:6060)", v)
		} else {
			c.PprofAddr = v
		}
	}

	// Metrics name routes, pools and internals: they are served on a
	// listener of their own (default loopback), never on the API's port.
	c.MetricsAddr = defaultMetricsAddr
	if v, ok := lookup("CHAT_METRICS_ADDR"); ok {
		switch v = strings.TrimSpace(v); {
		case v == "" || strings.EqualFold(v, "off"):
			c.MetricsAddr = ""
		case !hostPort(v):
			bad("CHAT_METRICS_ADDR", "%q is not host:port (e.g. 127.0.0.1:9464 or :9464), or off", v)
		default:
			c.MetricsAddr = v
		}
	}

	if len(errs) > 0 {
		return Config{}, fmt.Errorf("bad configuration: %w", errors.Join(errs...))
	}
	return c, nil
}

// defaultMetricsAddr is where /metrics is served unless configured.
const defaultMetricsAddr = "127.0.0.1:9464"

// secret reads a signing secret from name: nil when unset; refused (naming
// the variable, never repeating the value) when short, a placeholder, a
// published example or of too little entropy (auth.CheckSecret).
func secret(lookup func(string) (string, bool), bad func(string, string, ...any), name string) []byte {
	v, ok := lookup(name)
	if !ok || v == "" {
		return nil
	}
	if len(v) < auth.MinSecretLen {
		bad(name, "must be at least %d bytes, got %d", auth.MinSecretLen, len(v))
		return nil
	}
	if err := auth.CheckSecret([]byte(v)); err != nil {
		bad(name, "refused: %v", err)
		return nil
	}
	return []byte(v)
}

// hostPort accepts host:port with a port from 0 to 65535.
func hostPort(addr string) bool {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 0 && n <= 65535
}

// loopbackAddr accepts host:port where host is a loopback IP or localhost
// (an empty host would listen on every interface).
func loopbackAddr(addr string) bool {
	if !hostPort(addr) {
		return false
	}
	host, _, _ := net.SplitHostPort(addr)
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

func duration(get func(string, string) string, bad func(string, string, ...any), name string, def time.Duration) time.Duration {
	v := get(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		bad(name, "%q is not a positive duration like 15m or 720h", v)
		return 0
	}
	return d
}

func nonNegative(get func(string, string) string, bad func(string, string, ...any), name string, def int) int {
	v := get(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		bad(name, "%q is not a whole number of at least 0", v)
		return def
	}
	return n
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// size reads a size in bytes: a whole number with an optional unit, B, KB,
// MB, GB (powers of 1000) or KiB, MiB, GiB (powers of 1024), e.g. 25MiB.
func size(get func(string, string) string, bad func(string, string, ...any), name string, def int64) int64 {
	v := get(name, "")
	if v == "" {
		return def
	}
	num := strings.TrimRightFunc(v, func(r rune) bool { return r < '0' || r > '9' })
	unit := strings.ToLower(strings.TrimSpace(v[len(num):]))
	mult := map[string]int64{"": 1, "b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30}[unit]
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || mult == 0 || n <= 0 || n > (1<<40)/mult {
		bad(name, "%q is not a size like 25MiB, 10MB or 1048576 (bytes), at least 1 byte and at most 1 TiB", v)
		return def
	}
	return n * mult
}

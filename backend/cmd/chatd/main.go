// Command chatd is the chat server: the REST API, the WebSocket endpoint and
// the single-page app, over SQLite (default) or Postgres.

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/auth"
	"github.com/chatapp/chat/blob"
	"github.com/chatapp/chat/broker"
	"github.com/chatapp/chat/httpapi"
	"github.com/chatapp/chat/realtime"
	"github.com/chatapp/chat/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // from now on a second signal kills the process at once
	}()
	err := run(ctx, os.LookupEnv, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "chatd:", err)
		os.Exit(1)
	}
}

// run serves until ctx is cancelled, then shuts down gracefully.
func run(ctx context.Context, lookup func(string) (string, bool), logOut io.Writer) error {
	cfg, err := loadConfig(lookup)
	if err != nil {
		return err
	}
	log := newLogger(cfg, logOut)
	// Gin's debug mode prints every route and warnings to stdout; the access
	// log is httpapi's own.
	gin.SetMode(gin.ReleaseMode)
	if n, err := raiseOpenFileLimit(); err != nil {
		log.Warn("could not raise the open-file limit", "err", err)
	} else if n > 0 {
		log.Debug("open-file limit", "max", n)
	}

	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			log.Error("close store", "err", err)
		}
	}()
	secret, err := signingSecret(ctx, cfg, st, log)
	if err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	for name, db := range st.Pools() {
		reg.MustRegister(collectors.NewDBStatsCollector(db, name))
	}

	tokens, err := auth.NewTokens(auth.TokenConfig{
		Secret: secret, Previous: cfg.JWTSecretPrevious, Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience, TTL: cfg.AccessTTL,
	})
	if err != nil {
		return err
	}
	// Attachments' bytes: a folder in the data directory, or an
	// S3-compatible store; a URL that cannot work stops the server here.
	blobs, err := blob.Open(ctx, cfg.BlobURL, cfg.DataDir)
	if err != nil {
		return fmt.Errorf("CHAT_BLOB_URL: %w", err)
	}
	defer func() {
		if err := blobs.Close(); err != nil {
			log.Warn("close blob store", "err", err)
		}
	}()
	links := auth.NewLinks(secret, cfg.JWTSecretPrevious)
	present := app.Presenter{Links: links}

	hasher, err := auth.NewHasher(auth.DefaultArgon2Params(), nil)
	if err != nil {
		return err
	}

	ready := map[string]httpapi.Check{"database": st.Ping}

	// The broker carries events between instances (Redis) or inside this
	// one (in-process); the hub is the app's Notifier and Presence and
	// serves the WebSocket endpoint.
	br, pres, closeBroker, err := openBroker(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer closeBroker()
	// The sessions that ended (logouts, password changes) on any instance:
	// kept while a token of theirs can be valid, plus the clock skew
	// allowed between instances.
	sessions := app.NewSessions(cfg.AccessTTL + time.Minute)
	// The latest history pages of the groups the hub hears, kept exact by
	// what it hears (app/pages.go); the hub says which groups are live.
	var pages *app.PageCache
	var hubPages realtime.Pages // a nil *PageCache must stay a nil interface
	if cfg.PageCacheGroups > 0 {
		pages = app.NewPageCache(cfg.PageCacheGroups)
		hubPages = pages
	}
	hub, err := realtime.NewHub(realtime.Options{
		Pages:             hubPages,
		Broker:            br,
		Store:             app.HubStore{Store: st, Present: present},
		Presence:          pres,
		Sessions:          sessions,
		Log:               log,
		Metrics:           reg,
		AllowedOrigins:    cfg.CORSOrigins,
		FrameRate:         noLimit(cfg.WSRate),
		MaxPerUser:        noLimit(cfg.WSMaxPerUser),
		MaxPendingPerAddr: noLimit(cfg.WSMaxPendingPerAddr),
	})
	if err != nil {
		return fmt.Errorf("realtime hub: %w", err)
	}
	if cfg.RedisURL != "" {
		ready["broker"] = hub.Ping
	}

	svc := app.New(app.Deps{
		Store:     st,
		Tokens:    tokens,
		Hasher:    hasher,
		Notifier:  hub,
		Presence:  hub,
		Admission: hub,
		Logins:    auth.NewLoginGuard(auth.GuardConfig{}),
		Sessions:  sessions,
		Blobs:     blobs,
		Links:     links,
		Pages:     pages,
		Live:      hub,
		Log:       log,
	}, app.Config{RefreshTTL: cfg.RefreshTTL, MaxUpload: cfg.MaxUpload})

	handler := httpapi.New(httpapi.Options{
		Service:        svc,
		Log:            log,
		Metrics:        reg,
		StaticDir:      cfg.StaticDir,
		CORSOrigins:    cfg.CORSOrigins,
		AuthRate:       cfg.AuthRate,
		WS:             hub.Endpoint(svc),
		Ready:          ready,
		TrustedProxies: cfg.TrustedProxies,
	})

	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		// Bodies are at most 1 MiB; WebSocket connections lift both
		// deadlines once upgraded (httpapi).
		ReadTimeout:    30 * time.Second,
		WriteTimeout:   30 * time.Second,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	log.Info("listening", "addr", ln.Addr().String(), "database", st.Dialect(), "static_dir", cfg.StaticDir)

	hubCtx, stopHub := context.WithCancel(context.Background())
	hubDone := make(chan error, 1)
	go func() { hubDone <- hub.Run(hubCtx) }()
	watchDone := make(chan error, 1)
	go func() { watchDone <- svc.WatchSessions(hubCtx) }()
	// The sweeper deletes unsent uploads after a day and the files of
	// deleted messages; every instance runs one (they claim apart).
	sweepDone := make(chan struct{})
	go func() {
		defer close(sweepDone)
		svc.RunSweeper(hubCtx, sweepInterval)
	}()
	defer func() {
		// The hub closes every WebSocket with 1001 (going away) so clients
		// reconnect to another instance and resume; then the store closes.
		stopHub()
		if err := <-hubDone; err != nil {
			log.Warn("realtime hub stopped", "err", err)
		}
		if err := <-watchDone; err != nil {
			log.Warn("watching ended sessions stopped", "err", err)
		}
		<-sweepDone
	}()

	if cfg.PprofAddr != "" {
		stopPprof, err := startAside(ctx, "pprof", cfg.PprofAddr, pprofMux(), pprofWriteTimeout, log)
		if err != nil {
			_ = ln.Close()
			return err
		}
		defer stopPprof()
	}
	if cfg.MetricsAddr != "" {
		metrics := http.NewServeMux()
		metrics.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
		stopMetrics, err := startAside(ctx, "metrics", cfg.MetricsAddr, metrics, 30*time.Second, log)
		if err != nil {
			_ = ln.Close()
			return err
		}
		defer stopMetrics()
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", cfg.ShutdownGrace)
	shCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
	defer cancel()
	// Shutdown stops accepting, then waits for requests in flight; hijacked
	// WebSocket connections are the hub's to close.
	if err := srv.Shutdown(shCtx); err != nil {
		log.Warn("graceful shutdown incomplete", "err", err)
		_ = srv.Close()
	}
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		log.Warn("server stopped", "err", err)
	}
	log.Info("stopped")
	return nil
}

// sweepInterval is how often the attachment sweeper runs.
const sweepInterval = 10 * time.Minute

// noLimit turns a configured 0 ("no limit", as for CHAT_AUTH_RATE) into
// the hub's negative.
func noLimit(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func openStore(ctx context.Context, cfg Config, log *slog.Logger) (*store.Store, error) {
	// Connecting and migrating must not hang the start-up forever.
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if cfg.DatabaseURL != "" {
		st, err := store.OpenPostgres(ctx, cfg.DatabaseURL, log)
		if err != nil {
			return nil, fmt.Errorf("open postgres database: %w", err)
		}
		return st, nil
	}
	path := filepath.Join(cfg.DataDir, "chat.db")
	st, err := store.OpenSQLite(ctx, path, log)
	if err != nil {
		return nil, fmt.Errorf("open sqlite database %s: %w", path, err)
	}
	return st, nil
}

// signingSecret is JWT_SECRET when set. Otherwise it is generated once and
// kept where every instance finds it: in the database on Postgres (so that
// replicas accept each other's tokens), in the data folder on SQLite (one
// instance per file).
func signingSecret(ctx context.Context, cfg Config, st *store.Store, log *slog.Logger) ([]byte, error) {
	if cfg.JWTSecret != nil {
		return cfg.JWTSecret, nil
	}
	if cfg.DatabaseURL != "" {
		secret, err := st.SigningKey(ctx)
		if err != nil {
			return nil, fmt.Errorf("JWT signing key: %w", err)
		}
		log.Info("using the JWT signing key kept in the database; set JWT_SECRET to choose one")
		return secret, nil
	}
	return loadOrCreateSecret(filepath.Join(cfg.DataDir, "jwt-secret"), log)
}

// loadOrCreateSecret reads the generated JWT secret, making it on first
// start. The secret is written to a temporary file and then linked into
// place, which fails if the name exists: two instances starting at once on
// one data directory agree on one complete secret.
func loadOrCreateSecret(path string, log *slog.Logger) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		secret := []byte(strings.TrimSpace(string(b)))
		if len(secret) < auth.MinSecretLen {
			return nil, fmt.Errorf("%s holds fewer than %d bytes; delete it to generate a new secret (this logs everyone out)", path, auth.MinSecretLen)
		}
		return secret, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read JWT secret: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("generate JWT secret: %w", err)
	}
	secret := []byte(hex.EncodeToString(raw))                      // 64 bytes of text
	tmp, err := os.CreateTemp(filepath.Dir(path), ".jwt-secret-*") // mode 0600
	if err != nil {
		return nil, fmt.Errorf("create JWT secret: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.Write(append(secret, '\n'))
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, fmt.Errorf("write JWT secret: %w", werr)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return loadOrCreateSecret(path, log) // another instance made it first
		}
		return nil, fmt.Errorf("store JWT secret: %w", err)
	}
	log.Info("generated a new JWT secret; set JWT_SECRET to share one between instances", "path", path)
	return secret, nil
}

// openBroker returns the Redis broker and presence when REDIS_URL is set,
// else the in-process ones, and a function that releases them.
func openBroker(ctx context.Context, cfg Config, log *slog.Logger) (realtime.Broker, realtime.Presence, func(), error) {
	if cfg.RedisURL == "" {
		return broker.NewMemory(), broker.NewMemoryPresence(), func() {}, nil
	}
	setup, err := broker.ParseRedisURL(cfg.RedisURL)
	if err != nil {
		return nil, nil, nil, err
	}
	// The client library logs through our structured log, not plain text
	// on stderr (its logger is per process).
	redis.SetLogger(broker.RedisLogger{Log: log})
	rc := setup.Client()
	release := func() {
		if err := rc.Close(); err != nil {
			log.Warn("close redis client", "err", err)
		}
	}
	// Redis being down at start is not fatal: the database is the truth,
	// /readyz reports the broker, and the subscription reconnects.
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := rc.Ping(pctx).Err(); err != nil {
		log.Warn("redis does not answer yet; will keep trying", "err", err)
	}
	// The braces are a Cluster hash tag: every presence key lives in one
	// slot, so its scripts, which touch a user's key and the index
	// together, run on one node.
	pres, err := broker.NewRedisPresence(rc, "{chat:presence}")
	if err != nil {
		release()
		return nil, nil, nil, fmt.Errorf("redis presence: %w", err)
	}
	// Channels chat:events:g:<group> and chat:events:u:<user>.
	return broker.NewRedis(rc, "chat:events", log), pres, release, nil
}

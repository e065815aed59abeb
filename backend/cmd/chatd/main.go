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

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/auth"
	"github.com/chatapp/chat/chat"
	"github.com/chatapp/chat/httpapi"
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

	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	secret := cfg.JWTSecret
	if secret == nil {
		secret, err = loadOrCreateSecret(filepath.Join(cfg.DataDir, "jwt-secret"), log)
		if err != nil {
			return err
		}
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

	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	for name, db := range st.Pools() {
		reg.MustRegister(collectors.NewDBStatsCollector(db, name))
	}

	tokens, err := auth.NewTokens(auth.TokenConfig{Secret: secret, Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience, TTL: cfg.AccessTTL})
	if err != nil {
		return err
	}
	hasher, err := auth.NewHasher(auth.DefaultArgon2Params(), nil)
	if err != nil {
		return err
	}

	ready := map[string]httpapi.Check{"database": st.Ping}

	// ==== realtime wiring (lead) ==========================================
	// The broker (REDIS_URL or in-process) and the realtime hub plug in
	// here: the hub is the app's Notifier and Presence, its WebSocket handler
	// goes to httpapi.Options.WS (with cfg.WSRate and cfg.CORSOrigins for
	// its origin check), the broker's ping joins ready["broker"], and the hub
	// is stopped before the store is closed. Until the hub
	// exists, events are dropped and nobody is reported online.
	var notifier app.Notifier = discardNotifier{}
	var presence app.Presence
	var ws http.Handler
	if cfg.RedisURL != "" {
		log.Warn("REDIS_URL is set but no broker is wired into this build yet")
	}
	// ======================================================================

	svc := app.New(app.Deps{
		Store:        st,
		Tokens:       tokens,
		Hasher:       hasher,
		Notifier:     notifier,
		Presence:     presence,
		LoginLimiter: auth.NewLimiter(loginPerUserPerMinute, loginPerUserPerMinute),
		Log:          log,
	}, app.Config{RefreshTTL: cfg.RefreshTTL})

	handler := httpapi.New(httpapi.Options{
		Service:        svc,
		Log:            log,
		Metrics:        reg,
		StaticDir:      cfg.StaticDir,
		CORSOrigins:    cfg.CORSOrigins,
		AuthRate:       cfg.AuthRate,
		WS:             ws,
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
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	log.Info("listening", "addr", ln.Addr().String(), "database", st.Dialect(), "static_dir", cfg.StaticDir)

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

// loginPerUserPerMinute bounds password guessing against one account from
// any number of addresses (API.md: the per-username login limit always
// applies).
const loginPerUserPerMinute = 10

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

// discardNotifier drops events until the realtime hub is wired in.
type discardNotifier struct{}

func (discardNotifier) Notify(context.Context, chat.Event) {}

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// pprofWriteTimeout leaves room for a minute of CPU profile or trace, which
// stream for their ?seconds= (pprof's default is 30 s).
const pprofWriteTimeout = 90 * time.Second

// pprofMux serves net/http/pprof (CHAT_PPROF_ADDR, loopback only) on a mux
// of its own, so that the profiling handlers never sit on the public router
// or http.DefaultServeMux.
func pprofMux() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// startAside serves h on addr with a listener and server of its own, apart
// from the API (profiles, metrics). The returned function shuts it down and
// waits for it.
func startAside(ctx context.Context, name, addr string, h http.Handler, writeTimeout time.Duration, log *slog.Logger) (stop func(), err error) {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: listen on %s: %w", name, addr, err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout:      writeTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Warn(name+" server stopped", "err", err)
		}
	}()
	log.Info(name+" listening", "addr", ln.Addr().String())
	return func() {
		// A profile in progress is cut short: shutting down must not wait
		// for the rest of its seconds, nor for a scrape.
		_ = srv.Close()
		<-done
	}, nil
}

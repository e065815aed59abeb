// Command chatload is the load generator of the benchmarks (BENCHMARKS.md,
// scripts/bench.sh). It speaks API.md exactly as the SPA does: it registers
// its own users, creates and joins groups over REST, authenticates WebSocket
// connections with the auth frame and waits for ready. It only ever talks to
// loopback addresses, and every run is bounded in connections and seconds.
//
//	chatload -scenario idle    -conns 10000
//	chatload -scenario fanout  -conns 1000 -rate 10
//	chatload -scenario write   -groups 1000 -members 5
//	chatload -scenario history -clients 200
//	chatload -scenario search -clients 20 -seed 10000
//
// For issue 13's comparison it also speaks the protocol of the peer,
// Centrifugo v6, in the fanout scenario alone (centrifugo.go):
//
//	chatload -protocol centrifugo -url http://127.0.0.1:8000 \
//	  -centrifugo-api-key KEY -centrifugo-secret SECRET -scenario fanout -conns 1000 -rate 10
//
// It prints a table and then one JSON line per scenario on standard output.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// Hard limits that no flag can lift: the machine is shared.
const (
	maxConns        = 20000
	maxDuration     = 300 * time.Second
	maxSetupTimeout = 600 * time.Second
	maxDrain        = 60 * time.Second
)

type config struct {
	URL          string
	Metrics      string
	Scenario     string
	Label        string
	Conns        int
	Users        int
	Groups       int
	Members      int
	Clients      int
	Senders      int
	Rate         float64
	Inflight     int
	Duration     time.Duration
	Settle       time.Duration
	Drain        time.Duration
	Setup        time.Duration
	BodySize     int
	Seed         int
	PageLimit    int
	PID          int
	SetupConc    int
	DialConc     int
	Password     string
	AccountsFile string
	NoReconnect  bool
	LiveSocket   bool // history: one member socket held open during the run
	Verbose      bool
	Render       string
	RenderPeer   string
	MD           string
	PeerSection  string
	Protocol     string
	PeerAPIKey   string
	PeerSecret   string
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("chatload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.URL, "url", "http://127.0.0.1:8080", "server base URL (loopback only)")
	fs.StringVar(&c.Metrics, "metrics", "http://127.0.0.1:9464/metrics", "server metrics URL, on its CHAT_METRICS_ADDR (loopback only)")
	fs.StringVar(&c.Scenario, "scenario", "", "idle | fanout | write | history | search")
	fs.StringVar(&c.Label, "label", "", "free text copied into the JSON line (e.g. postgres+redis)")
	fs.IntVar(&c.Conns, "conns", 100, "idle: connections; fanout: member connections")
	fs.IntVar(&c.Users, "users", 0, "distinct accounts to spread connections/clients over (0: one per connection)")
	fs.IntVar(&c.Groups, "groups", 10, "write: groups")
	fs.IntVar(&c.Members, "members", 5, "write: members (connections) per group")
	fs.IntVar(&c.Clients, "clients", 20, "history, search: concurrent REST clients")
	fs.IntVar(&c.Senders, "senders", 1, "fanout: members that send (centrifugo: HTTP API publishers)")
	fs.Float64Var(&c.Rate, "rate", 0, "fanout: messages per second over all senders (0: as fast as acks allow)")
	fs.IntVar(&c.Inflight, "inflight", 4, "fanout/write: unacknowledged sends allowed per connection (centrifugo: per publisher, each on a connection of its own)")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "measuring time (at most 300s)")
	fs.DurationVar(&c.Settle, "settle", 2*time.Second, "pause after connecting, before measuring (idle: before reading memory)")
	fs.DurationVar(&c.Drain, "drain", 10*time.Second, "after sending stops, how long to wait for the last acks and deliveries")
	fs.DurationVar(&c.Setup, "setup-timeout", 300*time.Second, "bound on creating users, groups and connections (at most 600s)")
	fs.IntVar(&c.BodySize, "body-size", 64, "message body size in bytes (20..4000)")
	fs.IntVar(&c.Seed, "seed", 1000, "history, search: messages stored in the group before reading")
	fs.IntVar(&c.PageLimit, "limit", 50, "history: page size (limit=); search: results per page (at most 100)")
	fs.IntVar(&c.PID, "pid", 0, "idle: server pid, to read VmRSS from /proc instead of /metrics; fanout, history, search: to report the server's CPU")
	fs.IntVar(&c.SetupConc, "setup-concurrency", 8, "concurrent REST calls while creating users and groups")
	fs.IntVar(&c.DialConc, "dial-concurrency", 64, "concurrent WebSocket handshakes")
	fs.StringVar(&c.Password, "password", "chatload-password", "password of the generated users")
	fs.StringVar(&c.AccountsFile, "accounts", "", "file of users kept between runs against the same database (refreshed, not re-registered)")
	fs.BoolVar(&c.LiveSocket, "live-socket", false, "history: keep one member's WebSocket open while reading, so that the server hears the group live (and may serve its latest page from memory)")
	fs.BoolVar(&c.NoReconnect, "no-reconnect", false, "do not redial and resume after an unexpected close")
	fs.BoolVar(&c.Verbose, "v", false, "debug logging")
	fs.StringVar(&c.Render, "render", "", "write BENCHMARKS.md (Markdown, to stdout) from this file of JSON lines, and exit")
	fs.StringVar(&c.RenderPeer, "render-peer", "", "write BENCHMARKS.md's section \"Against Centrifugo\" (to stdout, or into -md) from this file of JSON lines of make bench-peer, and exit")
	fs.StringVar(&c.MD, "md", "", "with -render-peer: the Markdown file whose section to replace (appended if it has none)")
	fs.StringVar(&c.PeerSection, "peer-section", "", "print the section \"Against Centrifugo\" of this Markdown file (nothing if none), and exit")
	fs.StringVar(&c.Protocol, "protocol", "chat", "chat (ours, API.md) | centrifugo (the peer, Centrifugo v6: fanout only)")
	// The peer's secrets may come from the environment, out of sight of ps
	// and of the argument lists that scripts record.
	fs.StringVar(&c.PeerAPIKey, "centrifugo-api-key", os.Getenv("CHATLOAD_CENTRIFUGO_API_KEY"), "centrifugo: its http_api.key, for POST /api/publish (default $CHATLOAD_CENTRIFUGO_API_KEY)")
	fs.StringVar(&c.PeerSecret, "centrifugo-secret", os.Getenv("CHATLOAD_CENTRIFUGO_SECRET"), "centrifugo: its client.token.hmac_secret_key, to sign connection JWTs (default $CHATLOAD_CENTRIFUGO_SECRET)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if c.Render != "" || c.RenderPeer != "" || c.PeerSection != "" {
		return c, nil
	}
	err := c.validate()
	return c, err
}

func (c *config) validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	switch c.Scenario {
	case "idle", "fanout":
		if c.Conns < 1 || c.Conns > maxConns {
			bad("-conns must be 1..%d", maxConns)
		}
	case "write":
		if c.Groups < 1 || c.Members < 1 || c.Groups*c.Members > maxConns {
			bad("-groups × -members must be 1..%d connections", maxConns)
		}
	case "history", "search":
		if c.Clients < 1 || c.Clients > maxConns {
			bad("-clients must be 1..%d", maxConns)
		}
	default:
		bad("-scenario must be idle, fanout, write, history or search")
	}
	if c.Users < 0 || c.Users > maxConns {
		bad("-users must be 0..%d", maxConns)
	}
	if c.Scenario == "fanout" && (c.Senders < 1 || c.Senders > c.Conns) {
		bad("-senders must be 1..-conns")
	}
	if c.Rate < 0 {
		bad("-rate must not be negative")
	}
	if c.Inflight < 1 || c.Inflight > 1000 {
		bad("-inflight must be 1..1000")
	}
	if c.Duration <= 0 || c.Duration > maxDuration {
		bad("-duration must be in (0, %v]", maxDuration)
	}
	if c.Setup <= 0 || c.Setup > maxSetupTimeout {
		bad("-setup-timeout must be in (0, %v]", maxSetupTimeout)
	}
	if c.Settle < 0 || c.Settle > time.Minute {
		bad("-settle must be in [0, 1m]")
	}
	if c.Drain < 0 || c.Drain > maxDrain {
		bad("-drain must be in [0, %v]", maxDrain)
	}
	if c.BodySize < 20 || c.BodySize > 4000 {
		bad("-body-size must be 20..4000")
	}
	if c.Seed < 0 || c.Seed > 1_000_000 {
		bad("-seed must be 0..1000000")
	}
	if c.PageLimit < 1 || c.PageLimit > 200 {
		bad("-limit must be 1..200")
	}
	if c.SetupConc < 1 || c.SetupConc > 256 || c.DialConc < 1 || c.DialConc > 1024 {
		bad("-setup-concurrency must be 1..256 and -dial-concurrency 1..1024")
	}
	if len(c.Password) < 8 {
		bad("-password must have at least 8 characters")
	}
	switch c.Protocol {
	case "chat":
	case "centrifugo":
		if c.Scenario != "fanout" {
			bad("-protocol centrifugo runs the fanout scenario only")
		}
		if c.PeerAPIKey == "" || c.PeerSecret == "" {
			bad("-protocol centrifugo needs -centrifugo-api-key and -centrifugo-secret")
		}
	default:
		bad("-protocol must be chat or centrifugo")
	}
	return errors.Join(errs...)
}

// connections is how many sockets (WebSocket or REST) the scenario holds.
func (c *config) connections() int {
	switch c.Scenario {
	case "write":
		return c.Groups * c.Members
	case "history", "search":
		return c.Clients
	default:
		return c.Conns
	}
}

// accounts is how many users to register: one per connection unless -users
// caps it (argon2id makes sign-ups deliberately slow).
func (c *config) accounts() int {
	n := c.connections()
	if c.Users > 0 && c.Users < n {
		return c.Users
	}
	return n
}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "chatload:", err)
		}
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if cfg.Render != "" {
		return renderFile(cfg.Render, stdout, renderMarkdown)
	}
	if cfg.RenderPeer != "" {
		if cfg.MD != "" {
			return renderPeerInto(cfg.RenderPeer, cfg.MD)
		}
		return renderFile(cfg.RenderPeer, stdout, renderPeerSection)
	}
	if cfg.PeerSection != "" {
		doc, err := os.ReadFile(cfg.PeerSection)
		if err != nil && !os.IsNotExist(err) {
			return err
		}
		_, err = stdout.Write(peerSection(doc))
		return err
	}
	level := slog.LevelInfo
	if cfg.Verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	// The whole run stops by itself: setup, measuring, draining and closing.
	limit := cfg.Setup + cfg.Settle + cfg.Duration + cfg.Drain + 30*time.Second
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	base, err := checkTarget(ctx, net.DefaultResolver, cfg.URL)
	if err != nil {
		return err
	}
	if err := raiseFileLimit(uint64(cfg.connections()) + 256); err != nil {
		return err
	}
	metrics, err := checkTarget(ctx, net.DefaultResolver, cfg.Metrics)
	if err != nil {
		return fmt.Errorf("-metrics: %w", err)
	}
	root := strings.TrimRight(base.String(), "/")
	wsRoot := "ws" + strings.TrimPrefix(root, "http")
	hc := newHTTPClient(max(cfg.Clients, cfg.SetupConc))
	wsClient := *hc
	wsClient.Timeout = 0
	runID := newRunID()
	var peer *peerTarget
	if cfg.Protocol == "centrifugo" {
		peer = &peerTarget{
			wsURL:      wsRoot + "/connection/websocket",
			publishURL: root + "/api/publish",
			apiKey:     cfg.PeerAPIKey,
			secret:     []byte(cfg.PeerSecret),
			channel:    "fanout_" + runID,
			hc:         &wsClient,
			apiHC:      newHTTPClient(cfg.Senders),
		}
	}

	r := &runner{
		cfg:   cfg,
		log:   log,
		api:   &api{base: root + "/api/v1", metrics: metrics.String(), hc: hc},
		wsURL: wsRoot + "/api/v1/ws",
		wsHC:  &wsClient,
		start: time.Now(),
		runID: runID,
		peer:  peer,
	}
	rep, err := r.run(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", cfg.Scenario, err)
	}
	return rep.print(stdout)
}

// newRunID names this run's users, groups and client ids so that runs never
// collide, even against the same database.
func newRunID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func raiseFileLimit(need uint64) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("read RLIMIT_NOFILE: %w", err)
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return fmt.Errorf("raise RLIMIT_NOFILE: %w", err)
		}
	}
	if lim.Cur < need {
		return fmt.Errorf("open-file limit %d is below the %d this run needs (raise the hard limit: ulimit -Hn)", lim.Cur, need)
	}
	return nil
}

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
)

// A goal is one figure of BENCHMARKS.md with what it should be. from says
// where the goal comes from (issue 6's targets or the API.md guarantees).
type goal struct {
	key, label string
	op         string // ">=", "<=", "==" or "" (reported, no goal)
	val        float64
	from       string
}

func goalsFor(run string, r map[string]any) []goal {
	zero := func(key, label string) goal { return goal{key, label, "==", 0, "API.md guarantee"} }
	switch run {
	case "startup":
		return []goal{{"ms", "process start → /readyz 200 (ms)", "<=", 1000, "issue 6"}}
	case "idle":
		return []goal{
			{"connections", "connections held", ">=", num(r, "connections"), ""},
			{"rss_per_conn_kb", "server RSS per connection (KiB)", "<=", 16, "issue 6"},
			{"go_inuse_per_conn_kb", "server Go heap+stacks per connection (KiB)", "<=", 16, "issue 6"},
			{"goroutines_per_conn", "server goroutines per connection", "", 0, ""},
			{"connects_per_s", "connections opened per second", "", 0, ""},
			{"connect_p99_ms", "connect → ready p99 (ms)", "", 0, ""},
			zero("disconnects", "connections lost while idle"),
		}
	case "fanout-rate":
		if num(r, "target_deliveries_per_s") >= 100000 {
			// issue 6: ≥ 100,000 deliveries/s with p99 ≤ 100 ms, offered
			// open-loop at that rate so that the latency is the server's,
			// not a queue of the generator's own making.
			return []goal{
				{"deliveries_per_s", "deliveries/s", ">=", 0.95 * num(r, "target_deliveries_per_s"), "issue 6 (95 % of the offered rate)"},
				{"msgs_per_s", "messages/s", "", 0, ""},
				{"latency_p50_ms", "send → receive p50 (ms)", "", 0, ""},
				{"latency_p90_ms", "send → receive p90 (ms)", "", 0, ""},
				{"latency_p99_ms", "send → receive p99 (ms)", "<=", 100, "issue 6 (at 100,000 deliveries/s)"},
				{"latency_max_ms", "send → receive max (ms)", "", 0, ""},
				zero("lost", "lost deliveries"), zero("duplicated", "duplicated deliveries"), zero("out_of_order", "out-of-order deliveries"),
				zero("error_frames", "error frames"), zero("disconnects", "connections closed by the server"),
			}
		}
		return []goal{
			{"deliveries_per_s", "deliveries/s", ">=", 0.95 * num(r, "target_deliveries_per_s"), "offered rate (95 %)"},
			{"msgs_per_s", "messages/s", ">=", 0.95 * num(r, "target_msgs_per_s"), "issue 6"},
			{"latency_p50_ms", "send → receive p50 (ms)", "<=", 5, "issue 6 (at 10,000 deliveries/s)"},
			{"latency_p90_ms", "send → receive p90 (ms)", "", 0, ""},
			{"latency_p99_ms", "send → receive p99 (ms)", "<=", 15, "issue 6 (at 10,000 deliveries/s)"},
			{"latency_max_ms", "send → receive max (ms)", "", 0, ""},
			zero("lost", "lost deliveries"), zero("duplicated", "duplicated deliveries"), zero("out_of_order", "out-of-order deliveries"),
			zero("error_frames", "error frames"), zero("disconnects", "connections closed by the server"),
		}
	case "fanout-max":
		return []goal{
			{"msgs_per_s", "messages/s", "", 0, ""},
			{"deliveries_per_s", "deliveries/s", ">=", 100000, "issue 6 (1,000 members)"},
			// Closed loop: senders × in-flight messages are always queued,
			// so latency ≈ that many × members ÷ throughput (Little's law);
			// the p99 target is checked at the offered 100,000/s instead.
			{"latency_p50_ms", "send → receive p50 (ms)", "", 0, ""},
			{"latency_p99_ms", "send → receive p99 (ms)", "", 0, ""},
			{"latency_max_ms", "send → receive max (ms)", "", 0, ""},
			zero("lost", "lost deliveries"), zero("duplicated", "duplicated deliveries"), zero("out_of_order", "out-of-order deliveries"),
			{"disconnects", "connections closed by the server (1013, then resumed)", "", 0, ""},
		}
	case "write":
		return []goal{
			{"acked_msgs_per_s", "acknowledged messages/s", ">=", writeTarget(r), "issue 6 (Postgres 20,000; SQLite 10,000)"},
			{"ack_p50_ms", "send → ack p50 (ms)", "", 0, ""},
			{"ack_p90_ms", "send → ack p90 (ms)", "", 0, ""},
			{"ack_p99_ms", "send → ack p99 (ms)", "", 0, ""},
			{"ack_max_ms", "send → ack max (ms)", "", 0, ""},
			{"delivery_p99_ms", "send → receive p99 (ms)", "", 0, ""},
			zero("lost", "lost deliveries"), zero("duplicated", "duplicated deliveries"), zero("out_of_order", "out-of-order deliveries"),
			zero("error_frames", "error frames"), zero("disconnects", "connections closed by the server"),
		}
	case "history":
		return []goal{
			{"requests_per_s", "requests/s", ">=", 10000, "issue 6 (200 clients)"},
			{"latency_p50_ms", "latency p50 (ms)", "", 0, ""},
			{"latency_p90_ms", "latency p90 (ms)", "", 0, ""},
			{"latency_p99_ms", "latency p99 (ms)", "<=", 20, "issue 6"},
			{"latency_max_ms", "latency max (ms)", "", 0, ""},
			zero("errors", "failed requests"), zero("bad_pages", "wrong pages"),
		}
	case "search":
		return []goal{
			{"requests_per_s", "requests/s", "", 0, ""},
			{"latency_p50_ms", "latency p50 (ms)", "", 0, ""},
			{"latency_p99_ms", "latency p99 (ms)", "<=", 50, "issue 15"},
			{"latency_max_ms", "latency max (ms)", "", 0, ""},
			zero("errors", "failed requests"), zero("bad_pages", "wrong result pages"),
		}
	}
	return nil
}

// writeTarget is issue 6's write target: 20,000 acknowledged messages/s on
// Postgres, 10,000 on the embedded SQLite.
func writeTarget(r map[string]any) float64 {
	if strings.Contains(strings.ToLower(str(r, "label")), "sqlite") {
		return 10000
	}
	return 20000
}

func num(r map[string]any, key string) float64 {
	if v, ok := r[key].(float64); ok {
		return v
	}
	return math.NaN()
}

func str(r map[string]any, key string) string {
	if v, ok := r[key]; ok && v != nil {
		return fmt.Sprint(v)
	}
	return "?"
}

// runName tells the two fanout runs apart.
func runName(r map[string]any) string {
	s := str(r, "scenario")
	if s == "fanout" {
		if num(r, "target_msgs_per_s") > 0 {
			return "fanout-rate"
		}
		return "fanout-max"
	}
	return s
}

func title(run string, r map[string]any) string {
	switch run {
	case "startup":
		return "Start-up (" + str(r, "phase") + ")"
	case "idle":
		return fmt.Sprintf("idle: %s connections (%s users)", fmtNum(num(r, "connections")), fmtNum(num(r, "users")))
	case "fanout-rate":
		return fmt.Sprintf("fanout: %s members, %s deliveries/s offered", fmtNum(num(r, "members")), fmtNum(num(r, "target_deliveries_per_s")))
	case "fanout-max":
		return fmt.Sprintf("fanout: %s members, %s sender(s) at max rate, %s in flight each", fmtNum(num(r, "members")), fmtNum(num(r, "senders")), fmtNum(num(r, "inflight_per_conn")))
	case "write":
		return fmt.Sprintf("write: %s groups × %s members, %s in flight per connection", fmtNum(num(r, "groups")), fmtNum(num(r, "members_per_group")), fmtNum(num(r, "inflight_per_conn")))
	case "history":
		title := fmt.Sprintf("history: %s clients, limit=%s, %s messages stored", fmtNum(num(r, "clients")), fmtNum(num(r, "page_limit")), fmtNum(num(r, "seeded")))
		if live, _ := r["live_socket"].(bool); live {
			title += ", a member connected (the page from memory)"
		}
		return title
	case "search":
		return fmt.Sprintf("search: %s clients, limit=%s, %s messages stored", fmtNum(num(r, "clients")), fmtNum(num(r, "page_limit")), fmtNum(num(r, "seeded")))
	}
	return run
}

func fmtNum(f float64) string {
	switch {
	case math.IsNaN(f):
		return "–"
	case f == math.Trunc(f) && math.Abs(f) < 1e15:
		s := fmt.Sprintf("%d", int64(f))
		// thousands separators make 10000 and 1000 easy to tell apart
		neg := strings.HasPrefix(s, "-")
		s = strings.TrimPrefix(s, "-")
		for i := len(s) - 3; i > 0; i -= 3 {
			s = s[:i] + "," + s[i:]
		}
		if neg {
			s = "-" + s
		}
		return s
	case math.Abs(f) >= 100:
		return fmtNum(math.Round(f))
	default:
		return fmt.Sprintf("%.2f", f)
	}
}

func verdict(g goal, v float64) string {
	if math.IsNaN(v) {
		return "not measured"
	}
	var ok bool
	switch g.op {
	case ">=":
		ok = v >= g.val
	case "<=":
		ok = v <= g.val
	case "==":
		ok = v == g.val
	default:
		return ""
	}
	if ok {
		return "met"
	}
	return "**missed**"
}

// readResults reads the JSON lines of one bench run: a "meta" line
// (machine, versions, sizes) written by the script, and the others (the
// script's "startup" lines, the scenario lines chatload printed) in order.
// Lines that are not JSON objects are skipped.
func readResults(in io.Reader) (meta map[string]any, runs []map[string]any, err error) {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return nil, nil, fmt.Errorf("render: %w", err)
		}
		if r["scenario"] == "meta" {
			meta = r
			continue
		}
		runs = append(runs, r)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("render: %w", err)
	}
	if meta == nil {
		meta = map[string]any{}
	}
	return meta, runs, nil
}

// renderMarkdown writes BENCHMARKS.md from the results of `make bench`
// (readResults).
func renderMarkdown(w io.Writer, in io.Reader) error {
	meta, runs, err := readResults(in)
	if err != nil {
		return err
	}
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("# Benchmarks\n\n")
	p("Written by `make bench` (`scripts/bench.sh`) on %s; do not edit by hand, run it again.\n\n", str(meta, "date"))
	p("## Machine\n\n")
	p("| | |\n|---|---|\n")
	p("| CPU | %s |\n| cores | %s |\n| memory | %s GiB |\n| kernel | %s |\n", str(meta, "cpu"), str(meta, "cores"), str(meta, "mem_gib"), str(meta, "kernel"))
	p("| Go | %s |\n| PostgreSQL | %s |\n| Redis | %s |\n| commit | %s |\n\n", str(meta, "go"), str(meta, "postgres"), str(meta, "redis"), str(meta, "commit"))
	p("The load generator (`backend/cmd/chatload`), the server (`bin/chatd`), PostgreSQL and Redis all\n")
	p("run on this one machine and share its %s cores, so every figure is what the server achieves while\n", str(meta, "cores"))
	p("competing with its own load and database: a lower bound for a server with the machine to itself.\n")
	p("Connections are on the loopback interface, so network latency is absent from the figures.\n\n")
	p("## Results\n\n")
	if sz := str(meta, "sizes"); sz != "standard" {
		p("> **Sizes: %s.** Run `make bench` for the standard sizes.\n\n", sz)
	}
	p("Targets marked *issue 6* are the product's performance targets for this 2-core machine; *API.md\n")
	p("guarantee* ones come from the contract (nothing lost, duplicated or reordered).\n\n")
	for _, r := range runs {
		run := runName(r)
		if e, ok := r["error"]; ok {
			p("### %s — %s\n\n**The run failed** (`chatload -scenario %s %s`): `%v`\n\n",
				str(r, "scenario"), str(r, "label"), str(r, "scenario"), str(r, "args"), e)
			continue
		}
		p("### %s — %s\n\n", title(run, r), str(r, "label"))
		p("| figure | measured | target | |\n|---|---:|---|---|\n")
		for _, g := range goalsFor(run, r) {
			v := num(r, g.key)
			target := "–"
			if g.op != "" {
				target = strings.NewReplacer(">=", "≥ ", "<=", "≤ ", "==", "= ").Replace(g.op) + fmtNum(g.val)
				if g.from != "" {
					target += " (" + g.from + ")"
				}
			}
			p("| %s | %s | %s | %s |\n", g.label, fmtNum(v), target, verdict(g, v))
		}
		p("\n")
	}
	p("## Raw results\n\nOne JSON line per run, as `chatload` printed it (all latencies in ms):\n\n```json\n")
	for _, r := range runs {
		b, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("render: %w", err)
		}
		p("%s\n", b)
	}
	p("```\n\n")
	p("## How the figures are taken\n\n")
	p("- Every run registers its own users (POST /auth/register; the server runs with `CHAT_AUTH_RATE=0`),\n")
	p("  creates and joins public groups over REST, opens WebSocket connections with the `auth` frame and\n")
	p("  waits for `ready`, exactly as the SPA does. Users are kept in `bin/bench/accounts-*.jsonl` and\n")
	p("  refreshed (POST /auth/refresh) by later runs, because each sign-up costs an argon2id hash.\n")
	p("- The server runs with `CHAT_WS_RATE=100000` so that the per-connection frame limit (20/s by\n")
	p("  default) does not cap the write and fan-out runs, and with `CHAT_WS_MAX_PENDING_PER_ADDR=0`: every\n")
	p("  connection comes from one loopback address, many handshakes at once.\n")
	p("- idle: server resident memory (VmRSS of the chatd process) and Go heap+stacks (`/metrics`) before\n")
	p("  and after opening the connections, divided by their number. The server is restarted before this\n")
	p("  run so that memory freed after sign-ups does not hide the cost of the connections.\n")
	p("- fanout: every message body carries its send time; each receiver computes send → receive latency\n")
	p("  and checks `seq` (lost = not received once the group's `last_seq` is reached, duplicated,\n")
	p("  out-of-order). A connection closed by the server is redialled with its cursor (`resume`), as\n")
	p("  the SPA does; it is counted under disconnects.\n")
	p("- write: every connection sends with at most N unacknowledged sends; acknowledged messages/s\n")
	p("  counts acks inside the measuring window; ack latency is send → `ack`.\n")
	p("- history: each client loops over GET /groups/{id}/messages?limit=50 on a keep-alive connection;\n")
	p("  the first answer of every client is checked in full (50 items, consecutive seq). With\n")
	p("  -live-socket one member's WebSocket stays open, so the server hears the group and keeps its\n")
	p("  latest page in memory; without it every page is read from the database.\n")
	p("- search: each client loops over GET /search/messages?q=<word> with the words of the seeded bodies\n")
	p("  in turn; the first answer of every client is checked (results, each holding the word).\n")
	p("- Percentiles come from a log-linear histogram (within 0.8 %% of the exact sample).\n\n")
	p("## How to reproduce\n\n")
	p("```sh\n")
	p("# Postgres on 127.0.0.1:5432 (trust auth, user postgres) and Redis on 127.0.0.1:6379, as in .ci/run\n")
	p("make bench                 # full sizes, %s\n", str(meta, "duration"))
	p("BENCH_SMALL=1 make bench   # a quick smoke run with small sizes\n")
	p("# one scenario against a running server (loopback only):\n")
	p("bin/chatload -url http://127.0.0.1:8080 -scenario fanout -conns 1000 -rate 10 -duration 20s\n")
	p("bin/chatload -h             # every flag\n")
	p("```\n")
	return nil
}

// renderFile renders the results file at path with render.
func renderFile(path string, w io.Writer, render func(io.Writer, io.Reader) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	defer f.Close()
	return render(w, f)
}

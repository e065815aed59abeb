package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// The section of BENCHMARKS.md that `make bench-peer` writes sits between
// these lines; scripts/bench.sh carries it over when it rewrites the rest.
const (
	peerSectionBegin = "<!-- bench-peer:begin -->"
	peerSectionEnd   = "<!-- bench-peer:end -->"
)

// peerLabel is the label of the peer's runs (scripts/bench-peer.sh);
// ourServers are the labels of ours, in the order of the table.
const peerLabel = "centrifugo"

var ourServers = []struct{ label, name string }{
	{"postgres+redis", "ours, Postgres + Redis"},
	{"sqlite+memory", "ours, SQLite + in-process broker"},
}

// equalDeliveries is how far below the peer's deliveries/s ours may be and
// still count as as many: both are capped by the offered rate, and the
// window of each ends at its last delivery, so its latency tail alone
// moves the figure by a few tenths of a percent.
const equalDeliveries = 0.005 // of the offered rate

// offered is the deliveries/s a fan-out run offered: from its line, or, for
// a failed run, from the -rate and -conns of its arguments.
func offered(r map[string]any) float64 {
	if v := num(r, "target_deliveries_per_s"); !math.IsNaN(v) {
		return v
	}
	args := strings.Fields(str(r, "args"))
	flag := func(name string) float64 {
		for i := 0; i+1 < len(args); i++ {
			if args[i] == name {
				if v, err := strconv.ParseFloat(args[i+1], 64); err == nil {
					return v
				}
			}
		}
		return math.NaN()
	}
	return flag("-rate") * flag("-conns")
}

// peerVerdict checks issue 13's target for one of ours against the peer at
// the same offered rate, and API.md's guarantee.
func peerVerdict(ours, peer map[string]any, rate float64) string {
	od, pd := num(ours, "deliveries_per_s"), num(peer, "deliveries_per_s")
	op, pp := num(ours, "latency_p99_ms"), num(peer, "latency_p99_ms")
	if slices.ContainsFunc([]float64{od, pd, op, pp}, math.IsNaN) {
		return "not measured"
	}
	var missed []string
	if od < pd-equalDeliveries*rate {
		missed = append(missed, "fewer deliveries/s")
	}
	if op > pp {
		missed = append(missed, "higher p99")
	}
	if num(ours, "lost")+num(ours, "duplicated")+num(ours, "out_of_order") != 0 {
		missed = append(missed, "not every message once and in order")
	}
	if len(missed) == 0 {
		return "met"
	}
	return "**missed**: " + strings.Join(missed, ", ")
}

func ratio(a, b float64) string {
	if math.IsNaN(a) || math.IsNaN(b) || b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", a/b)
}

// renderPeerSection writes the "Against Centrifugo" section of
// BENCHMARKS.md, markers included, from the results of `make bench-peer`.
func renderPeerSection(w io.Writer, in io.Reader) error {
	meta, runs, err := readResults(in)
	if err != nil {
		return err
	}
	type key struct {
		rate  float64
		label string
	}
	byKey := map[key]map[string]any{}
	var rates []float64
	loadavg := map[string]string{}
	for _, r := range runs {
		switch str(r, "scenario") {
		case "fanout":
			k := key{offered(r), str(r, "label")}
			byKey[k] = r
			if !slices.Contains(rates, k.rate) {
				rates = append(rates, k.rate)
			}
		case "server":
			loadavg[str(r, "label")] = str(r, "loadavg")
		}
	}
	slices.Sort(rates)
	peerName := "Centrifugo " + str(meta, "centrifugo") + ", memory engine"

	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("%s\n## Against Centrifugo\n\n", peerSectionBegin)
	p("Written by `make bench-peer` (`scripts/bench-peer.sh`) on %s, commit %s, %s; `make bench`\n",
		str(meta, "date"), str(meta, "commit"), str(meta, "duration"))
	p("keeps this section as it is. Issue 13's comparison with the well-known real-time server: one load\n")
	p("generator (`chatload`) speaks each server's protocol and offers the same fan-out, %s members of one\n", fmtNum(num(meta, "members")))
	p("group, %s-byte bodies, at each rate; every body carries its send time, and each receiver computes\n", fmtNum(num(meta, "body_size")))
	p("send → delivery latency (p50 and p99 over all deliveries of the run).\n\n")
	p("- **%s** (`go install github.com/centrifugal/centrifugo/v6@%s`), persisting nothing (no history):\n", peerName, str(meta, "centrifugo"))
	p("  the members are subscribers of one channel, connected over its JSON protocol on\n")
	p("  `/connection/websocket` with an HS256 connection JWT each; the senders publish through its HTTP\n")
	p("  API (`POST /api/publish`, `X-API-Key`), where a publish is acknowledged by its answer. Publishes\n")
	p("  on separate connections have no order, so each sender publishes through one connection per\n")
	p("  message in flight, one request at a time on each, and the data carries that lane, a sequence\n")
	p("  number and the body: lost, duplicated and reordered deliveries are counted as for ours.\n")
	p("- **Ours**, started exactly as `make bench` starts it: on Postgres + Redis, persisting every message,\n")
	p("  and on the embedded default (SQLite + in-process broker). The senders are members sending `send`\n")
	p("  frames on their connection, acknowledged once stored.\n")
	p("- Both: %s sender(s) at 10,000 deliveries/s, %s above, each with up to %s messages unacknowledged;\n",
		str(meta, "senders_low"), str(meta, "senders_high"), fmtNum(num(meta, "inflight")))
	p("  each server runs alone, stopped before the next starts, with its runs one after the other.\n")
	p("- The machine (%s, %s cores) also runs the load generator and, for ours, Postgres and Redis, and\n", str(meta, "cpu"), str(meta, "cores"))
	p("  **other work shared it during this run**; load average (1 min) when each server started:")
	sep := " "
	for _, l := range append([]string{peerLabel}, ourLabels()...) {
		if v, ok := loadavg[l]; ok {
			p("%s%s %s", sep, l, v)
			sep = ", "
		}
	}
	p(".\n")
	p("- CPU, in cores over the sending window: the server process alone (not Postgres or Redis), the load\n")
	p("  generator, and the whole machine (%s cores): what the machine used beyond the first two went to\n", str(meta, "cores"))
	p("  Postgres and Redis for ours, and to the other work.\n")
	p("- Target (issue 13): at every offered rate ours delivers at least as many per second as the peer\n")
	p("  (within %.1f %% of the offered rate: both are capped by it), with p99 no higher than the peer's;\n", equalDeliveries*100)
	p("  and, as API.md guarantees, every message once and in order.\n\n")

	p("| offered deliveries/s | server | delivered/s | p50 (ms) | p99 (ms) | max (ms) | lost / dup. / reord. | CPU: server / load gen. / machine | delivered ours ÷ peer | p99 ours ÷ peer | target |\n")
	p("|---:|---|---:|---:|---:|---:|---|---:|---:|---:|---|\n")
	met := map[string]int{}
	for _, rate := range rates {
		peer := byKey[key{rate, peerLabel}]
		row := func(name string, r map[string]any, ratios string) {
			if r == nil {
				p("| %s | %s | not run | | | | | | | | |\n", fmtNum(rate), name)
				return
			}
			if e, ok := r["error"]; ok {
				p("| %s | %s | **failed**: `%v` | | | | | | | | |\n", fmtNum(rate), name, e)
				return
			}
			p("| %s | %s | %s | %s | %s | %s | %s / %s / %s | %s / %s / %s | %s |\n", fmtNum(rate), name,
				fmtNum(num(r, "deliveries_per_s")), fmtNum(num(r, "latency_p50_ms")), fmtNum(num(r, "latency_p99_ms")),
				fmtNum(num(r, "latency_max_ms")), fmtNum(num(r, "lost")), fmtNum(num(r, "duplicated")),
				fmtNum(num(r, "out_of_order")), fmtNum(num(r, "server_cpu_cores")), fmtNum(num(r, "loadgen_cpu_cores")),
				fmtNum(num(r, "machine_cpu_cores")), ratios)
		}
		row(peerName, peer, "– | – | –")
		for _, s := range ourServers {
			ours := byKey[key{rate, s.label}]
			v := peerVerdict(ours, peer, rate)
			if v == "met" {
				met[s.label]++
			}
			row(s.name, ours, ratio(num(ours, "deliveries_per_s"), num(peer, "deliveries_per_s"))+" | "+
				ratio(num(ours, "latency_p99_ms"), num(peer, "latency_p99_ms"))+" | "+v)
		}
	}
	p("\nTarget met at ")
	for i, s := range ourServers {
		if i > 0 {
			p(", ")
		}
		p("%d of %d rates for %s", met[s.label], len(rates), s.name)
	}
	p(".\n\nRaw results of `make bench-peer` (one JSON line per run, latencies in ms):\n\n```json\n")
	for _, r := range append([]map[string]any{meta}, runs...) {
		b, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("render: %w", err)
		}
		p("%s\n", b)
	}
	p("```\n%s\n", peerSectionEnd)
	return nil
}

func ourLabels() []string {
	out := make([]string, len(ourServers))
	for i, s := range ourServers {
		out[i] = s.label
	}
	return out
}

// peerSection returns the marked section of doc (BENCHMARKS.md), markers
// included, or nil if it has none.
func peerSection(doc []byte) []byte {
	begin := lineIndex(doc, peerSectionBegin)
	if begin < 0 {
		return nil
	}
	end := lineIndex(doc[begin:], peerSectionEnd)
	if end < 0 {
		return nil
	}
	return doc[begin : begin+end+len(peerSectionEnd)+1]
}

// lineIndex is the offset of the first line of doc that is exactly line.
func lineIndex(doc []byte, line string) int {
	for off := 0; off < len(doc); {
		next := bytes.IndexByte(doc[off:], '\n')
		if next < 0 {
			return -1
		}
		if string(doc[off:off+next]) == line {
			return off
		}
		off += next + 1
	}
	return -1
}

// spliceSection returns doc with its marked section replaced by section,
// or with section appended after a blank line if doc has none.
func spliceSection(doc, section []byte) []byte {
	old := peerSection(doc)
	if old == nil {
		out := bytes.TrimRight(doc, "\n")
		if len(out) > 0 {
			out = append(out, "\n\n"...)
		}
		return append(out, section...)
	}
	i := bytes.Index(doc, old)
	out := append([]byte{}, doc[:i]...)
	out = append(out, section...)
	return append(out, doc[i+len(old):]...)
}

// renderPeerInto renders the section from the results file and splices it
// into the Markdown file md, which it replaces whole (never half written).
func renderPeerInto(results, md string) error {
	var section bytes.Buffer
	if err := renderFile(results, &section, renderPeerSection); err != nil {
		return err
	}
	doc, err := os.ReadFile(md)
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("render: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(md), ".bench-peer-*.md")
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, there is nothing to remove
	if _, err := tmp.Write(spliceSection(doc, section.Bytes())); err != nil {
		tmp.Close()
		return fmt.Errorf("render: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("render: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("render: %w", err)
	}
	if err := os.Rename(tmp.Name(), md); err != nil {
		return fmt.Errorf("render: %w", err)
	}
	return nil
}

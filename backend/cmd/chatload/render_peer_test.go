package main

import (
	"bytes"
	"math"
	"os"
	"strings"
	"testing"
)

func TestRenderPeerSection(t *testing.T) {
	in := strings.Join([]string{
		`{"scenario":"meta","date":"2026-12-05T12:00Z","commit":"abc1234","duration":"15s per run","members":1000,"body_size":64,"inflight":4,"senders_low":1,"senders_high":4,"cpu":"Test CPU","cores":2,"centrifugo":"v6.9.1"}`,
		`{"scenario":"server","label":"centrifugo","loadavg":"0.52"}`,
		`{"scenario":"fanout","label":"centrifugo","target_deliveries_per_s":10000,"deliveries_per_s":9990,"latency_p50_ms":2,"latency_p99_ms":8,"latency_max_ms":12,"lost":0,"duplicated":0,"out_of_order":0,"server_cpu_cores":0.2,"loadgen_cpu_cores":0.1,"machine_cpu_cores":1.5}`,
		`{"scenario":"fanout","label":"centrifugo","target_deliveries_per_s":100000,"deliveries_per_s":99900,"latency_p50_ms":5,"latency_p99_ms":30,"latency_max_ms":60,"lost":0,"duplicated":0,"out_of_order":0,"server_cpu_cores":0.9}`,
		`{"scenario":"server","label":"postgres+redis","loadavg":"1.10"}`,
		// 9,960 is 30 below the peer: within 0.5 % of 10,000, so as many.
		`{"scenario":"fanout","label":"postgres+redis","target_deliveries_per_s":10000,"deliveries_per_s":9960,"latency_p50_ms":3,"latency_p99_ms":7.5,"latency_max_ms":9,"lost":0,"duplicated":0,"out_of_order":0,"server_cpu_cores":0.3}`,
		`{"scenario":"fanout","label":"postgres+redis","target_deliveries_per_s":100000,"deliveries_per_s":90000,"latency_p50_ms":20,"latency_p99_ms":60,"latency_max_ms":90,"lost":1,"duplicated":0,"out_of_order":0,"server_cpu_cores":1.1}`,
		`{"scenario":"fanout","label":"sqlite+memory","args":"-conns 1000 -rate 10 -senders 1","error":"fanout: connection 3: dial: refused"}`,
	}, "\n")
	var out bytes.Buffer
	if err := renderPeerSection(&out, strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	md := out.String()
	if !strings.HasPrefix(md, peerSectionBegin+"\n## Against Centrifugo\n") || !strings.HasSuffix(md, "```\n"+peerSectionEnd+"\n") {
		t.Errorf("the section is not between its markers:\n%s", md)
	}
	for _, want := range []string{
		"on 2026-12-05T12:00Z, commit abc1234, 15s per run",
		"1,000 members of one\ngroup, 64-byte bodies",
		"`go install github.com/centrifugal/centrifugo/v6@v6.9.1`",
		"when each server started: centrifugo 0.52, postgres+redis 1.10.",
		"| 10,000 | Centrifugo v6.9.1, memory engine | 9,990 | 2 | 8 | 12 | 0 / 0 / 0 | 0.20 / 0.10 / 1.50 | – | – | – |",
		"| 10,000 | ours, Postgres + Redis | 9,960 | 3 | 7.50 | 9 | 0 / 0 / 0 | 0.30 / – / – | 1.00 | 0.94 | met |",
		"| 10,000 | ours, SQLite + in-process broker | **failed**: `fanout: connection 3: dial: refused` |",
		"| 100,000 | ours, Postgres + Redis | 90,000 | 20 | 60 | 90 | 1 / 0 / 0 | 1.10 / – / – | 0.90 | 2.00 | **missed**: fewer deliveries/s, higher p99, not every message once and in order |",
		"| 100,000 | ours, SQLite + in-process broker | not run |",
		"Target met at 1 of 2 rates for ours, Postgres + Redis, 0 of 2 rates for ours, SQLite + in-process broker.",
		`"label":"centrifugo","latency_max_ms":60,`,
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the section lacks %q\n%s", want, md)
		}
	}
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "| ") && strings.Count(line, " |") != 11 {
			t.Errorf("row with %d cells, want 11: %s", strings.Count(line, " |"), line)
		}
	}
}

func TestOffered(t *testing.T) {
	tests := []struct {
		line map[string]any
		want float64
	}{
		{map[string]any{"target_deliveries_per_s": 50000.0}, 50000},
		{map[string]any{"args": "-conns 1000 -rate 200 -senders 4"}, 200000},
		{map[string]any{"args": "-senders 4"}, math.NaN()},
	}
	for _, tc := range tests {
		if got := offered(tc.line); got != tc.want && !(math.IsNaN(got) && math.IsNaN(tc.want)) {
			t.Errorf("offered(%v) = %v, want %v", tc.line, got, tc.want)
		}
	}
}

func TestSpliceSection(t *testing.T) {
	section := peerSectionBegin + "\n## Against Centrifugo\n\nnew\n" + peerSectionEnd + "\n"
	old := peerSectionBegin + "\n## Against Centrifugo\n\nold\n" + peerSectionEnd + "\n"
	tests := []struct{ name, doc, want string }{
		{"no file yet", "", section},
		{"appended", "# Benchmarks\n\ntext\n", "# Benchmarks\n\ntext\n\n" + section},
		{"replaced at the end", "# Benchmarks\n\n" + old, "# Benchmarks\n\n" + section},
		{"replaced in the middle", "# B\n\n" + old + "\n## Notes\n", "# B\n\n" + section + "\n## Notes\n"},
		// A marker quoted inside a line is not the section.
		{"marker not at a line start", "# B `" + peerSectionBegin + "\n` x\n", "# B `" + peerSectionBegin + "\n` x\n\n" + section},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(spliceSection([]byte(tc.doc), []byte(section))); got != tc.want {
				t.Fatalf("spliceSection =\n%q\nwant\n%q", got, tc.want)
			}
			if got := string(peerSection([]byte(tc.want))); got != section {
				t.Fatalf("peerSection of the result = %q, want the section", got)
			}
		})
	}
}

func TestRenderPeerIntoAndBack(t *testing.T) {
	dir := t.TempDir()
	results, md := dir+"/results.jsonl", dir+"/BENCHMARKS.md"
	line := `{"scenario":"fanout","label":"centrifugo","target_deliveries_per_s":10000,"deliveries_per_s":9990,"latency_p99_ms":8}`
	if err := os.WriteFile(results, []byte(line+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(md, []byte("# Benchmarks\n\nfrom make bench\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second run replaces the first one's section
		runScenarioOut(t, "-render-peer", results, "-md", md)
	}
	doc, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(doc), "# Benchmarks\n\nfrom make bench\n\n"+peerSectionBegin) ||
		strings.Count(string(doc), "## Against Centrifugo") != 1 || !strings.Contains(string(doc), "| 9,990 |") {
		t.Fatalf("BENCHMARKS.md after two renders:\n%s", doc)
	}
	// make bench rewrites the rest and carries the section over.
	if got := runScenarioOut(t, "-peer-section", md); got != string(peerSection(doc)) || got == "" {
		t.Fatalf("-peer-section printed %q", got)
	}
	if got := runScenarioOut(t, "-peer-section", dir+"/none.md"); got != "" {
		t.Fatalf("-peer-section of a missing file printed %q, want nothing", got)
	}
}

func runScenarioOut(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := run(args, &out, &errOut); err != nil {
		t.Fatalf("run %v: %v\n%s", args, err, errOut.String())
	}
	return out.String()
}

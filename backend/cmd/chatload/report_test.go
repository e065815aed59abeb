package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestReportJSONKeepsOrder(t *testing.T) {
	r := &report{scenario: "fanout"}
	r.add("members", 1000)
	r.add("label", "pg")
	r.add("lost", int64(0))
	var h histogram
	h.record(2 * time.Millisecond)
	r.addLatency("latency", &h)
	var out bytes.Buffer
	if err := r.print(&out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, `{"scenario":"fanout","members":1000,"label":"pg","lost":0,"latency_samples":1,`) {
		t.Fatalf("JSON line = %s", last)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(last), &m); err != nil {
		t.Fatalf("JSON line does not parse: %v", err)
	}
	if m["latency_max_ms"] != 2.0 {
		t.Fatalf("latency_max_ms = %v, want 2", m["latency_max_ms"])
	}
	if !strings.Contains(out.String(), "members") || len(lines) != 1+3+5+1 {
		t.Fatalf("table = %q", out.String())
	}
}

func TestParseVmRSS(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"Name:\tchatd\nVmPeak:\t  9 kB\nVmRSS:\t   12345 kB\nThreads: 4\n", 12345 << 10, true},
		{"Name:\tchatd\n", 0, false},
		{"VmRSS:\tlots kB\n", 0, false},
	}
	for _, tc := range tests {
		got, err := parseVmRSS([]byte(tc.in))
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseVmRSS(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestParseMetric(t *testing.T) {
	tests := map[string]int64{"1.2345e+07": 12345000, "42": 42, "7 1700000000000": 7, "NaN?": -1}
	for in, want := range tests {
		if got := parseMetric(in); got != want {
			t.Errorf("parseMetric(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestAccountsFileRoundTrip(t *testing.T) {
	path := t.TempDir() + "/accounts.jsonl"
	got, err := loadAccounts(path)
	if err != nil || len(got) != 0 {
		t.Fatalf("missing file: %v, %v; want nothing", got, err)
	}
	want := []storedAccount{{1, "a", "r1"}, {2, "b", "r2"}}
	if err := saveAccounts(path, want); err != nil {
		t.Fatal(err)
	}
	got, err = loadAccounts(path)
	if err != nil || len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("loadAccounts = %v, %v; want %v", got, err, want)
	}
}

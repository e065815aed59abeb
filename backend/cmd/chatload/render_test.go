package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRenderMarkdown(t *testing.T) {
	in := strings.Join([]string{
		`{"scenario":"meta","date":"2025-01-01","cpu":"Test CPU","cores":2,"mem_gib":24,"go":"go1.27.3","postgres":"17.2","redis":"7.4","duration":"20s"}`,
		`{"scenario":"startup","label":"postgres+redis","phase":"empty database","ms":120}`,
		`{"scenario":"idle","label":"postgres+redis","connections":10000,"users":1000,"rss_per_conn_kb":12.5,"go_inuse_per_conn_kb":20,"disconnects":0}`,
		`{"scenario":"fanout","label":"postgres+redis","members":1000,"target_msgs_per_s":10,"target_deliveries_per_s":10000,"deliveries_per_s":9990,"msgs_per_s":10,"latency_p99_ms":12,"lost":0,"duplicated":0,"out_of_order":0}`,
		`{"scenario":"fanout","label":"postgres+redis","members":1000,"target_msgs_per_s":100,"target_deliveries_per_s":100000,"deliveries_per_s":99000,"msgs_per_s":99,"latency_p99_ms":40,"lost":0,"duplicated":0,"out_of_order":0}`,
		`{"scenario":"fanout","label":"postgres+redis","members":1000,"senders":4,"inflight_per_conn":8,"target_msgs_per_s":0,"deliveries_per_s":150000,"latency_p99_ms":300}`,
		`{"scenario":"history","label":"postgres+redis","clients":200,"page_limit":50,"seeded":1000,"requests_per_s":4000}`,
		`{"scenario":"history","label":"postgres+redis","clients":200,"page_limit":50,"seeded":1000,"requests_per_s":9000,"live_socket":true}`,
		`not json lines are skipped`,
	}, "\n")
	var out bytes.Buffer
	if err := renderMarkdown(&out, strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	md := out.String()
	for _, want := range []string{
		"| cores | 2 |", "| PostgreSQL | 17.2 |",
		"share its 2 cores",
		"### idle: 10,000 connections (1,000 users) — postgres+redis",
		"| server RSS per connection (KiB) | 12.50 | ≤ 16 (issue 6) | met |",
		"| server Go heap+stacks per connection (KiB) | 20 | ≤ 16 (issue 6) | **missed** |",
		"### fanout: 1,000 members, 10,000 deliveries/s offered",
		"| deliveries/s | 9,990 | ≥ 9,500 (offered rate (95 %)) | met |",
		"| lost deliveries | 0 | = 0 (API.md guarantee) | met |",
		"| process start → /readyz 200 (ms) | 120 | ≤ 1,000 (issue 6) | met |",
		"| send → receive p50 (ms) | – | ≤ 5 (issue 6 (at 10,000 deliveries/s)) | not measured |",
		"### fanout: 1,000 members, 100,000 deliveries/s offered",
		"| send → receive p99 (ms) | 40 | ≤ 100 (issue 6 (at 100,000 deliveries/s)) | met |",
		"### fanout: 1,000 members, 4 sender(s) at max rate, 8 in flight each",
		"| deliveries/s | 150,000 | ≥ 100,000 (issue 6 (1,000 members)) | met |",
		"| send → receive p99 (ms) | 300 | – |  |",
		"### history: 200 clients, limit=50, 1,000 messages stored — postgres+redis",
		"### history: 200 clients, limit=50, 1,000 messages stored, a member connected (the page from memory) — postgres+redis",
		"## How to reproduce",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("BENCHMARKS.md lacks %q\n%s", want, md)
		}
	}
}

func TestFmtNum(t *testing.T) {
	tests := map[float64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -2500: "-2,500", 3.14159: "3.14", 1234.5: "1,235"}
	for in, want := range tests {
		if got := fmtNum(in); got != want {
			t.Errorf("fmtNum(%v) = %q, want %q", in, got, want)
		}
	}
}

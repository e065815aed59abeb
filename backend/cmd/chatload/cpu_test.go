package main

import (
	"os"
	"testing"
	"time"
)

func TestParseProcStatCPU(t *testing.T) {
	tests := []struct {
		name, in string
		want     time.Duration
		bad      bool
	}{
		{"plain", "1234 (chatd) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 100 0 0", 3 * time.Second, false},
		{"spaces and parens in the name", "77 (a b) (c)) R 1 77 77 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 5 0 0", 100 * time.Millisecond, false},
		{"no name", "1234 S 1", 0, true},
		{"cut short", "1234 (x) S 1 2 3", 0, true},
		{"not a number", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 u s 0", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseProcStatCPU([]byte(tc.in))
			if (err != nil) != tc.bad || got != tc.want {
				t.Fatalf("parseProcStatCPU = %v, %v; want %v, error %v", got, err, tc.want, tc.bad)
			}
		})
	}
}

func TestParseProcStatBusy(t *testing.T) {
	got, err := parseProcStatBusy([]byte("cpu  100 5 50 1000 20 3 2 1 0 0\ncpu0 50 2 25 500 10 1 1 0 0 0\n"))
	if want := 161 * clockTick; err != nil || got != want {
		t.Fatalf("parseProcStatBusy = %v, %v; want %v (all but idle and iowait)", got, err, want)
	}
	for _, bad := range []string{"", "intr 1 2 3\n", "cpu 1 2 3\n", "cpu 1 2 x 4 5 6 7 8\n"} {
		if _, err := parseProcStatBusy([]byte(bad)); err == nil {
			t.Errorf("parseProcStatBusy(%q) accepted", bad)
		}
	}
}

func TestCPUMeterReportsThisProcess(t *testing.T) {
	r := &runner{cfg: config{PID: os.Getpid()}}
	m := r.startCPU()
	for t0 := time.Now(); time.Since(t0) < 300*time.Millisecond; { // burn CPU to have something to see
	}
	var rep report
	m.stop(&rep, 300*time.Millisecond)
	got := map[string]float64{}
	for _, f := range rep.fields {
		if v, ok := f.val.(float64); ok {
			got[f.key] = v
		}
	}
	for _, k := range []string{"server_cpu_cores", "loadgen_cpu_cores", "machine_cpu_cores"} {
		if v, ok := got[k]; !ok || v <= 0.2 {
			t.Errorf("%s = %v (present %v), want > 0.2 after a busy loop: %v", k, v, ok, rep.fields)
		}
	}
}

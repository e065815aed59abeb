package main

import "testing"

func TestSeqTracker(t *testing.T) {
	tests := []struct {
		name                      string
		base                      int64
		seqs                      []int64
		final                     int64
		distinct, dups, ooo, lost int64
	}{
		{"in order", 0, []int64{1, 2, 3, 4}, 4, 4, 0, 0, 0},
		{"nothing yet", 5, nil, 5, 0, 0, 0, 0},
		{"all missed", 5, nil, 8, 0, 0, 0, 3},
		{"gap", 0, []int64{1, 2, 4}, 4, 3, 0, 0, 1},
		{"tail missing", 0, []int64{1, 2}, 5, 2, 0, 0, 3},
		{"duplicate", 0, []int64{1, 2, 2, 3}, 3, 3, 1, 0, 0},
		{"old duplicate", 0, []int64{1, 2, 3, 1}, 3, 3, 1, 0, 0},
		{"out of order", 0, []int64{1, 3, 2}, 3, 3, 0, 1, 0},
		{"at or below base", 10, []int64{9, 10, 11}, 11, 1, 2, 0, 0},
		{"large seqs grow the set", 0, []int64{1, 1000, 70000}, 70000, 3, 0, 0, 69997},
		{"late fill of a gap is counted once", 0, []int64{1, 5, 2, 3, 4, 4}, 5, 5, 1, 3, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newSeqTracker(tc.base)
			for _, s := range tc.seqs {
				tr.observe(s)
			}
			if tr.distinct != tc.distinct || tr.dups != tc.dups || tr.outOfOrder != tc.ooo {
				t.Fatalf("distinct/dups/ooo = %d/%d/%d, want %d/%d/%d",
					tr.distinct, tr.dups, tr.outOfOrder, tc.distinct, tc.dups, tc.ooo)
			}
			if got := tr.lost(tc.final); got != tc.lost {
				t.Fatalf("lost(%d) = %d, want %d", tc.final, got, tc.lost)
			}
		})
	}
}

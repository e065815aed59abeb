package main

// seqTracker checks what one connection received of one group against the
// contract: every seq above base arrives exactly once and in increasing
// order. It is owned by that connection's reader goroutine.
type seqTracker struct {
	base       int64    // the group's last seq before the run; not expected
	seen       []uint64 // bit i set: seq base+1+i arrived
	last       int64    // highest seq so far
	distinct   int64
	dups       int64 // a seq that had already arrived, or one at or below base
	outOfOrder int64 // arrived after a higher seq
}

func newSeqTracker(base int64) *seqTracker { return &seqTracker{base: base, last: base} }

func (t *seqTracker) observe(seq int64) {
	if seq <= t.base {
		t.dups++
		return
	}
	i := seq - t.base - 1
	w := int(i / 64)
	if w >= len(t.seen) {
		// Grow geometrically: the set only grows during a run.
		t.seen = append(t.seen, make([]uint64, w-len(t.seen)+1+len(t.seen)/2)...)
	}
	bit := uint64(1) << (i % 64)
	if t.seen[w]&bit != 0 {
		t.dups++
		return
	}
	t.seen[w] |= bit
	t.distinct++
	if seq < t.last {
		t.outOfOrder++
		return
	}
	t.last = seq
}

// lost counts the seqs up to final (the group's last seq once the run is
// over) that never arrived.
func (t *seqTracker) lost(final int64) int64 {
	return max(final-t.base-t.distinct, 0)
}

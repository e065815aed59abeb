package main

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketRoundTrip(t *testing.T) {
	// Every value must land in a bucket whose range holds it, buckets must
	// be ordered, and a bucket's width must stay within the promised error.
	values := []int64{0, 1, 127, 128, 255, 256, 257, 511, 512, 1000, 1 << 20, 123456789, 1<<40 + 17, math.MaxInt64}
	for _, v := range values {
		i := bucketOf(v)
		if i < 0 || i >= nBuckets {
			t.Fatalf("bucketOf(%d) = %d, out of range", v, i)
		}
		lo, hi := bucketRange(i)
		if v < lo || v > hi {
			t.Fatalf("value %d in bucket %d = [%d, %d]", v, i, lo, hi)
		}
		if float64(hi-lo) > float64(lo)/subCount+1 {
			t.Fatalf("bucket %d = [%d, %d] too wide", i, lo, hi)
		}
	}
	prevHi := int64(-1)
	for i := 0; i < bucketOf(math.MaxInt64); i++ {
		lo, hi := bucketRange(i)
		if lo != prevHi+1 {
			t.Fatalf("bucket %d starts at %d, previous ended at %d", i, lo, prevHi)
		}
		prevHi = hi
	}
}

func TestHistogramQuantiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name string
		gen  func(i int) time.Duration
		n    int
	}{
		{"uniform 1..10000us", func(i int) time.Duration { return time.Duration(i+1) * time.Microsecond }, 10000},
		{"constant", func(int) time.Duration { return 3 * time.Millisecond }, 1000},
		{"exponential", func(int) time.Duration { return time.Duration(rng.ExpFloat64() * float64(2*time.Millisecond)) }, 50000},
		{"long tail", func(i int) time.Duration {
			if i%100 == 0 {
				return time.Duration(rng.IntN(2000)) * time.Millisecond
			}
			return time.Duration(200+rng.IntN(800)) * time.Microsecond
		}, 20000},
		{"single sample", func(int) time.Duration { return 42 * time.Microsecond }, 1},
		{"tiny values", func(i int) time.Duration { return time.Duration(i % 50) }, 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h histogram
			samples := make([]time.Duration, tc.n)
			for i := range samples {
				samples[i] = tc.gen(i)
				h.record(samples[i])
			}
			slices.Sort(samples)
			if got := h.count(); got != uint64(tc.n) {
				t.Fatalf("count = %d, want %d", got, tc.n)
			}
			if got, want := h.maximum(), samples[len(samples)-1]; got != want {
				t.Fatalf("max = %v, want %v", got, want)
			}
			for _, q := range []float64{0.5, 0.9, 0.99, 0.999, 1} {
				rank := int(math.Ceil(q*float64(tc.n))) - 1
				want := samples[max(rank, 0)]
				got := h.quantile(q)
				if diff := math.Abs(float64(got - want)); diff > float64(want)/subCount+1 {
					t.Errorf("p%v = %v, want %v (±%.1f%%)", q*100, got, want, 100.0/subCount)
				}
			}
		})
	}
}

func TestHistogramEmpty(t *testing.T) {
	var h histogram
	if h.quantile(0.99) != 0 || h.maximum() != 0 || h.mean() != 0 || h.count() != 0 {
		t.Fatal("an empty histogram must report zeros")
	}
	h.record(-time.Second)
	if got := h.quantile(0.5); got != 0 {
		t.Fatalf("a negative sample must count as 0, got %v", got)
	}
}

func BenchmarkHistogramRecord(b *testing.B) {
	var h histogram
	b.RunParallel(func(pb *testing.PB) {
		d := time.Duration(1)
		for pb.Next() {
			h.record(d)
			d = (d*7 + 13) & 0xffffff
		}
	})
}

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"text/tabwriter"
	"time"
)

type field struct {
	key string
	val any
}

// report is one scenario's result: a table for people and one JSON line,
// {"scenario":"…",…} with the fields in the order they were added, for
// scripts/bench.sh.
type report struct {
	scenario string
	fields   []field
}

func (r *report) add(key string, val any) { r.fields = append(r.fields, field{key, val}) }

// addLatency adds p50/p90/p99/max (and the sample count) in milliseconds.
func (r *report) addLatency(prefix string, h *histogram) {
	r.add(prefix+"_samples", h.count())
	r.add(prefix+"_p50_ms", ms(h.quantile(0.50)))
	r.add(prefix+"_p90_ms", ms(h.quantile(0.90)))
	r.add(prefix+"_p99_ms", ms(h.quantile(0.99)))
	r.add(prefix+"_max_ms", ms(h.maximum()))
}

func ms(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 3) }

func perSecond(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return round(float64(n)/d.Seconds(), 1)
}

func round(f float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(f*p) / p
}

func (r *report) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"scenario":`)
	s, err := json.Marshal(r.scenario)
	if err != nil {
		return nil, err
	}
	b.Write(s)
	for _, f := range r.fields {
		k, err := json.Marshal(f.key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(f.val)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", f.key, err)
		}
		b.WriteByte(',')
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func (r *report) print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "scenario\t%s\n", r.scenario)
	for _, f := range r.fields {
		fmt.Fprintf(tw, "%s\t%v\n", f.key, f.val)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("print table: %w", err)
	}
	line, err := r.MarshalJSON()
	if err != nil {
		return fmt.Errorf("print json: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", line)
	return err
}

package realtime

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/chatapp/chat/broker"
)

// The hub's series are registered on the registry it is given and count
// connections, frames both ways and sequencer gap fills.
func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	f := newFixture(t, func(o *Options) { o.Metrics = reg })
	m := f.inst.hub.metrics

	a := connect(t, f.inst, f.alice)
	b := connect(t, f.inst, f.bob)
	eventually(t, "two connections counted", func() bool { return value(t, m.connections) == 2 })

	a.send(map[string]any{"type": "send", "group_id": f.gid, "body": "hi", "ref": "r"})
	a.until(t, "ack", "message")
	a.until(t, "message")
	b.until(t, "message")
	// ready ×2, the ack, the message ×2.
	eventually(t, "frames delivered", func() bool { return value(t, m.delivered) >= 5 })
	if got := value(t, m.received); got != 1 {
		t.Errorf("frames received = %v, want 1", got)
	}
	if got := value(t, m.overflowCloses); got != 0 {
		t.Errorf("overflow closes = %v", got)
	}

	closeClient(t, b)
	eventually(t, "one connection left", func() bool { return value(t, m.connections) == 1 })

	// A message event two ahead of what was delivered is a gap to fill.
	h := f.inst.hub
	h.mu.Lock()
	st := h.groups[f.gid]
	h.sequence(f.gid, st, st.delivered+2, 1, []byte(`{}`))
	h.mu.Unlock()
	if got := value(t, m.gapFills); got != 1 {
		t.Errorf("gap fills = %v, want 1", got)
	}

	names := map[string]bool{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	for _, n := range []string{"chat_ws_connections", "chat_ws_frames_delivered_total", "chat_ws_frames_received_total",
		"chat_ws_queue_overflow_closes_total", "chat_realtime_gap_fills_total"} {
		if !names[n] {
			t.Errorf("%s not registered", n)
		}
	}

	// One registry takes one hub.
	if _, err := NewHub(Options{Broker: broker.NewMemory(), Store: f.st, Metrics: reg}); err == nil {
		t.Error("a second hub registered the same series")
	}
}

// value reads a gauge or counter.
func value(t *testing.T, m prometheus.Metric) float64 {
	t.Helper()
	var out dto.Metric
	if err := m.Write(&out); err != nil {
		t.Fatal(err)
	}
	if g := out.GetGauge(); g != nil {
		return g.GetValue()
	}
	return out.GetCounter().GetValue()
}

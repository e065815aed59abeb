package realtime

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the hub's Prometheus series. They carry no labels (no ids):
// every update on the hot path is one atomic add.
type metrics struct {
	connections     prometheus.Gauge
	delivered       prometheus.Counter
	received        prometheus.Counter
	overflowCloses  prometheus.Counter
	gapFills        prometheus.Counter
	publishFailures prometheus.Counter
	publishDropped  prometheus.Counter
	// brokerDeliveries counts what the subscription hears: with topics,
	// only the groups and users this instance serves.
	brokerDeliveries prometheus.Counter
	sendsHeld        prometheus.Counter
	sendsRefused     prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		connections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chat_ws_connections",
			Help: "Authenticated WebSocket connections open on this instance.",
		}),
		delivered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chat_ws_frames_delivered_total",
			Help: "Frames (events, acks and answers) written to WebSocket connections.",
		}),
		received: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chat_ws_frames_received_total",
			Help: "Frames read from authenticated WebSocket connections.",
		}),
		overflowCloses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chat_ws_queue_overflow_closes_total",
			Help: "Connections closed with 1013 because their bounded queue overflowed or their oldest unsent event waited too long.",
		}),
		gapFills: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chat_realtime_gap_fills_total",
			Help: "Message events that arrived ahead of a gap, making the sequencer read the group from the database.",
		}),
		publishFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chat_realtime_publish_failures_total",
			Help: "Broker publishes that failed (the events stay queued and are retried).",
		}),
		publishDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chat_realtime_publish_dropped_total",
			Help: "Events dropped from the full queue of publishes waiting for the broker.",
		}),
		brokerDeliveries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chat_realtime_broker_messages_received_total",
			Help: "Messages the broker subscription delivered to this instance (its own publishes included).",
		}),
		sendsHeld: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chat_realtime_sends_held_total",
			Help: "Sends held because this instance was behind on its deliveries (overload).",
		}),
		sendsRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chat_realtime_sends_refused_total",
			Help: "Sends answered rate_limited because this instance stayed behind on its deliveries.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.connections, m.delivered, m.received, m.overflowCloses, m.gapFills, m.publishFailures, m.publishDropped, m.brokerDeliveries, m.sendsHeld, m.sendsRefused} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("realtime: metrics (one hub per registry): %w", err)
		}
	}
	return m, nil
}

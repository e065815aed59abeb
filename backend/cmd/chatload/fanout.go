package main

import (
	"context"
	"fmt"
	"iter"
	"sync/atomic"
	"time"
)

// deliveryStats is shared by every reader goroutine of a scenario; all of
// it is atomic.
type deliveryStats struct {
	lat      histogram    // send → receive
	ackLat   histogram    // send → ack
	lastRecv atomic.Int64 // ns since start of the latest delivery
	total    atomic.Int64 // deliveries of tracked groups
}

// onFrame is the frame handler of fanout and write: seq checks and
// latencies for the session's group, permits back on acks and errors.
func (d *deliveryStats) onFrame(s *session, f *frame) {
	switch f.kind {
	case kindMessage:
		if f.groupID != s.group {
			return
		}
		s.tracker.observe(f.seq)
		s.received.Store(s.tracker.distinct)
		d.total.Add(1)
		if f.sentAt >= 0 {
			d.lat.record(s.p.latency(f.sentAt))
		}
		d.lastRecv.Store(int64(time.Since(s.p.start)))
	case kindAck:
		s.acked.Add(1)
		if f.sentAt >= 0 {
			d.ackLat.record(s.p.latency(f.sentAt))
		}
		s.releasePermit()
	case kindError:
		s.releasePermit()
	}
}

// checkDelivery adds lost/duplicated/out-of-order counts over trackers,
// each with the last seq it should have reached; call it after closeAll
// (the trackers belong to the reader goroutines).
func checkDelivery(rep *report, trackers iter.Seq2[*seqTracker, int64]) {
	var lost, dups, ooo, distinct int64
	for t, final := range trackers {
		lost += t.lost(final)
		dups += t.dups
		ooo += t.outOfOrder
		distinct += t.distinct
	}
	rep.add("deliveries", distinct)
	rep.add("lost", lost)
	rep.add("duplicated", dups)
	rep.add("out_of_order", ooo)
}

// groupTrackers yields each session's tracker with its group's final seq.
func groupTrackers(ss []*session, final map[int64]int64) iter.Seq2[*seqTracker, int64] {
	return func(yield func(*seqTracker, int64) bool) {
		for _, s := range ss {
			if s != nil && !yield(s.tracker, final[s.group]) {
				return
			}
		}
	}
}

// fanoutRun is what a fan-out run counted while sending.
type fanoutRun struct {
	window                     time.Duration
	sendStart                  time.Duration // since the run's start
	sent, acked, ackedInWindow int64
}

// addFanout adds the figures that the fan-out runs against both servers
// report, under the same names, so that their lines compare field by field.
func (r *runner) addFanout(rep *report, d *deliveryStats, fr fanoutRun) {
	cfg := r.cfg
	rep.add("members", cfg.Conns)
	rep.add("senders", cfg.Senders)
	rep.add("inflight_per_conn", cfg.Inflight)
	rep.add("target_msgs_per_s", cfg.Rate)
	rep.add("target_deliveries_per_s", cfg.Rate*float64(cfg.Conns))
	rep.add("duration_s", round(fr.window.Seconds(), 2))
	rep.add("sent", fr.sent)
	rep.add("acked", fr.acked)
	rep.add("msgs_per_s", perSecond(fr.ackedInWindow, fr.window))
	// Deliveries are counted up to the last one, so the tail of the latency
	// lengthens the window instead of inflating the rate.
	deliverWindow := time.Duration(d.lastRecv.Load()) - fr.sendStart
	rep.add("deliveries_per_s", perSecond(d.total.Load(), deliverWindow))
	rep.addLatency("latency", &d.lat)
	rep.addLatency("ack", &d.ackLat)
}

// sendInterval is how often each sender sends to offer -rate in all; zero
// (as fast as acks allow) without a rate.
func (r *runner) sendInterval() time.Duration {
	if r.cfg.Rate <= 0 {
		return 0
	}
	return time.Duration(float64(r.cfg.Senders) / r.cfg.Rate * float64(time.Second))
}

func sessionSenders(ss []*session) []sender {
	out := make([]sender, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// fanout: one group, N member connections, senders at a target rate.
func (r *runner) fanout(ctx context.Context, rep *report) error {
	cfg := r.cfg
	accts, err := r.accounts(ctx, rep, cfg.accounts())
	if err != nil {
		return err
	}
	g, err := r.group(ctx, accts[0], accts, "fanout "+r.runID)
	if err != nil {
		return err
	}
	var d deliveryStats
	p := r.newPool(d.onFrame)
	defer p.closeAll(256)
	err = r.connect(ctx, rep, p, accts, cfg.Conns, func(s *session) {
		s.group = g.ID
		s.tracker = newSeqTracker(g.LastSeq)
		if s.idx < cfg.Senders {
			s.permits = make(chan struct{}, cfg.Inflight)
		}
	})
	if err != nil {
		return err
	}
	// Connecting N members sends presence events to the others (N × N
	// frames: a million for 1,000 members); let that wave pass before
	// measuring, however long it takes, and report how long it took.
	if err := r.settle(ctx, rep, &p.connStats); err != nil {
		return err
	}
	senders := sessionSenders(p.sessions[:cfg.Senders])
	cpu := r.startCPU()
	sendStart := time.Since(r.start)
	window, ackedInWindow := r.sendPhase(ctx, senders, r.sendInterval())
	cpu.stop(rep, window)
	deadline := time.Now().Add(cfg.Drain)
	r.waitUntil(ctx, deadline, inflightDrained(senders))
	final, err := r.api.group(ctx, accts[0].Token, g.ID)
	if err != nil {
		return fmt.Errorf("read group after the run: %w", err)
	}
	want := final.LastSeq - g.LastSeq
	r.waitUntil(ctx, deadline, func() bool {
		for _, s := range p.sessions {
			if s.received.Load() < want {
				return false
			}
		}
		return true
	})
	p.closeAll(256)

	var sent, acked int64
	for _, s := range p.sessions[:cfg.Senders] {
		sent += s.sent.Load()
		acked += s.acked.Load()
	}
	r.addFanout(rep, &d, fanoutRun{
		window: window, sendStart: sendStart,
		sent: sent, acked: acked, ackedInWindow: ackedInWindow,
	})
	rep.add("stored", want)
	checkDelivery(rep, groupTrackers(p.sessions, map[int64]int64{g.ID: final.LastSeq}))
	r.addConnErrors(rep, &p.connStats)
	return nil
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// peerPublisher is one sender of a run against the peer. Like one of ours
// it has up to -inflight unacknowledged messages, but a publish is
// acknowledged by its HTTP answer, and publishes on separate connections
// have no order: so it publishes through one lane per in-flight slot, each
// lane one request at a time on its own connection and numbering its own
// data, which its subscribers then check for order.
type peerPublisher struct {
	inflight // acked counts the publishes the peer accepted
	jobs     chan publishJob
	lanes    []*peerLane
	log      *slog.Logger
	wg       sync.WaitGroup
}

type publishJob struct {
	ctx      context.Context
	bodySize int
}

// peerLane publishes one message at a time; its goroutine owns seq and buf.
type peerLane struct {
	t      *peerTarget
	src    int // this lane's number in the data, over all publishers
	start  time.Time
	ackLat *histogram
	seq    int64
	buf    []byte
	sent   atomic.Int64
	acked  atomic.Int64
}

// newPeerPublisher starts the lanes for sources firstSrc, firstSrc+1, … of
// one sender; stop ends them.
func newPeerPublisher(t *peerTarget, log *slog.Logger, start time.Time, ackLat *histogram, firstSrc, lanes int) *peerPublisher {
	p := &peerPublisher{inflight: inflight{permits: make(chan struct{}, lanes)}, jobs: make(chan publishJob), log: log}
	for i := range lanes {
		l := &peerLane{t: t, src: firstSrc + i, start: start, ackLat: ackLat}
		p.lanes = append(p.lanes, l)
		p.wg.Go(func() {
			for j := range p.jobs {
				if err := l.publish(j.ctx, j.bodySize); err != nil {
					p.log.Debug("publish", "src", l.src, "err", err)
				} else {
					p.acked.Add(1)
				}
				p.releasePermit()
			}
		})
	}
	return p
}

// send hands one message to a free lane: the caller holds one of the
// permits, of which there are as many as lanes.
func (p *peerPublisher) send(ctx context.Context, bodySize int) error {
	select {
	case p.jobs <- publishJob{ctx, bodySize}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stop waits for the publishes in flight; no send may follow.
func (p *peerPublisher) stop() {
	close(p.jobs)
	p.wg.Wait()
}

// publish sends one body carrying the send time and waits for the answer,
// which is this publish's ack.
func (l *peerLane) publish(ctx context.Context, bodySize int) error {
	l.seq++
	sentAt := time.Since(l.start)
	b := append(l.buf[:0], `{"channel":`...)
	b = strconv.AppendQuote(b, l.t.channel)
	b = append(b, `,"data":{"src":`...)
	b = strconv.AppendInt(b, int64(l.src), 10)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, l.seq, 10)
	b = append(b, `,"body":"`...)
	b = sendBody(b, sentAt, bodySize)
	b = append(b, `"}}`...)
	l.buf = b
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.t.publishURL, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", l.t.apiKey)
	l.sent.Add(1)
	resp, err := l.t.apiHC.Do(req)
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return fmt.Errorf("publish: read answer: %w", err)
	}
	if err := publishAnswer(resp.StatusCode, raw); err != nil {
		return err
	}
	l.ackLat.record(time.Since(l.start) - sentAt)
	l.acked.Add(1)
	return nil
}

// publishAnswer checks the peer's answer to a publish.
func publishAnswer(status int, body []byte) error {
	if status != http.StatusOK {
		return fmt.Errorf("publish: HTTP %d %q: %w", status, bytes.TrimSpace(body), errPeerRefused)
	}
	var a struct {
		Error *struct {
			Code    uint32 `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &a); err != nil {
		return fmt.Errorf("publish: answer %q: %w", body, err)
	}
	if a.Error != nil {
		return fmt.Errorf("publish: error %d %s: %w", a.Error.Code, a.Error.Message, errPeerRefused)
	}
	return nil
}

// peerFanout is the fanout scenario against the peer: N subscribers of one
// channel, publishers on the HTTP API at a target rate. It reports the
// fields ours does (addFanout), so the two compare line by line.
func (r *runner) peerFanout(ctx context.Context, rep *report) error {
	cfg := r.cfg
	var d deliveryStats
	p := &peerPool{t: r.peer, log: r.log, start: r.start, runID: r.runID, sources: cfg.Senders * cfg.Inflight, d: &d}
	defer p.closeAll(256)
	err := r.timedOpen(ctx, rep, &p.connStats, cfg.Conns, func(ctx context.Context, opened func()) error {
		return p.open(ctx, context.WithoutCancel(ctx), cfg.Conns, cfg.DialConc, opened)
	})
	if err != nil {
		return err
	}
	if err := r.settle(ctx, rep, &p.connStats); err != nil {
		return err
	}
	senders := make([]sender, cfg.Senders)
	var lanes []*peerLane
	for i := range senders {
		pub := newPeerPublisher(r.peer, r.log, r.start, &d.ackLat, i*cfg.Inflight, cfg.Inflight)
		senders[i] = pub
		lanes = append(lanes, pub.lanes...)
	}
	cpu := r.startCPU()
	sendStart := time.Since(r.start)
	window, ackedInWindow := r.sendPhase(ctx, senders, r.sendInterval())
	cpu.stop(rep, window)
	for _, s := range senders {
		s.(*peerPublisher).stop()
	}
	// Every publish has been answered; wait for what the peer accepted to
	// reach every subscriber.
	var sent, acked int64
	final := make([]int64, len(lanes))
	for i, l := range lanes {
		sent += l.sent.Load()
		final[i] = l.acked.Load()
		acked += final[i]
	}
	r.waitUntil(ctx, time.Now().Add(cfg.Drain), func() bool {
		for _, s := range p.sessions {
			if s.received.Load() < acked {
				return false
			}
		}
		return true
	})
	p.closeAll(256)

	r.addFanout(rep, &d, fanoutRun{
		window: window, sendStart: sendStart,
		sent: sent, acked: acked, ackedInWindow: ackedInWindow,
	})
	checkDelivery(rep, func(yield func(*seqTracker, int64) bool) {
		for _, s := range p.sessions {
			for i, tr := range s.trackers {
				if !yield(tr, final[i]) {
					return
				}
			}
		}
	})
	rep.add("publish_errors", sent-acked)
	r.addConnErrors(rep, &p.connStats)
	return nil
}

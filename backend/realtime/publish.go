package realtime

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/chatapp/chat/broker"
	"github.com/chatapp/chat/chat"
)

// publisher carries committed events out of the use cases without making
// them wait: Notify only queues. One goroutine (route) hands each event to
// this instance's connections at once, in order; another (send) publishes
// the events to the other instances through the broker, in order, in
// batches. The database is the truth, so a sender's ack never waits for the
// broker: while it fails, the events wait in a bounded queue and are retried
// with backoff (the other instances, whose subscriptions are down too,
// re-read their groups from the database when they come back; the queue
// brings them the events that are not messages). A full queue drops its
// oldest events and typing events are dropped first: they mean nothing a
// few seconds later.
type publisher struct {
	h *Hub

	mu      sync.Mutex
	local   []envelope // not yet routed on this instance
	localAt time.Time  // when local[0] was queued
	remote  []queued   // not yet published, oldest first
	nextID  uint64
	failing bool // the last publish failed
	dropped int  // events dropped since the last warning

	routeKick chan struct{}
	sendKick  chan struct{}
}

const (
	// publishQueueMax bounds the events waiting for the broker.
	publishQueueMax = 1 << 16
	// publishBatchMax bounds the events of one publish.
	publishBatchMax = 1024
	// publishFlushTimeout bounds the last publish at shutdown.
	publishFlushTimeout = 2 * time.Second
)

// queued is one event waiting for the broker: its payload on each of its
// topics.
type queued struct {
	id     uint64 // increasing in queue order
	msgs   []broker.Message
	typing bool
}

func newPublisher(h *Hub) *publisher {
	return &publisher{h: h, routeKick: make(chan struct{}, 1), sendKick: make(chan struct{}, 1)}
}

// enqueue takes one event for both ways; it never blocks.
func (p *publisher) enqueue(env envelope, msgs []broker.Message) {
	p.mu.Lock()
	if len(p.local) == 0 {
		p.localAt = time.Now()
	}
	p.local = append(p.local, env)
	if len(p.remote) >= publishQueueMax {
		p.dropOldestLocked()
	}
	p.nextID++
	p.remote = append(p.remote, queued{id: p.nextID, msgs: msgs, typing: env.Type == chat.EventTyping})
	p.mu.Unlock()
	kick(p.routeKick)
	kick(p.sendKick)
}

// dropOldestLocked makes room for one event: the oldest typing event, else
// the oldest event.
func (p *publisher) dropOldestLocked() {
	i := 0
	for j, q := range p.remote {
		if q.typing {
			i = j
			break
		}
	}
	p.remote = slices.Delete(p.remote, i, i+1)
	p.dropped++
	p.h.metrics.publishDropped.Inc()
}

func kick(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// routeLoop delivers queued events to this instance's connections.
func (p *publisher) routeLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.routeKick:
		}
		p.mu.Lock()
		batch, since := p.local, p.localAt
		p.local = nil
		p.mu.Unlock()
		if len(batch) > 0 {
			now := time.Now()
			p.h.press.routed(now, now.Sub(since))
		}
		for i := range batch {
			p.h.route(batch[i], nil)
			batch[i] = envelope{}
		}
	}
}

// sendLoop publishes queued events to the other instances. When ctx ends it
// makes one last bounded attempt, so that what happened just before a
// shutdown (users going offline) still reaches the others.
func (p *publisher) sendLoop(ctx context.Context) {
	const minBackoff, maxBackoff = 50 * time.Millisecond, time.Second
	backoff := minBackoff
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	waitingRetry := false
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishFlushTimeout)
			for fctx.Err() == nil && p.publishSome(fctx) {
			}
			cancel()
			return
		case <-p.sendKick:
			if waitingRetry {
				continue // the retry timer decides when to try again
			}
		case <-retry.C:
			waitingRetry = false
		}
		for {
			more, err := p.publishNext(ctx)
			if err != nil {
				if ctx.Err() != nil {
					break
				}
				waitingRetry = true
				retry.Reset(backoff)
				backoff = min(2*backoff, maxBackoff)
				break
			}
			backoff = minBackoff
			if !more {
				break
			}
		}
	}
}

// publishSome publishes the next batch at shutdown; it reports whether it
// should be called again.
func (p *publisher) publishSome(ctx context.Context) bool {
	more, err := p.publishNext(ctx)
	return err == nil && more
}

// publishNext publishes the oldest batch of queued events. On success they
// leave the queue; on failure they stay (typing events excepted). It reports
// whether more are queued.
func (p *publisher) publishNext(ctx context.Context) (bool, error) {
	p.mu.Lock()
	n := min(len(p.remote), publishBatchMax)
	if n == 0 {
		p.mu.Unlock()
		return false, nil
	}
	var batch []broker.Message
	for _, q := range p.remote[:n] {
		batch = append(batch, q.msgs...)
	}
	last := p.remote[n-1].id
	p.mu.Unlock()

	pctx, cancel := context.WithTimeout(ctx, p.h.opt.PublishTimeout)
	err := p.h.opt.Broker.Publish(pctx, batch...)
	cancel()

	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		if ctx.Err() != nil {
			return len(p.remote) > 0, err // stopping, not failing: kept for the final flush
		}
		if !p.failing {
			p.h.log.Warn("realtime: the broker is unreachable; events for the other instances wait in a bounded queue", "err", err, "queued", len(p.remote))
		}
		p.failing = true
		p.h.metrics.publishFailures.Inc()
		// Typing is stale by the time the broker is back.
		p.remote = slices.DeleteFunc(p.remote, func(q queued) bool { return q.typing && q.id <= last })
		return len(p.remote) > 0, err
	}
	if p.failing {
		p.h.log.Info("realtime: the broker is reachable again", "dropped", p.dropped)
		p.failing, p.dropped = false, 0
	}
	// The queue may have lost some of the batch meanwhile (dropped when
	// full), never gained any before it: remove what is not newer.
	done := 0
	for done < len(p.remote) && p.remote[done].id <= last {
		done++
	}
	clear(p.remote[:done])
	p.remote = p.remote[done:]
	if len(p.remote) == 0 {
		p.remote = nil // let an emptied backlog's array go
	}
	return len(p.remote) > 0, nil
}

// brokerFailing reports the outcome of the last publish.
func (p *publisher) brokerFailing() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.failing
}

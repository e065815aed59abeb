package store

import (
	"context"
	"errors"
	"sync"
	"time"
)

// batcher implements group commit. One transaction per message cannot reach
// the send rate the product needs (every commit pays a round trip and a WAL
// flush), so concurrent callers enqueue their requests and one goroutine
// commits them together: while a batch is being committed new requests
// accumulate, and the next batch takes all of them (up to max). There is no
// timer: an idle batcher takes a lone request at once, so batching adds no
// latency when there is nothing to batch with.
//
// A caller whose context ends while its request still waits gets the
// context's error and its request is dropped; once a batch has taken a
// request, the commit decides its result (the caller waits for it), so an
// answer never contradicts what was stored.
type batcher[Q, R any] struct {
	// commit runs one batch and returns one result per request, in order.
	commit func(ctx context.Context, qs []Q) []batchResult[R]
	max    int
	// timeout bounds one batch: requests are taken from callers whose own
	// contexts no longer apply.
	timeout time.Duration

	mu      sync.Mutex
	pending []*batchCall[Q, R] // guarded by mu
	closed  bool               // guarded by mu
	busy    int                // requests taken and not yet answered; guarded by mu

	wake chan struct{} // capacity 1: "pending may be non-empty"
	stop chan struct{} // closed by close
	done chan struct{} // closed when the loop has returned
}

// errBatchResults reports a commit function that answered a batch with the
// wrong number of results.
var errBatchResults = errors.New("group commit: wrong number of results")

type batchResult[R any] struct {
	val R
	err error
}

type batchCall[Q, R any] struct {
	q   Q
	res batchResult[R]
	// done is closed once res is set.
	done chan struct{}
	// taken and abandoned are guarded by batcher.mu: exactly one of them
	// becomes true, deciding whether the batch or the caller's context
	// answers.
	taken, abandoned bool
}

// newBatcher starts the batch loop; close stops it.
func newBatcher[Q, R any](limit int, timeout time.Duration, commit func(ctx context.Context, qs []Q) []batchResult[R]) *batcher[Q, R] {
	b := &batcher[Q, R]{
		commit: commit, max: limit, timeout: timeout,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	go b.loop()
	return b
}

// submit enqueues q at once and returns the wait for its result (errClosed
// when the batcher was closed before q was taken). Requests submitted one
// after another are taken in that order (into one batch or consecutive
// ones).
func (b *batcher[Q, R]) submit(ctx context.Context, q Q) func(ctx context.Context) (R, error) {
	var zero R
	if err := ctx.Err(); err != nil {
		return func(context.Context) (R, error) { return zero, err }
	}
	c := &batchCall[Q, R]{q: q, done: make(chan struct{})}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return func(context.Context) (R, error) { return zero, errClosed }
	}
	b.pending = append(b.pending, c)
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
	return func(ctx context.Context) (R, error) { return b.wait(ctx, c) }
}

// wait returns the result of c; if ctx ends before a batch took c, c is
// dropped and the context's error returned.
func (b *batcher[Q, R]) wait(ctx context.Context, c *batchCall[Q, R]) (R, error) {
	var zero R
	select {
	case <-c.done:
		return c.res.val, c.res.err
	case <-ctx.Done():
	}
	b.mu.Lock()
	if !c.taken {
		c.abandoned = true
		b.mu.Unlock()
		return zero, ctx.Err()
	}
	b.mu.Unlock()
	<-c.done
	return c.res.val, c.res.err
}

// stats reports how many requests wait for a batch and how many are in the
// batch being committed.
func (b *batcher[Q, R]) stats() (waiting, committing int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.pending {
		if !c.abandoned {
			waiting++
		}
	}
	return waiting, b.busy
}

// close answers every waiting request with errClosed, lets the batch being
// committed finish and returns once the loop has stopped. Later calls to submit
// fail with errClosed.
func (b *batcher[Q, R]) close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		<-b.done
		return
	}
	b.closed = true
	waiting := b.pending
	b.pending = nil
	for _, c := range waiting {
		if !c.abandoned {
			c.taken = true
		}
	}
	b.mu.Unlock()
	for _, c := range waiting {
		if c.taken {
			c.res.err = errClosed
			close(c.done)
		}
	}
	close(b.stop)
	<-b.done
}

func (b *batcher[Q, R]) loop() {
	defer close(b.done)
	for {
		select {
		case <-b.stop:
			return
		case <-b.wake:
		}
		// Drain: requests that arrived during a commit form the next batch
		// without waiting for another wake-up.
		for {
			batch := b.take()
			if len(batch) == 0 {
				break
			}
			b.run(batch)
		}
	}
}

// take removes up to max live requests from the queue and marks them taken.
func (b *batcher[Q, R]) take() []*batchCall[Q, R] {
	b.mu.Lock()
	defer b.mu.Unlock()
	var batch []*batchCall[Q, R]
	i := 0
	for ; i < len(b.pending) && len(batch) < b.max; i++ {
		c := b.pending[i]
		if c.abandoned {
			continue
		}
		c.taken = true
		batch = append(batch, c)
	}
	// Clear the taken slots so the backing array does not keep them alive.
	clear(b.pending[:i])
	b.pending = b.pending[i:]
	if len(b.pending) == 0 {
		b.pending = nil
	}
	b.busy = len(batch)
	return batch
}

func (b *batcher[Q, R]) run(batch []*batchCall[Q, R]) {
	qs := make([]Q, len(batch))
	for i, c := range batch {
		qs[i] = c.q
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
	res := b.commit(ctx, qs)
	cancel()
	if len(res) != len(batch) {
		// A broken commit function must not leave callers waiting forever.
		res = make([]batchResult[R], len(batch))
		for i := range res {
			res[i].err = errBatchResults
		}
	}
	b.mu.Lock()
	b.busy = 0
	b.mu.Unlock()
	for i, c := range batch {
		c.res = res[i]
		close(c.done)
	}
}

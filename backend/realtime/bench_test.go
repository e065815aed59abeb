package realtime

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/chatapp/chat/broker"
	"github.com/chatapp/chat/chat"
)

// memStore is a Store over a fixed slice of one group's messages (seq i+1
// at index i), for benchmarks that must not measure a database.
type memStore struct {
	msgs    []chat.Message
	visible int // how many are committed (0: all)
}

func (s *memStore) Messages(_ context.Context, _ int64, q chat.HistoryQuery) ([]chat.Message, bool, error) {
	msgs := s.msgs
	if s.visible > 0 {
		msgs = msgs[:s.visible]
	}
	if q.After != nil {
		from := min(int(*q.After), len(msgs))
		to := min(from+q.Limit, len(msgs))
		return msgs[from:to], to < len(msgs), nil
	}
	to := len(msgs)
	if q.BeforeSeq > 0 {
		to = min(to, int(q.BeforeSeq)-1)
	}
	from := max(0, to-q.Limit)
	return msgs[from:to], from > 0, nil
}

func (s *memStore) GroupIDsOfUsers(context.Context, []int64) (map[int64][]int64, error) {
	return nil, nil
}

func benchMessage(gid, seq int64) chat.Message {
	cid := "c-" + itoa(seq)
	return chat.Message{
		ID: seq, GroupID: gid, Seq: seq, Body: strings.Repeat("x", 64), ClientID: &cid,
		Sender:    chat.User{ID: 7, Username: "alice", DisplayName: "Alice", CreatedAt: time.Unix(1700000000, 0).UTC()},
		CreatedAt: time.Unix(1700000001, 0).UTC(),
	}
}

func benchHub(b *testing.B, st Store) *Hub {
	b.Helper()
	h, err := NewHub(Options{Broker: downBroker{}, Store: st, MaxPerUser: -1})
	if err != nil {
		b.Fatal(err)
	}
	return h
}

// BenchmarkEncodeEvent is Notify's work per message: the client frame and
// the broker envelope around it, encoded once for every receiver.
func BenchmarkEncodeEvent(b *testing.B) {
	m := benchMessage(1, 42)
	ev := chat.Event{Type: chat.EventMessage, GroupID: 1, Message: &m}
	b.ReportAllocs()
	for b.Loop() {
		payload, err := encodeEnvelope(ev)
		if err != nil || len(payload) == 0 {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeEnvelope is every instance's work per broker payload.
func BenchmarkDecodeEnvelope(b *testing.B) {
	m := benchMessage(1, 42)
	payload, err := encodeEnvelope(chat.Event{Type: chat.EventMessage, GroupID: 1, Message: &m})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		env, err := decodeEnvelope(payload)
		if err != nil || env.Seq != 42 {
			b.Fatal(err)
		}
	}
}

// BenchmarkSequencer measures the per-group sequencer: in order (the common
// case: deliver and move on) and a gap (the event ahead of a missing seq
// queues a read; the fill reads the gap from the store and delivers both).
func BenchmarkSequencer(b *testing.B) {
	const gid = 1
	b.Run("in-order", func(b *testing.B) {
		h := benchHub(b, &memStore{})
		st := &groupState{conns: map[*conn]sub{}, delivered: 0}
		h.groups[gid] = st
		frame := messageFrame(benchMessage(gid, 1))
		b.ReportAllocs()
		seq := int64(0)
		for b.Loop() {
			seq++
			h.mu.Lock()
			h.sequence(gid, st, seq, 1, frame)
			h.mu.Unlock()
		}
		if st.delivered != seq {
			b.Fatalf("delivered %d of %d", st.delivered, seq)
		}
	})
	b.Run("gap", func(b *testing.B) {
		const n = 1 << 12
		ms := &memStore{}
		for i := range n {
			ms.msgs = append(ms.msgs, benchMessage(gid, int64(i+1)))
		}
		h := benchHub(b, ms)
		st := &groupState{conns: map[*conn]sub{}, delivered: 0}
		h.groups[gid] = st
		frame := messageFrame(benchMessage(gid, 1))
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			h.mu.Lock()
			if st.delivered >= n-2 {
				st.delivered = 0
			}
			// seq delivered+1 went missing; delivered+2 arrives.
			ms.visible = int(st.delivered) + 2
			h.sequence(gid, st, st.delivered+2, 1, frame)
			h.fillQ = h.fillQ[:0]
			h.mu.Unlock()
			if err := h.fill(ctx, gid); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkHubFanout routes message events to 1,000 local connections over
// real loopback WebSockets (the client side reads and discards) and waits
// until every frame is written: ns/op is the server's cost of one message to
// 1,000 members, writes included.
func BenchmarkHubFanout(b *testing.B) {
	const members, gid = 1000, 1
	h := benchHub(b, &memStore{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	accepted := make(chan *conn)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sb := &smallBuffers{ResponseWriter: w, pool: &h.corkPool}
		ws, err := websocket.Accept(sb, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
		if err != nil {
			b.Error(err)
			return
		}
		cctx, ccancel := context.WithCancel(ctx)
		c := newConn(h, ws, sb.out, sb.in, 1, "s1", cctx, ccancel)
		context.AfterFunc(cctx, c.abortWrite)
		accepted <- c
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")

	var readers sync.WaitGroup
	var clients []net.Conn
	var conns []*conn
	defer func() {
		// The raw clients never answer a close frame: the server side is
		// dropped without the handshake.
		for _, nc := range clients {
			_ = nc.Close()
		}
		readers.Wait()
		for _, c := range conns {
			_ = c.ws.CloseNow()
			c.finish()
		}
	}()
	for range members {
		nc := rawDial(b, addr)
		clients = append(clients, nc)
		readers.Go(func() { _, _ = io.Copy(io.Discard, nc) })
		c := <-accepted
		conns = append(conns, c)
		if err := h.register(ctx, c, []int64{gid}, nil, []byte(`{"type":"ready"}`)); err != nil {
			b.Fatal(err)
		}
	}
	h.mu.Lock()
	h.groups[gid].delivered = 0 // the baseline read (fill) is not run here
	h.mu.Unlock()
	waitWritten := func() {
		for _, c := range conns {
			for {
				c.mu.Lock()
				idle := (!c.writing || c.lingering) && len(c.queue) == 0
				c.mu.Unlock()
				if idle {
					break
				}
				time.Sleep(50 * time.Microsecond)
			}
		}
	}
	waitWritten()

	m := benchMessage(gid, 0)
	b.ReportAllocs()
	seq := int64(0)
	for b.Loop() {
		seq++
		m.Seq = seq
		payload, err := encodeEnvelope(chat.Event{Type: chat.EventMessage, GroupID: gid, Message: &m})
		if err != nil {
			b.Fatal(err)
		}
		h.deliver(broker.Message{Topic: groupTopic(gid), Payload: payload})
		if seq%32 == 0 {
			// Keep the queues below their bound, as a reading client would.
			waitWritten()
		}
	}
	waitWritten()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(seq*members), "ns/delivery")
}

func rawDial(b *testing.B, addr string) net.Conn {
	b.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	req := "GET / HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := c.Write([]byte(req)); err != nil {
		b.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		b.Fatalf("upgrade: %v %v", resp, err)
	}
	_ = resp.Body.Close()
	if br.Buffered() > 0 {
		b.Fatal("frames before the upgrade completed")
	}
	return c
}

package realtime

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chatapp/chat/store/storetest"
)

// clientFrame is one masked client frame (RFC 6455 5.2).
func clientFrame(op byte, fin bool, payload []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	out := []byte{b0}
	switch n := len(payload); {
	case n < 126:
		out = append(out, 0x80|byte(n))
	case n <= 0xffff:
		out = append(out, 0x80|126)
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	default:
		out = append(out, 0x80|127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	key := [4]byte{1, 2, 3, 4}
	out = append(out, key[:]...)
	for i, c := range payload {
		out = append(out, c^key[i%4])
	}
	return out
}

// The tracker is at rest exactly where the bytes so far make whole frames
// outside a message, however the stream is cut into reads.
func TestFrameTrackerFindsWholeMessages(t *testing.T) {
	type piece struct {
		frame []byte
		rest  bool // at rest once this frame is complete
	}
	text := []byte(`{"type":"ping"}`)
	streams := map[string][]piece{
		"one text frame": {{clientFrame(1, true, text), true}},
		"pong then text": {{clientFrame(10, true, []byte("p")), true}, {clientFrame(1, true, text), true}},
		"16-bit length":  {{clientFrame(1, true, make([]byte, 300)), true}},
		"64-bit length":  {{clientFrame(2, true, make([]byte, 70000)), true}},
		"empty text":     {{clientFrame(1, true, nil), true}},
		"fragments with a ping between": {
			{clientFrame(1, false, nil), false},
			{clientFrame(9, true, []byte("x")), false},
			{clientFrame(0, false, text[:3]), false},
			{clientFrame(0, true, text[3:]), true},
			{clientFrame(8, true, []byte{3, 232}), true},
		},
	}
	for name, pieces := range streams {
		var stream []byte
		rest := map[int]bool{0: true}
		for _, p := range pieces {
			stream = append(stream, p.frame...)
			rest[len(stream)] = p.rest
		}
		for _, size := range []int{1, 2, 3, 5, 7, 64, 512, len(stream)} {
			var tr frameTracker
			for at := 0; at < len(stream); {
				end := min(at+size, len(stream))
				tr.track(stream[at:end])
				at = end
				if got := tr.atRest(); got != rest[at] {
					t.Fatalf("%s, reads of %d: at byte %d of %d at rest = %v, want %v", name, size, at, len(stream), got, rest[at])
				}
			}
		}
	}
}

// readServerFrame reads one (unmasked) server frame.
func readServerFrame(t *testing.T, br *bufio.Reader) (byte, []byte) {
	t.Helper()
	var h [2]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		t.Fatal(err)
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(br, b[:]); err != nil {
			t.Fatal(err)
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(br, b[:]); err != nil {
			t.Fatal(err)
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(br, p); err != nil {
		t.Fatal(err)
	}
	return h[0] & 0x0f, p
}

// serverReadsParkedIn counts the server's read goroutines whose stack
// holds the function named.
func serverReadsParkedIn(fn string) int {
	buf := make([]byte, 8<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "realtime.(*Endpoint).") && strings.Contains(g, fn) {
			n++
		}
	}
	return n
}

// An idle connection's read goroutine waits on the socket, not inside the
// library's Read (about 2 KiB deep, a 4 KiB stack): after frames that
// arrive in pieces, fragmented, with control frames between the fragments,
// it is back to the shallow wait, and it answered all of them.
func TestIdleReadsWaitShallowAndFramesInPiecesStillWork(t *testing.T) {
	f := newFixtureOn(t, instanceConfig{store: storetest.SQLite(t)})
	addr := strings.TrimPrefix(f.inst.srv.URL, "http://")
	nc := rawConnect(t, addr, f.alice.token)
	defer nc.Close()
	br := bufio.NewReader(nc)
	if op, p := readServerFrame(t, br); op != 1 || !strings.Contains(string(p), `"ready"`) {
		t.Fatalf("first frame %d %s", op, p)
	}
	parked := func() {
		t.Helper()
		eventually(t, "the read goroutine waits on the socket", func() bool {
			return serverReadsParkedIn("realtime.waitReadable") == 1 &&
				serverReadsParkedIn("websocket.(*Conn).readFrameHeader") == 0
		})
	}
	parked()

	text := []byte(`{"type":"ping","ref":"r1"}`)
	var stream []byte
	stream = append(stream, clientFrame(1, false, nil)...) // an empty first fragment
	stream = append(stream, clientFrame(9, true, []byte("k1"))...)
	stream = append(stream, clientFrame(0, false, text[:5])...)
	stream = append(stream, clientFrame(9, true, []byte("k2"))...)
	stream = append(stream, clientFrame(0, true, text[5:])...)
	for _, cut := range [][2]int{{0, 1}, {1, 5}, {5, 9}, {9, 20}, {20, len(stream) - 3}, {len(stream) - 3, len(stream)}} {
		if _, err := nc.Write(stream[cut[0]:cut[1]]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond) // each piece its own read on the server
	}
	var pongs []string
	var answer []byte
	for answer == nil {
		switch op, p := readServerFrame(t, br); op {
		case 10:
			pongs = append(pongs, string(p))
		case 1:
			answer = p
		default:
			t.Fatalf("frame op %d %s", op, p)
		}
	}
	var fr struct{ Type, Ref string }
	if err := json.Unmarshal(answer, &fr); err != nil || fr.Type != "pong" || fr.Ref != "r1" {
		t.Fatalf("answer %s (%v)", answer, err)
	}
	if strings.Join(pongs, ",") != "k1,k2" {
		t.Fatalf("control pongs %v", pongs)
	}
	parked()
}

// Package blobtest is the conformance suite every blob.Store passes (the
// folder and the S3 one).
package blobtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatapp/chat/blob"
)

// Large is bigger than two S3 parts, so the S3 store sends it in three.
const Large = 12<<20 + 12345

// Run runs the suite; newStore returns an empty store and is called once per
// test.
func Run(t *testing.T, newStore func(t *testing.T) blob.Store) {
	ctx := context.Background()

	t.Run("RoundTrip", func(t *testing.T) {
		s := newStore(t)
		for _, size := range []int64{0, 13, Large} {
			key := fmt.Sprintf("round-trip-%d", size)
			before := time.Now().Add(-2 * time.Second) // some stores keep whole seconds
			n, err := s.Put(ctx, key, Stream(size, 1))
			if err != nil {
				t.Fatalf("Put %d bytes: %v", size, err)
			}
			if n != size {
				t.Fatalf("Put %d bytes reported %d", size, n)
			}
			o := mustOpen(t, s, key)
			if o.Size() != size {
				t.Fatalf("Size = %d, want %d", o.Size(), size)
			}
			if mt := o.ModTime(); mt.Before(before) || mt.After(time.Now().Add(2*time.Second)) {
				t.Fatalf("ModTime = %v, want about now", mt)
			}
			if got, want := digest(t, o), digest(t, Stream(size, 1)); got != want {
				t.Fatalf("%d bytes read back differ from those put", size)
			}
		}
	})

	t.Run("OverwriteReplacesWhole", func(t *testing.T) {
		s := newStore(t)
		put(t, s, "same", []byte("the first version, which is longer"))
		put(t, s, "same", []byte("second"))
		if got := readAll(t, mustOpen(t, s, "same")); got != "second" {
			t.Fatalf("after overwrite got %q", got)
		}
	})

	t.Run("RangedReads", func(t *testing.T) {
		s := newStore(t)
		data := Bytes(100_000, 2)
		put(t, s, "ranged", data)
		o := mustOpen(t, s, "ranged")
		steps := []struct {
			offset int64
			whence int
			n      int
			want   int64 // position after Seek
		}{
			{1000, io.SeekStart, 10, 1000},
			{-5, io.SeekEnd, 5, 99_995},
			{-100, io.SeekCurrent, 50, 99_900},
			{0, io.SeekStart, 3, 0},
			{10, io.SeekCurrent, 7, 13},
			{0, io.SeekCurrent, 4, 20}, // moving nowhere keeps reading on
		}
		for _, st := range steps {
			pos, err := o.Seek(st.offset, st.whence)
			if err != nil || pos != st.want {
				t.Fatalf("Seek(%d, %d) = %d, %v; want %d", st.offset, st.whence, pos, err, st.want)
			}
			got := make([]byte, st.n)
			if _, err := io.ReadFull(o, got); err != nil {
				t.Fatalf("read %d at %d: %v", st.n, pos, err)
			}
			if !bytes.Equal(got, data[pos:pos+int64(st.n)]) {
				t.Fatalf("bytes at %d differ", pos)
			}
		}
		if pos, err := o.Seek(0, io.SeekEnd); err != nil || pos != int64(len(data)) {
			t.Fatalf("Seek to end = %d, %v", pos, err)
		}
		if n, err := o.Read(make([]byte, 10)); n != 0 || !errors.Is(err, io.EOF) {
			t.Fatalf("Read at end = %d, %v; want 0, EOF", n, err)
		}
		if _, err := o.Seek(200_000, io.SeekStart); err != nil {
			t.Fatalf("Seek past the end: %v", err)
		}
		if n, err := o.Read(make([]byte, 10)); n != 0 || !errors.Is(err, io.EOF) {
			t.Fatalf("Read past end = %d, %v; want 0, EOF", n, err)
		}
		if _, err := o.Seek(-1, io.SeekStart); err == nil {
			t.Fatal("Seek to -1 succeeded")
		}
	})

	t.Run("ServeContentAnswersRanges", func(t *testing.T) {
		s := newStore(t)
		data := Bytes(50_000, 3)
		put(t, s, "served", data)
		const etag = `"the-sha256"` // the caller's, as the HTTP layer will set it
		cases := []struct {
			rng, ifNoneMatch string
			status           int
			want             []byte
		}{
			{"", "", http.StatusOK, data},
			{"bytes=100-199", "", http.StatusPartialContent, data[100:200]},
			{"bytes=-10", "", http.StatusPartialContent, data[len(data)-10:]},
			{"bytes=49990-", "", http.StatusPartialContent, data[49990:]},
			{"bytes=60000-", "", http.StatusRequestedRangeNotSatisfiable, nil},
			{"", etag, http.StatusNotModified, []byte{}},
			{"bytes=0-9", `"other"`, http.StatusPartialContent, data[:10]},
		}
		for _, c := range cases {
			o := mustOpen(t, s, "served")
			req := httptest.NewRequest(http.MethodGet, "/content", nil)
			if c.rng != "" {
				req.Header.Set("Range", c.rng)
			}
			if c.ifNoneMatch != "" {
				req.Header.Set("If-None-Match", c.ifNoneMatch)
			}
			rec := httptest.NewRecorder()
			rec.Header().Set("ETag", etag)
			http.ServeContent(rec, req, "", o.ModTime(), o)
			if rec.Code != c.status {
				t.Fatalf("Range %q: status %d, want %d", c.rng, rec.Code, c.status)
			}
			if c.want != nil && !bytes.Equal(rec.Body.Bytes(), c.want) {
				t.Fatalf("Range %q: %d bytes, not the %d wanted", c.rng, rec.Body.Len(), len(c.want))
			}
		}
	})

	t.Run("MissingKeyIsNotFound", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.Open(ctx, "never-put"); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("Open of a missing key: %v, want ErrNotFound", err)
		}
	})

	t.Run("DeleteIsIdempotent", func(t *testing.T) {
		s := newStore(t)
		put(t, s, "doomed", []byte("x"))
		for i := range 2 {
			if err := s.Delete(ctx, "doomed"); err != nil {
				t.Fatalf("Delete #%d: %v", i+1, err)
			}
		}
		if _, err := s.Open(ctx, "doomed"); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("Open after Delete: %v, want ErrNotFound", err)
		}
		if err := s.Delete(ctx, "never-put"); err != nil {
			t.Fatalf("Delete of a key never put: %v", err)
		}
	})

	t.Run("ConcurrentPutsOfDifferentKeys", func(t *testing.T) {
		s := newStore(t)
		const n = 8
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Go(func() {
				_, err := s.Put(ctx, fmt.Sprintf("concurrent-%d", i), Stream(int64(10_000+i*1000), uint64(i)))
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("concurrent Put: %v", err)
			}
		}
		for i := range n {
			o := mustOpen(t, s, fmt.Sprintf("concurrent-%d", i))
			if digest(t, o) != digest(t, Stream(int64(10_000+i*1000), uint64(i))) {
				t.Fatalf("concurrent-%d holds other bytes", i)
			}
		}
	})

	t.Run("BadKeysRefused", func(t *testing.T) {
		s := newStore(t)
		for _, key := range BadKeys {
			if _, err := s.Put(ctx, key, strings.NewReader("x")); !errors.Is(err, blob.ErrBadKey) {
				t.Errorf("Put(%q): %v, want ErrBadKey", key, err)
			}
			if _, err := s.Open(ctx, key); !errors.Is(err, blob.ErrBadKey) {
				t.Errorf("Open(%q): %v, want ErrBadKey", key, err)
			}
			if err := s.Delete(ctx, key); !errors.Is(err, blob.ErrBadKey) {
				t.Errorf("Delete(%q): %v, want ErrBadKey", key, err)
			}
		}
	})

	t.Run("FailedPutLeavesNothing", func(t *testing.T) {
		boom := errors.New("client went away")
		cases := []struct {
			name string
			at   int64 // bytes delivered before the failure
			err  error // nil: the context is cancelled
		}{
			{"CancelledInFirstPart", 1 << 20, nil},
			{"CancelledAfterAPart", 6 << 20, nil},
			{"ReaderFailsInFirstPart", 1 << 20, boom},
			{"ReaderFailsAfterAPart", 6 << 20, boom},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				s := newStore(t)
				put(t, s, "kept", []byte("old bytes"))
				for _, key := range []string{"fresh", "kept"} {
					pctx, cancel := context.WithCancel(ctx)
					src := &failingReader{r: Stream(Large, 4), at: c.at, err: c.err, cancel: cancel}
					_, err := s.Put(pctx, key, src)
					cancel()
					want := c.err
					if want == nil {
						want = context.Canceled
					}
					if !errors.Is(err, want) {
						t.Fatalf("Put(%s) = %v, want %v", key, err, want)
					}
				}
				if _, err := s.Open(ctx, "fresh"); !errors.Is(err, blob.ErrNotFound) {
					t.Fatalf("a failed Put left an object: Open = %v", err)
				}
				if got := readAll(t, mustOpen(t, s, "kept")); got != "old bytes" {
					t.Fatalf("a failed overwrite changed the object: %q", got)
				}
			})
		}
	})
}

// BadKeys are refused by every store.
var BadKeys = []string{
	"", ".", "..", "../escape", "a/b", "/abs", ".hidden", `a\b`, "a b", "a\x00b",
	"ü", "a?b", strings.Repeat("k", blob.MaxKeyLen+1),
}

// Stream returns size bytes made from seed, as a reader that is nothing
// but a reader (no Seek, no WriteTo, no Len): the way a request body arrives.
func Stream(size int64, seed uint64) io.Reader {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	return struct{ io.Reader }{io.LimitReader(rand.NewChaCha8(s), size)}
}

// Bytes returns what Stream(size, seed) yields.
func Bytes(size int64, seed uint64) []byte {
	b, _ := io.ReadAll(Stream(size, seed))
	return b
}

// failingReader delivers at bytes of r, then cancels (err nil) or fails
// with err; after a cancel it keeps delivering, as a body whose request is
// gone may.
type failingReader struct {
	r      io.Reader
	at, n  int64
	err    error
	cancel context.CancelFunc
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n >= f.at {
		if f.err != nil {
			return 0, f.err
		}
		f.cancel()
	} else if rest := f.at - f.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := f.r.Read(p)
	f.n += int64(n)
	return n, err
}

func put(t *testing.T, s blob.Store, key string, data []byte) {
	t.Helper()
	if _, err := s.Put(context.Background(), key, bytes.NewReader(data)); err != nil {
		t.Fatalf("Put(%s): %v", key, err)
	}
}

func mustOpen(t *testing.T, s blob.Store, key string) blob.Object {
	t.Helper()
	o, err := s.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("Open(%s): %v", key, err)
	}
	t.Cleanup(func() { o.Close() })
	return o
}

func readAll(t *testing.T, r io.Reader) string {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(b)
}

func digest(t *testing.T, r io.Reader) [32]byte {
	t.Helper()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		t.Fatalf("read: %v", err)
	}
	return [32]byte(h.Sum(nil))
}

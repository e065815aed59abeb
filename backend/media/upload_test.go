package media_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"

	"go.uber.org/goleak"

	"github.com/chatapp/chat/media"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	var s [32]byte
	s[0] = byte(seed)
	rand.NewChaCha8(s).Read(b)
	return b
}

// The content type comes from the bytes alone.
func TestUploadContentType(t *testing.T) {
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"png", encPNG(t, solid(2, 2, red)), "image/png"},
		{"jpeg", encJPEG(t, solid(2, 2, red)), "image/jpeg"},
		{"gif", animated(t), "image/gif"},
		{"webp", readFile(t, "blue-purple-pink.lossy.webp"), "image/webp"},
		{"text", []byte("hello, world\n"), "text/plain; charset=utf-8"},
		{"pdf", []byte("%PDF-1.7\n%âãÏÓ\n1 0 obj\n"), "application/pdf"},
		{"html", []byte("<!DOCTYPE html><html><script>alert(1)</script>"), "text/html; charset=utf-8"},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"></svg>`), "image/svg+xml"},
		{"random", randomBytes(10_000, 1), "application/octet-stream"},
		{"empty", nil, "text/plain"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// One byte at a time: the head is gathered across reads.
			u := media.NewUpload(iotest.OneByteReader(bytes.NewReader(c.data)), 1<<20)
			if _, err := io.Copy(io.Discard, u); err != nil {
				t.Fatal(err)
			}
			if got := u.ContentType(); got != c.want {
				t.Fatalf("ContentType = %q, want %q", got, c.want)
			}
		})
	}
}

func TestUploadSizeAndSHA256(t *testing.T) {
	for _, n := range []int{0, 1, 3071, 3072, 3073, 1 << 20} {
		data := randomBytes(n, 2)
		u := media.NewUpload(struct{ io.Reader }{bytes.NewReader(data)}, 1<<20)
		out, err := io.ReadAll(u)
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		sum := sha256.Sum256(data)
		if !bytes.Equal(out, data) || u.Size() != int64(n) || u.SHA256() != hex.EncodeToString(sum[:]) {
			t.Fatalf("%d bytes: passed %d, Size %d, SHA256 %s; want %s", n, len(out), u.Size(), u.SHA256(), hex.EncodeToString(sum[:]))
		}
	}
}

// countingSource is an endless upload that counts what is taken from it.
type countingSource struct{ n int64 }

func (c *countingSource) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	c.n += int64(len(p))
	return len(p), nil
}

func TestUploadLimit(t *testing.T) {
	const limit = 100_000
	t.Run("exactly the limit passes", func(t *testing.T) {
		u := media.NewUpload(bytes.NewReader(randomBytes(limit, 3)), limit)
		if n, err := io.Copy(io.Discard, u); err != nil || n != limit {
			t.Fatalf("Copy = %d, %v; want %d, nil", n, err, limit)
		}
	})
	t.Run("one byte more fails", func(t *testing.T) {
		u := media.NewUpload(bytes.NewReader(randomBytes(limit+1, 3)), limit)
		_, err := io.Copy(io.Discard, u)
		var tl *media.TooLargeError
		if !errors.As(err, &tl) || tl.Limit != limit {
			t.Fatalf("Copy error %v, want *TooLargeError{%d}", err, limit)
		}
	})
	t.Run("an endless upload stops at the limit", func(t *testing.T) {
		src := &countingSource{}
		u := media.NewUpload(src, limit)
		n, err := io.CopyBuffer(io.Discard, u, make([]byte, 64<<10))
		var tl *media.TooLargeError
		if !errors.As(err, &tl) {
			t.Fatalf("Copy error %v, want *TooLargeError", err)
		}
		if n != limit || src.n != limit+1 || u.Size() != limit {
			t.Fatalf("passed on %d, took %d from the source, Size %d; want %d, %d, %d", n, src.n, u.Size(), limit, limit+1, limit)
		}
		// And it stays failed.
		if k, err := u.Read(make([]byte, 10)); k != 0 || !errors.As(err, &tl) {
			t.Fatalf("Read after the limit = %d, %v", k, err)
		}
	})
	t.Run("limit zero", func(t *testing.T) {
		if _, err := io.ReadAll(media.NewUpload(strings.NewReader(""), 0)); err != nil {
			t.Fatalf("empty upload with limit 0: %v", err)
		}
		var tl *media.TooLargeError
		if _, err := io.ReadAll(media.NewUpload(strings.NewReader("x"), 0)); !errors.As(err, &tl) {
			t.Fatalf("one byte with limit 0: %v", err)
		}
	})
}

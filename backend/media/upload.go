// Package media finds out what the bytes of an upload are: their content
// type, SHA-256 and size as they stream past (Upload), and for raster images
// their dimensions and a thumbnail (Inspect). It never trusts what a client
// says about a file. See ../blob/README.md for how it serves docs/API.md.
package media

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"

	"github.com/gabriel-vasile/mimetype"
)

// TooLargeError: an upload went past its limit (the HTTP layer answers 413).
type TooLargeError struct {
	Limit int64 // bytes
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("media: larger than the limit of %d bytes", e.Limit)
}

// sniffLen is how much of the start mimetype looks at (its default limit).
const sniffLen = 3072

// Upload reads an upload through: it counts, hashes and keeps the first
// bytes for sniffing, and fails with *TooLargeError at the first byte past
// its limit, having read at most that one byte too many from the source and
// passed on none of it.
type Upload struct {
	r     io.Reader
	limit int64
	n     int64
	sum   hash.Hash
	head  []byte
	err   *TooLargeError // sticky
}

// NewUpload reads r, allowing at most limit bytes.
func NewUpload(r io.Reader, limit int64) *Upload {
	return &Upload{r: r, limit: limit, sum: sha256.New(), head: make([]byte, 0, sniffLen)}
}

func (u *Upload) Read(p []byte) (int, error) {
	if u.err != nil {
		return 0, u.err
	}
	// One byte past the limit is all it takes to know.
	if room := u.limit - u.n + 1; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := u.r.Read(p)
	if u.n+int64(n) > u.limit {
		n = int(u.limit - u.n)
		u.err = &TooLargeError{Limit: u.limit}
		err = u.err
	}
	u.n += int64(n)
	u.sum.Write(p[:n])
	if room := sniffLen - len(u.head); room > 0 {
		u.head = append(u.head, p[:min(n, room)]...)
	}
	return n, err
}

// Size is the number of bytes read so far.
func (u *Upload) Size() int64 { return u.n }

// SHA256 is the hex SHA-256 of the bytes read so far: of the upload, once
// it has been read to the end.
func (u *Upload) SHA256() string { return hex.EncodeToString(u.sum.Sum(nil)) }

// ContentType is the media type the first bytes show (e.g. "image/png",
// "text/plain; charset=utf-8", "application/octet-stream"), once the upload
// has been read to the end or for sniffLen bytes.
func (u *Upload) ContentType() string { return mimetype.Detect(u.head).String() }

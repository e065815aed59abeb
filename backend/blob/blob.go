// Package blob keeps the bytes of attachments: in a folder on local disk (the
// embedded default) or in any S3-compatible object store. See README.md for
// how it serves the Attachments section of docs/API.md.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"time"
)

var (
	// ErrNotFound: no object has that key (Open, or an Object whose bytes
	// vanished between two ranged reads).
	ErrNotFound = errors.New("blob: not found")
	// ErrBadKey: the key breaks the rule of CheckKey.
	ErrBadKey = errors.New("blob: bad key")
)

// Store holds objects by key. Put replaces an object whole: a reader of the
// key sees the old bytes or the new ones, never a mix or a torn file, and a
// Put that fails (its context ends, its reader fails) leaves the key as it
// was. Delete is idempotent.
type Store interface {
	// Put streams r to the object key and returns how many bytes it stored.
	Put(ctx context.Context, key string, r io.Reader) (size int64, err error)
	// Open returns the object key, or an error matching ErrNotFound. The
	// Object reads within ctx, so ctx must outlive it.
	Open(ctx context.Context, key string) (Object, error)
	Delete(ctx context.Context, key string) error
	// Close releases the store's files or connections.
	Close() error
}

// Object is one stored object, ready for http.ServeContent: Seek answers from
// Size without I/O, and Read fetches from the current offset (for S3 a
// ranged GET, made only when the bytes are wanted).
type Object interface {
	io.ReadSeekCloser
	Size() int64
	ModTime() time.Time
}

// MaxKeyLen keeps a key one file name on every file system (255 bytes).
const MaxKeyLen = 200

// CheckKey is the one rule for keys, the same for every Store: 1 to
// MaxKeyLen characters from A–Z a–z 0–9 '.' '_' '-', not starting with '.'.
// With no '/' and no leading dot a key can never name a path outside the
// store, a folder, or a temporary file of the folder store.
func CheckKey(key string) error {
	if key == "" || len(key) > MaxKeyLen || key[0] == '.' {
		return fmt.Errorf("%w: %q", ErrBadKey, key)
	}
	for i := range len(key) {
		c := key[i]
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return fmt.Errorf("%w: %q", ErrBadKey, key)
		}
	}
	return nil
}

// Open opens the store that rawURL names (CHAT_BLOB_URL): empty, the folder
// dataDir/blobs; file:///abs/path, that folder; s3://bucket[/prefix]?endpoint=…
// &region=…&path_style=true, an S3-compatible bucket with credentials from the
// usual AWS variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN, or the SDK's other sources).
func Open(ctx context.Context, rawURL, dataDir string) (Store, error) {
	if rawURL == "" {
		if dataDir == "" {
			return nil, errors.New("blob: no data directory for the folder store")
		}
		return OpenDir(filepath.Join(dataDir, "blobs"))
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		// Not err itself: a *url.Error quotes the URL, password and all.
		return nil, fmt.Errorf("blob: bad store URL: %w", errors.Unwrap(err))
	}
	switch u.Scheme {
	case "file":
		if u.Host != "" && u.Host != "localhost" || u.Path == "" || u.RawQuery != "" {
			return nil, fmt.Errorf("blob: bad store URL %q: want file:///absolute/path", rawURL)
		}
		return OpenDir(filepath.FromSlash(u.Path))
	case "s3":
		cfg, err := parseS3URL(u)
		if err != nil {
			return nil, err
		}
		return OpenS3(ctx, cfg)
	default:
		return nil, fmt.Errorf("blob: bad store URL %q: the scheme must be file or s3", redact(u))
	}
}

// redact keeps user info (someone may paste credentials into the URL) out of
// error messages and logs.
func redact(u *url.URL) string {
	if u.User == nil {
		return u.String()
	}
	c := *u
	c.User = url.User("redacted")
	return c.String()
}

// ctxReader ends a Put whose context ends even while its source keeps
// delivering bytes.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

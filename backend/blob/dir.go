package blob

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"time"
)

// Dir keeps objects as files under one folder: key k lives in <hh>/k, where hh
// is the first byte of SHA-256(k) in hex, so no folder holds more than a
// 256th of the files. Every path goes through an os.Root, which also refuses
// symbolic links that lead out of the folder.
type Dir struct {
	root *os.Root
}

var _ Store = (*Dir)(nil)

// tmpDir holds files being written; the leading dot keeps it apart from
// every shard and key (CheckKey).
const tmpDir = ".tmp"

// staleTmp is how old a temporary file must be before OpenDir removes it as
// the leftover of a crash: far longer than any upload lasts.
const staleTmp = 24 * time.Hour

// OpenDir opens (creating it if needed) the folder store at dir.
func OpenDir(dir string) (*Dir, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("blob: create folder: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("blob: open folder: %w", err)
	}
	d := &Dir{root: root}
	if err := root.Mkdir(tmpDir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		root.Close()
		return nil, fmt.Errorf("blob: create %s: %w", tmpDir, err)
	}
	if err := d.removeStale(time.Now().Add(-staleTmp)); err != nil {
		root.Close()
		return nil, err
	}
	return d, nil
}

func (d *Dir) removeStale(before time.Time) error {
	entries, err := fs.ReadDir(d.root.FS(), tmpDir)
	if err != nil {
		return fmt.Errorf("blob: list %s: %w", tmpDir, err)
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.ModTime().Before(before) {
			continue // gone meanwhile, or still being written
		}
		if err := d.root.Remove(path.Join(tmpDir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("blob: remove stale temporary file: %w", err)
		}
	}
	return nil
}

func shard(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:1])
}

// Put writes a temporary file, syncs it and renames it over the key, so a
// crash or a failure at any point leaves the old object or the new one whole.
func (d *Dir) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	if err := CheckKey(key); err != nil {
		return 0, err
	}
	sh := shard(key)
	newShard := true
	if err := d.root.Mkdir(sh, 0o700); errors.Is(err, fs.ErrExist) {
		newShard = false
	} else if err != nil {
		return 0, fmt.Errorf("blob: create shard: %w", err)
	}
	tmp := path.Join(tmpDir, rand.Text())
	f, err := d.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, fmt.Errorf("blob: create temporary file: %w", err)
	}
	n, err := d.write(ctx, f, r)
	if err == nil {
		err = d.root.Rename(tmp, path.Join(sh, key))
	}
	if err != nil {
		_ = d.root.Remove(tmp)
		return 0, fmt.Errorf("blob: put %s: %w", key, err)
	}
	// The new name is durable once its folder is; a new shard's own entry is
	// in the root folder.
	if err := d.syncDir(sh); err != nil {
		return 0, err
	}
	if newShard {
		if err := d.syncDir("."); err != nil {
			return 0, err
		}
	}
	return n, nil
}

func (d *Dir) write(ctx context.Context, f *os.File, r io.Reader) (int64, error) {
	n, err := io.Copy(f, ctxReader{ctx: ctx, r: r})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return n, err
}

func (d *Dir) syncDir(name string) error {
	f, err := d.root.Open(name)
	if err != nil {
		return fmt.Errorf("blob: open folder to sync: %w", err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("blob: sync folder: %w", err)
	}
	return nil
}

// Open opens the file of key; the Object reads the same bytes to the end
// even if the key is replaced or deleted meanwhile.
func (d *Dir) Open(ctx context.Context, key string) (Object, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := d.root.Open(path.Join(shard(key), key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	if err != nil {
		return nil, fmt.Errorf("blob: open %s: %w", key, err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("blob: stat %s: %w", key, err)
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%w: %s is not a file", ErrNotFound, key)
	}
	return &file{f: f, info: info}, nil
}

// Delete removes the file of key; a missing file is not an error.
func (d *Dir) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	err := d.root.Remove(path.Join(shard(key), key))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blob: delete %s: %w", key, err)
	}
	return nil
}

// Close closes the folder.
func (d *Dir) Close() error { return d.root.Close() }

// file hides every method of *os.File but those of Object.
type file struct {
	f    *os.File
	info fs.FileInfo
}

func (o *file) Read(p []byte) (int, error)                { return o.f.Read(p) }
func (o *file) Seek(off int64, whence int) (int64, error) { return o.f.Seek(off, whence) }
func (o *file) Close() error                              { return o.f.Close() }
func (o *file) Size() int64                               { return o.info.Size() }
func (o *file) ModTime() time.Time                        { return o.info.ModTime() }

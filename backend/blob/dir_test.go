package blob_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/chatapp/chat/blob"
	"github.com/chatapp/chat/blob/blobtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestDirConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		dir := t.TempDir()
		d, err := blob.OpenDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			d.Close()
			// Whatever failed, no temporary file outlives its Put.
			if left, _ := os.ReadDir(filepath.Join(dir, ".tmp")); len(left) > 0 {
				t.Errorf("temporary files left behind: %v", left)
			}
		})
		return d
	})
}

// The files of the folder are where the README says, and only there.
func TestDirLayout(t *testing.T) {
	dir := t.TempDir()
	d := openDir(t, dir)
	if _, err := d.Put(context.Background(), "abc", blobtest.Stream(10, 1)); err != nil {
		t.Fatal(err)
	}
	// SHA-256("abc") starts with ba.
	if _, err := os.Stat(filepath.Join(dir, "ba", "abc")); err != nil {
		t.Fatalf("object file: %v", err)
	}
	var files []string
	filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			files = append(files, p)
		}
		return err
	})
	if len(files) != 1 {
		t.Fatalf("files in the folder: %v, want only the object", files)
	}
}

// A crash leaves a temporary file; the next start removes it once it is old
// enough that no Put can still be writing it.
func TestDirRemovesStaleTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	openDir(t, dir).Close()
	stale := filepath.Join(dir, ".tmp", "crashed")
	fresh := filepath.Join(dir, ".tmp", "in-progress")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-25 * time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	openDir(t, dir)
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("stale temporary file: %v, want removed", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Fatalf("recent temporary file: %v, want kept", err)
	}
}

// A symbolic link planted in the folder cannot make Open read outside it.
func TestDirRefusesLinksOutOfTheFolder(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("outside"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := openDir(t, dir)
	if err := os.MkdirAll(filepath.Join(dir, "ba"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(dir, "ba", "abc")); err != nil {
		t.Fatal(err)
	}
	if o, err := d.Open(context.Background(), "abc"); err == nil {
		o.Close()
		t.Fatal("Open followed a link out of the folder")
	}
}

// Put streams: storing 64 MiB allocates a small fraction of that.
func TestDirPutStreams(t *testing.T) {
	d := openDir(t, t.TempDir())
	const size = 64 << 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := d.Put(context.Background(), "big", blobtest.Stream(size, 5)); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 2<<20 {
		t.Fatalf("Put of %d MiB allocated %d KiB", size>>20, alloc>>10)
	}
}

func openDir(t *testing.T, dir string) *blob.Dir {
	t.Helper()
	d, err := blob.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

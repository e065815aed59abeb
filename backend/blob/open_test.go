package blob_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chatapp/chat/blob"
)

func TestOpenChoosesTheStore(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	s, err := blob.Open(ctx, "", data)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok := s.(*blob.Dir); !ok {
		t.Fatalf("empty URL opened %T, want the folder store", s)
	}
	if _, err := s.Put(ctx, "k", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(data, "blobs", ".tmp")); err != nil {
		t.Fatalf("the default folder is not CHAT_DATA_DIR/blobs: %v", err)
	}

	elsewhere := t.TempDir()
	s2, err := blob.Open(ctx, "file://"+filepath.ToSlash(elsewhere), "")
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, ok := s2.(*blob.Dir); !ok {
		t.Fatalf("file URL opened %T, want the folder store", s2)
	}
	if _, err := os.Stat(filepath.Join(elsewhere, ".tmp")); err != nil {
		t.Fatalf("file URL did not open its folder: %v", err)
	}

	f := newFakeS3(t)
	s3, err := blob.Open(ctx, f.url(f.newBucket(t)), "")
	if err != nil {
		t.Fatal(err)
	}
	defer s3.Close()
	if _, ok := s3.(*blob.S3); !ok {
		t.Fatalf("s3 URL opened %T, want the S3 store", s3)
	}
}

// Every URL that cannot work is refused at start with a sentence that says
// why (and never echoes a password).
func TestOpenRefusesBadURLs(t *testing.T) {
	f := newFakeS3(t) // also keeps the machine's AWS settings out
	cases := []struct{ url, want string }{
		{"ftp://host/x", "scheme must be file or s3"},
		{"/var/lib/blobs", "scheme must be file or s3"},
		{"file://relative/path", "want file:///absolute/path"},
		{"file:///x?y=1", "want file:///absolute/path"},
		{"s3://", "no bucket"},
		{"s3://b?endpoint=ftp://h", "endpoint must be an http:// or https:// URL"},
		{"s3://b?endpoint=http://", "endpoint must be an http:// or https:// URL"},
		{"s3://b?region=x&bogus=1", `unknown parameter "bogus"`},
		{"s3://b?region=x&path_style=maybe", "path_style must be true or false"},
		{"s3://key:hunter2@b?region=x", "credentials come from the AWS variables"},
		{"s3://b?endpoint=" + f.srv.URL, "no S3 region"},
		{"s3://missing?region=us-east-1&endpoint=" + f.srv.URL, `S3 bucket "missing"`},
		{"%zz", "bad store URL"},
		{"s3://key:hunter2%zz@b", "bad store URL"},
	}
	for _, c := range cases {
		s, err := blob.Open(context.Background(), c.url, t.TempDir())
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", c.url)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("Open(%q) = %q, want it to say %q", c.url, err, c.want)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Open(%q) echoes the password: %q", c.url, err)
		}
	}
	if _, err := blob.Open(context.Background(), "", ""); err == nil {
		t.Error("Open with neither URL nor data directory succeeded")
	}
}

func TestCheckKey(t *testing.T) {
	for _, k := range []string{"a", "0", "abc.thumb", "A-b_c.d", "_x", "-x", strings.Repeat("k", blob.MaxKeyLen)} {
		if err := blob.CheckKey(k); err != nil {
			t.Errorf("CheckKey(%q) = %v, want nil", k, err)
		}
	}
}

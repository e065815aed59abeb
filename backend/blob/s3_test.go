package blob_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/chatapp/chat/blob"
	"github.com/chatapp/chat/blob/blobtest"
)

// fakeS3 is a real S3-protocol server on loopback (gofakes3, in memory).
type fakeS3 struct {
	backend *s3mem.Backend
	srv     *httptest.Server
	buckets atomic.Int64

	mu       sync.Mutex
	requests []string // "METHOD Range"
}

// took returns the requests since the last call.
func (f *fakeS3) took() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.requests
	f.requests = nil
	return r
}

func newFakeS3(t *testing.T) *fakeS3 {
	t.Helper()
	// The SDK takes its credentials from these, as in production; nothing
	// may come from this machine's own AWS files or instance metadata.
	t.Setenv("AWS_ACCESS_KEY_ID", "test-key")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	f := &fakeS3{backend: s3mem.New()}
	fake := gofakes3.New(f.backend).Server()
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests = append(f.requests, strings.TrimSpace(r.Method+" "+r.Header.Get("Range")))
		f.mu.Unlock()
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeS3) newBucket(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("bucket-%d", f.buckets.Add(1))
	if err := f.backend.CreateBucket(name); err != nil {
		t.Fatal(err)
	}
	return name
}

func (f *fakeS3) url(bucket string) string {
	return "s3://" + bucket + "?endpoint=" + f.srv.URL + "&region=us-east-1"
}

// client looks at the bucket from outside the store under test.
func (f *fakeS3) client(t *testing.T) *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(f.srv.URL),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test-key", "test-secret", ""),
		UsePathStyle: true,
	})
}

func TestS3Conformance(t *testing.T) {
	f := newFakeS3(t)
	outside := f.client(t)
	blobtest.Run(t, func(t *testing.T) blob.Store {
		bucket := f.newBucket(t)
		s, err := blob.Open(context.Background(), f.url(bucket), "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			s.Close()
			// Whatever failed, no multipart upload outlives its Put.
			out, err := outside.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
			var api smithy.APIError // gofakes3's answer for a bucket that never had one
			if errors.As(err, &api) && api.ErrorCode() == "NoSuchUpload" {
				return
			}
			if err != nil {
				t.Errorf("list multipart uploads: %v", err)
			} else if len(out.Uploads) > 0 {
				t.Errorf("%d multipart uploads left behind", len(out.Uploads))
			}
		})
		return s
	})
}

// The path of the URL is a prefix of every key in the bucket.
func TestS3Prefix(t *testing.T) {
	f := newFakeS3(t)
	bucket := f.newBucket(t)
	u := strings.Replace(f.url(bucket), "?", "/chat/blobs/?", 1)
	s, err := blob.Open(context.Background(), u, "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Put(context.Background(), "k1", strings.NewReader("hello")); err != nil {
		t.Fatal(err)
	}
	out, err := f.client(t).ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Contents) != 1 || aws.ToString(out.Contents[0].Key) != "chat/blobs/k1" {
		t.Fatalf("keys in the bucket: %v, want chat/blobs/k1", out.Contents)
	}
}

// Open costs one HEAD; Seek costs nothing; the first Read after a Seek is
// one GET of the range from there, so serving a Range request does not
// fetch the object from its start.
func TestS3ReadsLazily(t *testing.T) {
	f := newFakeS3(t)
	ctx := context.Background()
	s, err := blob.Open(ctx, f.url(f.newBucket(t)), "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	data := blobtest.Bytes(100_000, 9)
	if _, err := s.Put(ctx, "lazy", blobtest.Stream(100_000, 9)); err != nil {
		t.Fatal(err)
	}
	f.took()
	o, err := s.Open(ctx, "lazy")
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if got := f.took(); !slices.Equal(got, []string{"HEAD"}) {
		t.Fatalf("Open made %v, want one HEAD", got)
	}
	for _, off := range []int64{5000, 70_000, 90_000} {
		if _, err := o.Seek(off, io.SeekStart); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := o.Seek(-3, io.SeekEnd); err != nil {
		t.Fatal(err)
	}
	if got := f.took(); len(got) != 0 {
		t.Fatalf("Seek made %v, want nothing", got)
	}
	p := make([]byte, 3)
	if _, err := io.ReadFull(o, p); err != nil || string(p) != string(data[99_997:]) {
		t.Fatalf("read at the end: %v", err)
	}
	if _, err := o.Seek(20_000, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(o, make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(o, make([]byte, 10)); err != nil { // reading on: the same GET
		t.Fatal(err)
	}
	if got, want := f.took(), []string{"GET bytes=99997-", "GET bytes=20000-"}; !slices.Equal(got, want) {
		t.Fatalf("reads made %v, want %v", got, want)
	}
}

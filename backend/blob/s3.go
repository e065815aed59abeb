package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3Config names a bucket of an S3-compatible store.
type S3Config struct {
	Bucket string
	// Prefix is put before every key, e.g. "chat/" (the path of the URL).
	Prefix string
	// Endpoint is the store's base URL; empty for AWS itself.
	Endpoint string
	// Region signs the requests; empty: from the AWS configuration
	// (AWS_REGION, ~/.aws/config).
	Region string
	// PathStyle addresses the bucket as endpoint/bucket/key rather than
	// bucket.endpoint/key; what most stores other than AWS expect.
	PathStyle bool
}

// The part size bounds what one upload holds in memory: the first part,
// then two parts (one being sent, one being filled). S3 refuses smaller
// parts except the last, and an object smaller than one part goes in one
// PUT.
const s3PartSize = 5 << 20

// failTimeout bounds the abort of a multipart upload whose context ended, so
// that its parts do not stay in the bucket.
const failTimeout = 30 * time.Second

// S3 keeps objects in a bucket of an S3-compatible store.
type S3 struct {
	client    *s3.Client
	uploader  *transfermanager.Client
	transport *http.Transport
	bucket    string
	prefix    string
}

var _ Store = (*S3)(nil)

// parseS3URL reads s3://bucket[/prefix]?endpoint=…&region=…&path_style=….
// A custom endpoint defaults to path style (MinIO, Ceph, Garage…).
func parseS3URL(u *url.URL) (S3Config, error) {
	bad := func(format string, args ...any) (S3Config, error) {
		return S3Config{}, fmt.Errorf("blob: bad store URL %q: %s", redact(u), fmt.Sprintf(format, args...))
	}
	if u.User != nil {
		return bad("credentials come from the AWS variables, not the URL")
	}
	if u.Host == "" {
		return bad("no bucket (want s3://bucket?endpoint=…)")
	}
	cfg := S3Config{Bucket: u.Host, Prefix: strings.Trim(u.Path, "/")}
	if cfg.Prefix != "" {
		cfg.Prefix += "/"
	}
	q := u.Query()
	for name := range q {
		if !slices.Contains([]string{"endpoint", "region", "path_style"}, name) {
			return bad("unknown parameter %q (known: endpoint, region, path_style)", name)
		}
	}
	if e := q.Get("endpoint"); e != "" {
		eu, err := url.Parse(e)
		if err != nil || (eu.Scheme != "http" && eu.Scheme != "https") || eu.Host == "" {
			return bad("endpoint must be an http:// or https:// URL")
		}
		cfg.Endpoint = e
		cfg.PathStyle = true
	}
	cfg.Region = q.Get("region")
	if ps := q.Get("path_style"); ps != "" {
		v, err := strconv.ParseBool(ps)
		if err != nil {
			return bad("path_style must be true or false")
		}
		cfg.PathStyle = v
	}
	return cfg, nil
}

// OpenS3 connects to the bucket and checks that it answers; the credentials
// come from the SDK's default chain (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
// and AWS_SESSION_TOKEN first).
func OpenS3(ctx context.Context, c S3Config) (*S3, error) {
	var opts []func(*config.LoadOptions) error
	if c.Region != "" {
		opts = append(opts, config.WithRegion(c.Region))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("blob: AWS configuration: %w", err)
	}
	// The transport the SDK built (with AWS_CA_BUNDLE and the like), in a
	// client whose idle connections Close can end. S3 redirects are errors
	// to report, never to follow.
	bc, ok := awsCfg.HTTPClient.(*awshttp.BuildableClient)
	if !ok {
		return nil, fmt.Errorf("blob: AWS configuration: unexpected HTTP client %T", awsCfg.HTTPClient)
	}
	tr := bc.GetTransport()
	awsCfg.HTTPClient = &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if awsCfg.Region == "" {
		return nil, errors.New("blob: no S3 region: add region=… to the store URL or set AWS_REGION")
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
		}
		o.UsePathStyle = c.PathStyle
		// Checksums beyond the signed SHA-256 only when an operation needs
		// them: many S3-compatible stores reject the SDK's newer defaults.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	if _, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(c.Bucket)}); err != nil {
		tr.CloseIdleConnections()
		return nil, fmt.Errorf("blob: S3 bucket %q: %w", c.Bucket, err)
	}
	uploader := transfermanager.New(client, func(o *transfermanager.Options) {
		o.PartSizeBytes = s3PartSize
		o.MultipartUploadThreshold = s3PartSize
		o.Concurrency = 1
		o.FailTimeout = failTimeout
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	})
	return &S3{client: client, uploader: uploader, transport: tr, bucket: c.Bucket, prefix: c.Prefix}, nil
}

// Put uploads r in one PUT, or in parts when it is larger than one part; a
// failed multipart upload is aborted so that no object and no parts remain.
func (s *S3) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	if err := CheckKey(key); err != nil {
		return 0, err
	}
	// Not a Seeker, so the uploader never reads ahead to learn the size.
	cr := &countingReader{r: ctxReader{ctx: ctx, r: r}}
	_, err := s.uploader.UploadObject(ctx, &transfermanager.UploadObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(s.prefix + key),
		Body:   cr,
	})
	if err != nil {
		return 0, fmt.Errorf("blob: put %s: %w", key, err)
	}
	return cr.n, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Open asks for the object's size and time; its bytes are fetched by Read.
func (s *S3) Open(ctx context.Context, key string) (Object, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(s.prefix + key),
	})
	if err != nil {
		return nil, s.wrap("open", key, err)
	}
	return &s3Object{
		ctx: ctx, s: s, key: key,
		size: aws.ToInt64(out.ContentLength), modTime: aws.ToTime(out.LastModified),
	}, nil
}

// Delete removes the object; S3 answers a missing key like a present one.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(s.prefix + key),
	})
	if err != nil {
		return s.wrap("delete", key, err)
	}
	return nil
}

// Close ends the idle connections; requests still running finish.
func (s *S3) Close() error {
	s.transport.CloseIdleConnections()
	return nil
}

func (s *S3) wrap(op, key string, err error) error {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound {
		return fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	return fmt.Errorf("blob: %s %s: %w", op, key, err)
}

// s3Object reads with ranged GETs: Seek only moves the offset, and the next
// Read asks for the bytes from there to the end, so http.ServeContent
// answering a Range request fetches only what it sends (and a little more
// that is in flight when it closes).
type s3Object struct {
	// ctx is the context of Open: io.Reader's Read has none of its own.
	ctx     context.Context
	s       *S3
	key     string
	size    int64
	modTime time.Time
	off     int64
	body    io.ReadCloser // open from off, or nil
}

func (o *s3Object) Size() int64        { return o.size }
func (o *s3Object) ModTime() time.Time { return o.modTime }

func (o *s3Object) Read(p []byte) (int, error) {
	if o.off >= o.size {
		return 0, io.EOF
	}
	if o.body == nil {
		out, err := o.s.client.GetObject(o.ctx, &s3.GetObjectInput{
			Bucket: aws.String(o.s.bucket),
			Key:    aws.String(o.s.prefix + o.key),
			Range:  aws.String(fmt.Sprintf("bytes=%d-", o.off)),
		})
		if err != nil {
			return 0, o.s.wrap("read", o.key, err)
		}
		o.body = out.Body
	}
	// Never past Size, which ServeContent has already announced.
	if rest := o.size - o.off; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := o.body.Read(p)
	o.off += int64(n)
	if errors.Is(err, io.EOF) && o.off < o.size {
		err = fmt.Errorf("blob: read %s: %w (the object shrank)", o.key, io.ErrUnexpectedEOF)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		o.closeBody()
	}
	return n, err
}

func (o *s3Object) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = o.off + offset
	case io.SeekEnd:
		abs = o.size + offset
	default:
		return o.off, fmt.Errorf("blob: seek: bad whence %d", whence)
	}
	if abs < 0 {
		return o.off, fmt.Errorf("blob: seek to %d: negative position", abs)
	}
	if abs != o.off {
		o.closeBody()
		o.off = abs
	}
	return abs, nil
}

func (o *s3Object) closeBody() {
	if o.body != nil {
		o.body.Close()
		o.body = nil
	}
}

func (o *s3Object) Close() error {
	o.closeBody()
	return nil
}

package httpapi_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/auth"
	"github.com/chatapp/chat/blob"
	"github.com/chatapp/chat/chat"
	"github.com/chatapp/chat/httpapi"
	"github.com/chatapp/chat/store/storetest"
)

// testMaxUpload is the upload limit of these tests.
const testMaxUpload = 4096

// fileHarness is a harness whose service keeps files in a folder and signs
// links; now is its clock.
type fileHarness struct {
	*harness
	blobs *blob.Dir
	now   *time.Time
}

func newFileHarness(t *testing.T, st app.Store) *fileHarness {
	t.Helper()
	blobs, err := blob.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = blobs.Close() })
	now := time.Now()
	tokens := newTokens(t)
	svc := app.New(app.Deps{
		Store: st, Tokens: tokens, Hasher: cheapHasher(t), Blobs: blobs,
		Links: auth.NewLinks([]byte(testSecret), nil), Clock: func() time.Time { return now },
	}, app.Config{MaxUpload: testMaxUpload})
	h := &harness{t: t, h: httpapi.New(httpapi.Options{Service: svc}), svc: svc, st: st, tokens: tokens}
	return &fileHarness{harness: h, blobs: blobs, now: &now}
}

// multipartBody is a multipart/form-data body with one file part.
func multipartBody(t testing.TB, field, filename string, content []byte) ([]byte, string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	part, err := w.CreateFormFile(field, filename)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := part.Write(content); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), w.FormDataContentType()
}

func (h *fileHarness) upload(token string, gid int64, filename string, content []byte) response {
	h.t.Helper()
	body, ct := multipartBody(h.t, "file", filename, content)
	return h.send(req{method: "POST", path: fmt.Sprintf("/api/v1/groups/%d/attachments", gid), token: token, body: body,
		header: map[string]string{"Content-Type": ct}})
}

func (h *fileHarness) uploaded(token string, gid int64, filename string, content []byte) chat.Attachment {
	h.t.Helper()
	r := h.upload(token, gid, filename, content)
	expect(h.t, r, http.StatusCreated, "")
	var a chat.Attachment
	r.decode(h.t, &a)
	return a
}

// pngImage encodes a w×h PNG; opaque or with a transparent corner.
func pngImage(t testing.TB, w, h int, opaque bool) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{uint8(x), uint8(y), 200, 255})
		}
	}
	if !opaque {
		img.Set(0, 0, color.NRGBA{})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pngBomb is a small PNG whose header claims 20000×20000 pixels.
func pngBomb(t testing.TB) []byte {
	t.Helper()
	b := pngImage(t, 1, 1, true)
	binary.BigEndian.PutUint32(b[16:], 20000)
	binary.BigEndian.PutUint32(b[20:], 20000)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

// get fetches a URL path (with its query) with an optional token.
func (h *fileHarness) get(path, token string, header map[string]string) response {
	h.t.Helper()
	return h.send(req{method: "GET", path: path, token: token, header: header})
}

func TestUploadsAndDownloads(t *testing.T) {
	forEachStore(t, func(t *testing.T, st app.Store) {
		h := newFileHarness(t, st)
		_, ann := h.user("ann")
		_, bob := h.user("bob")
		_, eve := h.user("eve")
		g := h.group(ann, "files", bob)

		// An image: size, thumbnail, signed links.
		pic := pngImage(t, 40, 20, true)
		a := h.uploaded(ann, g, "holiday ☀.png", pic)
		if a.ContentType != "image/png" || a.Size != int64(len(pic)) || a.Width == nil || *a.Width != 40 || *a.Height != 20 ||
			a.ThumbnailURL == nil || len(a.SHA256) != 64 || a.Filename != "holiday ☀.png" {
			t.Fatalf("attachment = %+v", a)
		}
		if !strings.Contains(a.URL, "?exp=") || !strings.Contains(a.URL, "&sig=") {
			t.Fatalf("url %q is not signed", a.URL)
		}

		// Unsent, it is the uploader's only.
		expect(t, h.get(fmt.Sprintf("/api/v1/attachments/%d/content", a.ID), bob, nil), http.StatusNotFound, "not_found")
		r := h.get(fmt.Sprintf("/api/v1/attachments/%d/content", a.ID), ann, nil)
		expect(t, r, http.StatusOK, "")

		m := h.post(ann, g, map[string]any{"attachment_ids": []int64{a.ID}})
		if m.Body != "" || len(m.Attachments) != 1 || m.Attachments[0].ID != a.ID || m.Attachments[0].URL == "" {
			t.Fatalf("message = %+v", m)
		}
		// Reused in a second message: refused.
		res := h.do("POST", fmt.Sprintf("/api/v1/groups/%d/messages", g), ann, map[string]any{"body": "again", "attachment_ids": []int64{a.ID}})
		expect(t, res, http.StatusBadRequest, "validation_failed")
		if res.err(t).Error.Details["attachment_ids"] == "" {
			t.Errorf("reuse: %s", res.body)
		}

		// Bearer download by a member: headers of a raster image.
		r = h.get(fmt.Sprintf("/api/v1/attachments/%d/content", a.ID), bob, nil)
		expect(t, r, http.StatusOK, "")
		if !bytes.Equal(r.body, pic) {
			t.Error("downloaded bytes differ")
		}
		for k, want := range map[string]string{
			"Content-Type": "image/png", "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox",
			"Cache-Control": "private", "ETag": `"` + a.SHA256 + `"`,
			"Content-Disposition": "inline; filename*=utf-8''holiday%20%E2%98%80.png",
		} {
			if got := r.header.Get(k); got != want {
				t.Errorf("%s = %q, want %q", k, got, want)
			}
		}
		// Range and ETag.
		r = h.get(fmt.Sprintf("/api/v1/attachments/%d/content", a.ID), bob, map[string]string{"Range": "bytes=0-7"})
		expect(t, r, http.StatusPartialContent, "")
		if !bytes.Equal(r.body, pic[:8]) || r.header.Get("Content-Range") != fmt.Sprintf("bytes 0-7/%d", len(pic)) {
			t.Errorf("range: %q %q", r.body, r.header.Get("Content-Range"))
		}
		r = h.get(fmt.Sprintf("/api/v1/attachments/%d/content", a.ID), bob, map[string]string{"If-None-Match": `"` + a.SHA256 + `"`})
		expect(t, r, http.StatusNotModified, "")
		r = h.get(fmt.Sprintf("/api/v1/attachments/%d/content", a.ID), bob, map[string]string{"Range": fmt.Sprintf("bytes=%d-", len(pic)+10)})
		expect(t, r, http.StatusRequestedRangeNotSatisfiable, "")

		// The thumbnail, by its signed link without a token.
		r = h.get(*m.Attachments[0].ThumbnailURL, "", nil)
		expect(t, r, http.StatusOK, "")
		if r.header.Get("Content-Type") != "image/jpeg" || !strings.HasPrefix(r.header.Get("Content-Disposition"), "inline") {
			t.Errorf("thumbnail headers %v", r.header)
		}
		if img, _, err := image.DecodeConfig(bytes.NewReader(r.body)); err != nil || img.Width != 40 || img.Height != 20 {
			t.Errorf("thumbnail: %+v %v", img, err)
		}
		// Non-members: by bearer, no; eve and strangers only by a signed link.
		expect(t, h.get(fmt.Sprintf("/api/v1/attachments/%d/content", a.ID), eve, nil), http.StatusForbidden, "not_member")
		expect(t, h.get(fmt.Sprintf("/api/v1/attachments/%d/content", a.ID), "", nil), http.StatusUnauthorized, "unauthorized")
		expect(t, h.get(m.Attachments[0].URL, "", nil), http.StatusOK, "")

		// Signed links: tampered, for another attachment, expired.
		u, err := url.Parse(m.Attachments[0].URL)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		exp, sig := q.Get("exp"), q.Get("sig")
		for name, path := range map[string]string{
			"tampered sig": fmt.Sprintf("%s?exp=%s&sig=%s", u.Path, exp, "A"+sig[1:]),
			"longer exp":   fmt.Sprintf("%s?exp=%s9&sig=%s", u.Path, exp, sig),
			"other file":   fmt.Sprintf("/api/v1/attachments/%d/content?exp=%s&sig=%s", a.ID+1, exp, sig),
			"thumbnail":    fmt.Sprintf("/api/v1/attachments/%d/thumbnail?exp=%s&sig=%s", a.ID, exp, sig),
			"no sig":       fmt.Sprintf("%s?exp=%s", u.Path, exp),
		} {
			expect(t, h.get(path, "", nil), http.StatusUnauthorized, "unauthorized")
			_ = name
		}
		*h.now = h.now.Add(time.Hour)
		expect(t, h.get(m.Attachments[0].URL, "", nil), http.StatusOK, "") // still valid an hour on
		*h.now = h.now.Add(2 * time.Hour)
		expect(t, h.get(m.Attachments[0].URL, "", nil), http.StatusUnauthorized, "unauthorized")
	})
}

func TestUploadRules(t *testing.T) {
	forEachStore(t, func(t *testing.T, st app.Store) {
		h := newFileHarness(t, st)
		_, ann := h.user("ann")
		_, bob := h.user("bob")
		_, eve := h.user("eve")
		g := h.group(ann, "files", bob)
		other := h.group(ann, "other")

		// At the limit: fine; one byte over: 413.
		h.uploaded(ann, g, "exact.bin", bytes.Repeat([]byte{0}, testMaxUpload))
		expect(t, h.upload(ann, g, "over.bin", bytes.Repeat([]byte{0}, testMaxUpload+1)), http.StatusRequestEntityTooLarge, "payload_too_large")

		// The type is found from the bytes, not the name; anything is fine
		// as a file, served as an attachment.
		pdf := h.uploaded(ann, g, "report.png", []byte("%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"))
		if pdf.ContentType != "application/pdf" || pdf.Width != nil || pdf.ThumbnailURL != nil {
			t.Errorf("pdf = %+v", pdf)
		}
		html := h.uploaded(ann, g, "page.html", []byte("<html><script>alert(1)</script></html>"))
		if !strings.HasPrefix(html.ContentType, "text/html") {
			t.Errorf("html type %q", html.ContentType)
		}
		r := h.get(fmt.Sprintf("/api/v1/attachments/%d/content", html.ID), ann, nil)
		expect(t, r, http.StatusOK, "")
		if cd := r.header.Get("Content-Disposition"); cd != `attachment; filename=page.html` || r.header.Get("Content-Security-Policy") != "sandbox" {
			t.Errorf("html served with %q, csp %q", cd, r.header.Get("Content-Security-Policy"))
		}
		if _, err := h.svc.Sweep(context.Background()); err != nil {
			t.Fatal(err)
		}

		// A decompression bomb and a broken image: 400.
		bomb := h.upload(ann, g, "bomb.png", pngBomb(t))
		expect(t, bomb, http.StatusBadRequest, "validation_failed")
		expect(t, h.upload(ann, g, "broken.png", pngImage(t, 30, 30, true)[:60]), http.StatusBadRequest, "validation_failed")
		// A PNG with transparency gets a PNG thumbnail.
		clear := h.uploaded(ann, g, "clear.png", pngImage(t, 10, 10, false))
		if r := h.get(*clear.ThumbnailURL, "", nil); r.header.Get("Content-Type") != "image/png" {
			t.Errorf("transparent thumbnail type %q", r.header.Get("Content-Type"))
		}

		// Members only; a body without the file part; not multipart.
		expect(t, h.upload(eve, g, "x.txt", []byte("x")), http.StatusForbidden, "not_member")
		body, ct := multipartBody(t, "other", "x.txt", []byte("x"))
		expect(t, h.send(req{method: "POST", path: fmt.Sprintf("/api/v1/groups/%d/attachments", g), token: ann, body: body,
			header: map[string]string{"Content-Type": ct}}), http.StatusBadRequest, "validation_failed")
		expect(t, h.do("POST", fmt.Sprintf("/api/v1/groups/%d/attachments", g), ann, map[string]any{"file": "x"}),
			http.StatusUnsupportedMediaType, "unsupported_media_type")

		// Foreign attachments: another user's, another group's.
		bobs := h.uploaded(bob, g, "bobs.txt", []byte("bob's"))
		elsewhere := h.uploaded(ann, other, "elsewhere.txt", []byte("elsewhere"))
		for _, id := range []int64{bobs.ID, elsewhere.ID, 999999} {
			res := h.do("POST", fmt.Sprintf("/api/v1/groups/%d/messages", g), ann, map[string]any{"attachment_ids": []int64{id}})
			expect(t, res, http.StatusBadRequest, "validation_failed")
		}
		// Eleven attachments: too many; no body and no attachments: refused.
		ids := make([]int64, 11)
		for i := range ids {
			ids[i] = int64(i + 1)
		}
		expect(t, h.do("POST", fmt.Sprintf("/api/v1/groups/%d/messages", g), ann, map[string]any{"attachment_ids": ids}), http.StatusBadRequest, "validation_failed")
		expect(t, h.do("POST", fmt.Sprintf("/api/v1/groups/%d/messages", g), ann, map[string]any{"body": " ", "attachment_ids": []int64{}}), http.StatusBadRequest, "validation_failed")
	})
}

// A deleted message's files leave the blob store at the next sweep, and
// unsent uploads after a day.
func TestDeletedMessageFilesAreSwept(t *testing.T) {
	forEachStore(t, func(t *testing.T, st app.Store) {
		h := newFileHarness(t, st)
		_, ann := h.user("ann")
		g := h.group(ann, "files")
		a := h.uploaded(ann, g, "pic.png", pngImage(t, 8, 8, true))
		unsent := h.uploaded(ann, g, "later.txt", []byte("never sent"))
		m := h.post(ann, g, map[string]any{"body": "look", "attachment_ids": []int64{a.ID}})
		keys := blobKeys(t, h, a.ID, unsent.ID)
		if len(keys) != 3 {
			t.Fatalf("blob keys = %v, want the picture, its thumbnail and the text", keys)
		}
		expect(t, h.do("DELETE", fmt.Sprintf("/api/v1/messages/%d", m.ID), ann, nil), http.StatusNoContent, "")
		// Gone from the API at once.
		expect(t, h.get(m.Attachments[0].URL, "", nil), http.StatusNotFound, "not_found")
		if n, err := h.svc.Sweep(context.Background()); err != nil || n != 1 {
			t.Fatalf("sweep = %d, %v; want 1", n, err)
		}
		for _, k := range keys[:2] {
			if _, err := h.blobs.Open(context.Background(), k); err == nil {
				t.Errorf("blob %s of the deleted message is still there", k)
			}
		}
		if _, err := h.blobs.Open(context.Background(), keys[2]); err != nil {
			t.Errorf("the unsent upload went before its day: %v", err)
		}
		*h.now = h.now.Add(25 * time.Hour)
		if n, err := h.svc.Sweep(context.Background()); err != nil || n != 1 {
			t.Fatalf("second sweep = %d, %v; want 1", n, err)
		}
		if _, err := h.blobs.Open(context.Background(), keys[2]); err == nil {
			t.Error("the unsent upload outlived its day")
		}
	})
}

// blobKeys reads the keys of attachments from the store.
func blobKeys(t *testing.T, h *fileHarness, ids ...int64) []string {
	t.Helper()
	var keys []string
	for _, id := range ids {
		a, _, err := h.st.AttachmentByID(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{a.Key, a.ThumbKey} {
			if k != "" {
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// A body cut off inside the file is the client's fault: 400, and nothing
// is kept.
func TestTruncatedUpload(t *testing.T) {
	h := newFileHarness(t, storetest.SQLite(t))
	_, ann := h.user("ann")
	g := h.group(ann, "files")
	body, ct := multipartBody(t, "file", "cut.txt", []byte(strings.Repeat("x", 1000)))
	r := h.send(req{method: "POST", path: fmt.Sprintf("/api/v1/groups/%d/attachments", g), token: ann, body: body[:600],
		header: map[string]string{"Content-Type": ct}})
	expect(t, r, http.StatusBadRequest, "validation_failed")
	// No row was made: a day later there is nothing to sweep.
	*h.now = h.now.Add(25 * time.Hour)
	if n, err := h.svc.Sweep(context.Background()); err != nil || n != 0 {
		t.Errorf("sweep after a refused upload: %d, %v", n, err)
	}
}

package httpapi

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/auth"
	"github.com/chatapp/chat/chat"
)

// multipartSlack is what a multipart body may hold beyond its file: the
// boundaries and part headers (the file's own limit is the service's).
const multipartSlack = 64 << 10

// transferTime bounds one upload or download: the server's 30 s read and
// write timeouts suit JSON, not 25 MiB over a phone's link.
const transferTime = 15 * time.Minute

// upload streams the part "file" of a multipart/form-data body to the
// service, which enforces the size limit as the bytes pass. gin's
// ParseMultipartForm is not used: it would buffer the file (in memory or a
// temporary file) before anyone looks at it.
func (a *api) upload(c *gin.Context) {
	gid, ok := a.pathID(c, "id")
	if !ok {
		return
	}
	_ = http.NewResponseController(c.Writer).SetReadDeadline(time.Now().Add(transferTime))
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, a.svc.MaxUpload()+multipartSlack)
	mr, err := c.Request.MultipartReader()
	if err != nil {
		a.fail(c, &chat.Error{Kind: errUnsupportedMedia, Code: "unsupported_media_type", Message: "The body must be multipart/form-data with a part named file."})
		return
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			a.invalid(c, map[string]string{"file": "is required"})
			return
		}
		if err != nil {
			a.fail(c, bodyError(err))
			return
		}
		if part.FormName() != "file" {
			// Other fields are read past (bounded by the body's limit).
			_, _ = io.Copy(io.Discard, part)
			continue
		}
		att, err := a.svc.Upload(c.Request.Context(), uid(c), gid, part.FileName(), part)
		if err != nil {
			a.fail(c, bodyError(err))
			return
		}
		c.JSON(http.StatusCreated, att)
		return
	}
}

// bodyError is err, or 413 when the body went past its limit.
func bodyError(err error) error {
	if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
		return chat.Fail(chat.ErrTooLarge, fmt.Sprintf("The request body may be at most %d bytes.", mbe.Limit))
	}
	return err
}

// download serves an attachment's bytes or thumbnail to a member (bearer
// token) or to a signed link; Range and If-None-Match are http.ServeContent's.
func (a *api) download(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, ok := a.pathID(c, "id")
		if !ok {
			return
		}
		g := app.Grant{Exp: c.Query("exp"), Sig: c.Query("sig")}
		if _, signed := c.GetQuery("sig"); !signed && g.Exp == "" {
			token, _ := auth.BearerToken(c.GetHeader("Authorization"))
			if token == "" {
				a.fail(c, chat.Fail(chat.ErrUnauthorized, "A bearer access token or a signed link is required."))
				return
			}
			uid, err := a.svc.Authenticate(c.Request.Context(), token)
			if err != nil {
				a.fail(c, err)
				return
			}
			g.UserID = uid
		}
		d, err := a.svc.OpenAttachment(c.Request.Context(), id, kind, g)
		if err != nil {
			a.fail(c, err)
			return
		}
		defer d.Close()
		_ = http.NewResponseController(c.Writer).SetWriteDeadline(time.Now().Add(transferTime))
		h := c.Writer.Header()
		h.Set("Content-Type", d.ContentType)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "sandbox")
		h.Set("Cache-Control", "private")
		h.Set("ETag", `"`+d.SHA256+`"`)
		disposition := "attachment"
		if d.Inline {
			disposition = "inline"
		}
		// RFC 6266: mime encodes a name that is not plain ASCII as
		// filename*=utf-8''….
		if cd := mime.FormatMediaType(disposition, map[string]string{"filename": d.Filename}); cd != "" {
			h.Set("Content-Disposition", cd)
		} else {
			h.Set("Content-Disposition", disposition)
		}
		http.ServeContent(&rangeErrors{ResponseWriter: c.Writer}, c.Request, "", d.ModTime(), d)
	}
}

// rangeErrors gives ServeContent's one error answer, 416 for a Range
// outside the file, the JSON error body of every other error.
type rangeErrors struct {
	http.ResponseWriter
	failed bool
}

func (w *rangeErrors) WriteHeader(status int) {
	if status != http.StatusRequestedRangeNotSatisfiable {
		w.ResponseWriter.WriteHeader(status)
		return
	}
	w.failed = true
	h := w.Header()
	h.Set("Content-Type", jsonContentType)
	h.Del("Content-Disposition")
	body := []byte(`{"error":{"code":"range_not_satisfiable","message":"The requested range is not within the file."}}`)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.ResponseWriter.WriteHeader(status)
	_, _ = w.ResponseWriter.Write(body)
}

func (w *rangeErrors) Write(b []byte) (int, error) {
	if w.failed {
		return len(b), nil // ServeContent's plain-text sentence
	}
	return w.ResponseWriter.Write(b)
}

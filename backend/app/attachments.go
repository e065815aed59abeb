package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/chatapp/chat/blob"
	"github.com/chatapp/chat/chat"
	"github.com/chatapp/chat/media"
)

// Attachments: an upload is streamed to Blobs as it arrives (never whole in
// memory), its type found from its bytes (package media), and recorded
// unsent; a send names it (attachment_ids) and the group commit makes it
// the message's. Unsent uploads after UnsentTTL and the files of deleted
// messages go by Sweep.

// DefaultMaxUpload is CHAT_MAX_UPLOAD's default.
const DefaultMaxUpload = 25 << 20

// UnsentTTL is how long an upload waits for a message to be sent in.
const UnsentTTL = 24 * time.Hour

// Upload stores a file a member uploads to a group: at most the configured
// MaxUpload bytes (beyond: chat.ErrTooLarge, found while streaming), its
// content type from its bytes; a raster image gets its size and a
// thumbnail, and one too large to decode or broken is refused (400).
func (s *Service) Upload(ctx context.Context, uid, gid int64, filename string, body io.Reader) (chat.Attachment, error) {
	if s.Blobs == nil {
		return chat.Attachment{}, errors.New("upload: no blob store configured")
	}
	name, nameErr := chat.NormalizeFilename(filename)
	if nameErr != nil {
		return chat.Attachment{}, nameErr
	}
	if _, err := s.member(ctx, uid, gid); err != nil {
		return chat.Attachment{}, err
	}
	key, err := s.blobKey()
	if err != nil {
		return chat.Attachment{}, err
	}
	up := media.NewUpload(body, s.cfg.MaxUpload)
	size, err := s.Blobs.Put(ctx, key, up)
	if err != nil {
		if tl := (*media.TooLargeError)(nil); errors.As(err, &tl) {
			return chat.Attachment{}, chat.Fail(chat.ErrTooLarge, fmt.Sprintf("A file may be at most %d bytes.", s.cfg.MaxUpload))
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			// The client's body ended inside the file: its fault, not ours.
			return chat.Attachment{}, chat.Invalid(map[string]string{"file": "ended before its multipart boundary"})
		}
		return chat.Attachment{}, fmt.Errorf("upload: store bytes: %w", err)
	}
	a := chat.Attachment{
		GroupID: gid, UploaderID: uid, Filename: name, ContentType: up.ContentType(), Size: size,
		SHA256: up.SHA256(), Key: key, CreatedAt: s.now(),
	}
	if media.Raster(a.ContentType) {
		if err := s.inspect(ctx, &a); err != nil {
			s.dropBlobs(ctx, a)
			return chat.Attachment{}, err
		}
	}
	if err := s.Store.CreateAttachment(ctx, &a); err != nil {
		s.dropBlobs(ctx, a)
		return chat.Attachment{}, fmt.Errorf("upload: %w", err)
	}
	return s.Presenter().Attachment(a), nil
}

// inspect reads an uploaded raster image back for its size and thumbnail.
func (s *Service) inspect(ctx context.Context, a *chat.Attachment) error {
	obj, err := s.Blobs.Open(ctx, a.Key)
	if err != nil {
		return fmt.Errorf("upload: read back: %w", err)
	}
	img, err := media.Inspect(obj, a.ContentType)
	_ = obj.Close()
	switch {
	case errors.Is(err, media.ErrTooManyPixels):
		return chat.Invalid(map[string]string{"file": fmt.Sprintf("an image may have at most %d pixels", media.MaxPixels)})
	case errors.Is(err, media.ErrBadImage):
		return chat.Invalid(map[string]string{"file": "is not a whole " + a.ContentType + " image"})
	case err != nil:
		return fmt.Errorf("upload: inspect: %w", err)
	}
	a.Width, a.Height = &img.Width, &img.Height
	a.ThumbKey = a.Key + ".thumb"
	if _, err := s.Blobs.Put(ctx, a.ThumbKey, bytes.NewReader(img.Thumbnail)); err != nil {
		return fmt.Errorf("upload: store thumbnail: %w", err)
	}
	return nil
}

// blobKey is a fresh random key: the bytes are stored before the row that
// would give them an id.
func (s *Service) blobKey() (string, error) {
	src := s.Rand
	if src == nil {
		src = rand.Reader
	}
	var b [16]byte
	if _, err := io.ReadFull(src, b[:]); err != nil {
		return "", fmt.Errorf("upload: key: %w", err)
	}
	return "a-" + hex.EncodeToString(b[:]), nil
}

// dropBlobs deletes what an upload that failed had stored; the sweeper
// never sees these (no row), so a failure is only logged.
func (s *Service) dropBlobs(ctx context.Context, a chat.Attachment) {
	ctx = context.WithoutCancel(ctx)
	for _, k := range []string{a.Key, a.ThumbKey} {
		if k == "" {
			continue
		}
		if err := s.Blobs.Delete(ctx, k); err != nil {
			s.Log.WarnContext(ctx, "delete blob of a failed upload", "key", k, "err", err)
		}
	}
}

// Download is an attachment's bytes (or thumbnail) ready to serve.
type Download struct {
	blob.Object
	ContentType string
	Filename    string
	SHA256      string
	// Inline: a raster image, shown in the page; anything else is
	// downloaded as a file.
	Inline bool
}

// Grant is how a download is allowed: by the caller's membership (UserID,
// from a bearer token) or by a signed link (Exp, Sig).
type Grant struct {
	UserID   int64
	Exp, Sig string
}

// OpenAttachment opens an attachment's bytes (kind LinkContent) or
// thumbnail (LinkThumbnail) for a member of its group (an unsent upload:
// for its uploader) or for a valid signed link. A link that is invalid or
// expired is 401, like a missing token; the caller closes the Download.
func (s *Service) OpenAttachment(ctx context.Context, id int64, kind string, g Grant) (Download, error) {
	if s.Blobs == nil {
		return Download{}, errors.New("download: no blob store configured")
	}
	signed := g.Sig != "" || g.Exp != ""
	if signed && (s.Links == nil || !s.Links.Valid(AttachmentPath(id, kind), g.Exp, g.Sig, s.now())) {
		return Download{}, chat.Fail(chat.ErrUnauthorized, "The link is invalid or has expired.")
	}
	if !signed && g.UserID == 0 {
		return Download{}, chat.Fail(chat.ErrUnauthorized, "A bearer access token or a signed link is required.")
	}
	a, messageDeleted, err := s.Store.AttachmentByID(ctx, id)
	if err != nil {
		return Download{}, orNotFound(err, "download", "attachment")
	}
	if messageDeleted {
		return Download{}, notFound("attachment")
	}
	if !signed {
		if _, err := s.member(ctx, g.UserID, a.GroupID); err != nil {
			return Download{}, err
		}
		if a.MessageID == nil && a.UploaderID != g.UserID {
			return Download{}, notFound("attachment")
		}
	}
	d := Download{ContentType: a.ContentType, Filename: a.Filename, SHA256: a.SHA256, Inline: media.Raster(a.ContentType)}
	key := a.Key
	if kind == LinkThumbnail {
		if a.ThumbKey == "" {
			return Download{}, notFound("thumbnail")
		}
		key, d.Filename, d.Inline = a.ThumbKey, "thumbnail-"+a.Filename, true
		d.SHA256 += "-thumb"
		d.ContentType = thumbType
	}
	obj, err := s.Blobs.Open(ctx, key)
	if errors.Is(err, blob.ErrNotFound) {
		return Download{}, notFound("attachment")
	}
	if err != nil {
		return Download{}, fmt.Errorf("download: %w", err)
	}
	d.Object = obj
	if kind == LinkThumbnail {
		d.ContentType = sniffThumb(obj)
	}
	return d, nil
}

// thumbType is a thumbnail's type until its first bytes say which.
const thumbType = "image/jpeg"

// sniffThumb tells a PNG thumbnail (of an image with transparency) from a
// JPEG one by its signature, and rewinds.
func sniffThumb(obj blob.Object) string {
	var sig [4]byte
	n, _ := io.ReadFull(obj, sig[:])
	_, _ = obj.Seek(0, io.SeekStart)
	if n == 4 && string(sig[:]) == "\x89PNG" {
		return "image/png"
	}
	return thumbType
}

// Sweep deletes the bytes, then the records, of attachments unsent for
// UnsentTTL and of deleted messages or groups, a batch at a time, until
// none is left; it returns how many went. Several instances may sweep at
// once: each claims its own rows (Store.ClaimSweepable).
func (s *Service) Sweep(ctx context.Context) (int, error) {
	if s.Blobs == nil {
		return 0, nil
	}
	const batch, lease = 100, 5 * time.Minute
	total := 0
	for {
		now := s.now()
		claimed, err := s.Store.ClaimSweepable(ctx, now, now.Add(-UnsentTTL), lease, batch)
		if err != nil {
			return total, fmt.Errorf("sweep: %w", err)
		}
		var done []int64
		for _, a := range claimed {
			if err := s.deleteBlobs(ctx, a); err != nil {
				// Left claimed: tried again once the lease ends.
				s.Log.WarnContext(ctx, "sweep: delete blobs", "attachment", a.ID, "err", err)
				continue
			}
			done = append(done, a.ID)
		}
		if err := s.Store.DeleteAttachments(ctx, done); err != nil {
			return total, fmt.Errorf("sweep: %w", err)
		}
		total += len(done)
		if len(claimed) < batch || len(done) == 0 {
			return total, nil
		}
	}
}

func (s *Service) deleteBlobs(ctx context.Context, a chat.Attachment) error {
	for _, k := range []string{a.ThumbKey, a.Key} {
		if k == "" {
			continue
		}
		if err := s.Blobs.Delete(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

// RunSweeper sweeps every interval until ctx ends (cmd/chatd runs it for
// the server's life). A failed sweep is logged and tried at the next tick.
func (s *Service) RunSweeper(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.Log.WarnContext(ctx, "attachment sweep failed", "err", err)
		} else if n > 0 {
			s.Log.InfoContext(ctx, "attachments swept", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// MaxUpload is the largest attachment in bytes.
func (s *Service) MaxUpload() int64 { return s.cfg.MaxUpload }

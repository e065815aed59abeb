package media

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"mime"

	"golang.org/x/image/draw"
	"golang.org/x/image/webp"
)

var (
	// ErrNotRaster: Inspect was given a content type it does not decode.
	ErrNotRaster = errors.New("media: not a raster image")
	// ErrTooManyPixels: the header claims more than MaxPixels (the HTTP
	// layer answers 400); nothing was decoded.
	ErrTooManyPixels = errors.New("media: image has too many pixels")
	// ErrBadImage: the bytes are not a whole image of their type (truncated,
	// corrupt).
	ErrBadImage = errors.New("media: broken image")
)

// MaxPixels bounds what Inspect decodes. At most 8 bytes a pixel (16-bit
// RGBA PNG) that is 400 MB, and 75 MB for a photo (YCbCr JPEG); it admits
// the photos of every current phone camera.
const MaxPixels = 50_000_000

// ThumbnailBox is the largest thumbnail: it fits in ThumbnailBox×ThumbnailBox.
const ThumbnailBox = 320

// jpegQuality is enough for a thumbnail that is not larger than it must be.
const jpegQuality = 85

type codec struct {
	config func(io.Reader) (image.Config, error)
	decode func(io.Reader) (image.Image, error)
}

// codecs are the raster formats, by the content type Upload finds. Choosing
// the decoder from the sniffed type (not image.Decode's registry) keeps
// every other format away from a decoder.
var codecs = map[string]codec{
	"image/png":              {png.DecodeConfig, png.Decode},
	"image/vnd.mozilla.apng": {png.DecodeConfig, png.Decode}, // its default image
	"image/jpeg":             {jpeg.DecodeConfig, jpeg.Decode},
	"image/gif":              {gif.DecodeConfig, gif.Decode}, // the first frame
	"image/webp":             {webp.DecodeConfig, webp.Decode},
}

// Raster reports whether contentType is an image Inspect decodes: the ones
// that get width, height and a thumbnail, and are served inline.
func Raster(contentType string) bool {
	_, ok := codecs[baseType(contentType)]
	return ok
}

func baseType(contentType string) string {
	t, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	return t
}

// Image is what Inspect finds.
type Image struct {
	Width, Height int
	Thumbnail     []byte
	ThumbnailType string // "image/jpeg" (opaque) or "image/png"
}

// Inspect decodes the image in r, of the given content type (from Upload),
// and makes its thumbnail: the whole image scaled to fit ThumbnailBox, never
// enlarged. The header is read first: an image of more than MaxPixels fails
// with ErrTooManyPixels before any pixel memory is allocated.
func Inspect(r io.Reader, contentType string) (img Image, err error) {
	c, ok := codecs[baseType(contentType)]
	if !ok {
		return Image{}, fmt.Errorf("%w: %q", ErrNotRaster, contentType)
	}
	src := &source{r: r}
	var head bytes.Buffer
	cfg, err := c.config(io.TeeReader(src, &head))
	if err != nil {
		return Image{}, src.blame(err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return Image{}, fmt.Errorf("%w: %d×%d", ErrBadImage, cfg.Width, cfg.Height)
	}
	if int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return Image{}, fmt.Errorf("%w: %d×%d is over %d", ErrTooManyPixels, cfg.Width, cfg.Height, MaxPixels)
	}
	// The decoders are fuzzed but old bugs made some panic on crafted input;
	// a broken upload must not take the server down.
	defer func() {
		if p := recover(); p != nil {
			img, err = Image{}, fmt.Errorf("%w: decoder panic: %v", ErrBadImage, p)
		}
	}()
	m, err := c.decode(io.MultiReader(&head, src))
	if err != nil {
		return Image{}, src.blame(err)
	}
	thumb, typ, err := thumbnail(m, cfg.Width, cfg.Height)
	if err != nil {
		return Image{}, err
	}
	return Image{Width: cfg.Width, Height: cfg.Height, Thumbnail: thumb, ThumbnailType: typ}, nil
}

// source tells a failure to read (the store's, answered 500) from bytes
// that are not an image (the client's, answered 400).
type source struct {
	r   io.Reader
	err error
}

func (s *source) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		s.err = err
	}
	return n, err
}

func (s *source) blame(decodeErr error) error {
	if s.err != nil {
		return fmt.Errorf("media: read image: %w", s.err)
	}
	return fmt.Errorf("%w: %w", ErrBadImage, decodeErr)
}

// thumbnail scales src, whose canvas is w×h (a GIF's first frame may cover
// only part of it; the rest stays transparent), and encodes it.
func thumbnail(src image.Image, w, h int) ([]byte, string, error) {
	tw, th := fit(w, h, ThumbnailBox)
	dst := image.NewRGBA(image.Rect(0, 0, tw, th))
	sb := src.Bounds()
	db := image.Rect(sb.Min.X*tw/w, sb.Min.Y*th/h, sb.Max.X*tw/w, sb.Max.Y*th/h)
	draw.CatmullRom.Scale(dst, db, src, sb, draw.Src, nil)
	var buf bytes.Buffer
	if dst.Opaque() {
		if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: jpegQuality}); err != nil {
			return nil, "", fmt.Errorf("media: encode thumbnail: %w", err)
		}
		return buf.Bytes(), "image/jpeg", nil
	}
	if err := png.Encode(&buf, dst); err != nil {
		return nil, "", fmt.Errorf("media: encode thumbnail: %w", err)
	}
	return buf.Bytes(), "image/png", nil
}

// fit returns w×h scaled to fit box×box keeping the aspect ratio, never
// enlarged and never below 1 pixel.
func fit(w, h, box int) (int, int) {
	if w <= box && h <= box {
		return w, h
	}
	if w >= h {
		return box, max(1, (h*box+w/2)/w)
	}
	return max(1, (w*box+h/2)/h), box
}

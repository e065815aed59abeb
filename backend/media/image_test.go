package media_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/chatapp/chat/media"
)

var (
	red  = color.RGBA{R: 255, A: 255}
	blue = color.RGBA{B: 255, A: 255}
)

func solid(w, h int, c color.Color) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.Set(x, y, c)
		}
	}
	return m
}

// noisy is an image that does not compress, so that cutting its encoding
// in half cuts into the pixels.
func noisy(w, h int) *image.NRGBA {
	r := rand.New(rand.NewPCG(1, 2))
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range m.Pix {
		m.Pix[i] = byte(r.Uint32())
	}
	for i := 3; i < len(m.Pix); i += 4 {
		m.Pix[i] = 255
	}
	return m
}

func encPNG(t *testing.T, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encJPEG(t *testing.T, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encGIF(t *testing.T, g *gif.GIF) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func paletted(r image.Rectangle, c color.Color, pal color.Palette) *image.Paletted {
	m := image.NewPaletted(r, pal)
	idx := uint8(pal.Index(c))
	for i := range m.Pix {
		m.Pix[i] = idx
	}
	return m
}

// animated is a 200×100 GIF: a red frame, then a blue one.
func animated(t *testing.T) []byte {
	r := image.Rect(0, 0, 200, 100)
	return encGIF(t, &gif.GIF{
		Image: []*image.Paletted{paletted(r, red, palette.Plan9), paletted(r, blue, palette.Plan9)},
		Delay: []int{10, 10},
	})
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Each format gives its size and a thumbnail that fits 320×320, keeps the
// aspect ratio, is never enlarged, and is a JPEG unless it has transparency.
func TestInspectFormats(t *testing.T) {
	transparent := solid(100, 50, color.NRGBA{R: 255, A: 128})
	// A GIF whose first frame covers the left half of the screen only.
	half := encGIF(t, &gif.GIF{
		Image:  []*image.Paletted{paletted(image.Rect(0, 0, 500, 1000), red, palette.Plan9)},
		Delay:  []int{0},
		Config: image.Config{Width: 1000, Height: 1000, ColorModel: color.Palette(palette.Plan9)},
	})
	cases := []struct {
		name        string
		data        []byte
		w, h        int
		tw, th      int
		thumbType   string
		centre      color.Color // of the thumbnail, when the image is one colour
		transparent bool        // the thumbnail's right half
	}{
		{"png opaque", encPNG(t, solid(640, 480, red)), 640, 480, 320, 240, "image/jpeg", red, false},
		{"png alpha", encPNG(t, transparent), 100, 50, 100, 50, "image/png", color.NRGBA{R: 255, A: 128}, false},
		{"jpeg portrait", encJPEG(t, solid(300, 1000, blue)), 300, 1000, 96, 320, "image/jpeg", blue, false},
		{"jpeg small", encJPEG(t, solid(40, 30, red)), 40, 30, 40, 30, "image/jpeg", red, false},
		{"gif animated: first frame", animated(t), 200, 100, 200, 100, "image/jpeg", red, false},
		{"gif partial first frame", half, 1000, 1000, 320, 320, "image/png", nil, true},
		{"webp lossy", readFile(t, "blue-purple-pink.lossy.webp"), 150, 100, 150, 100, "image/jpeg", nil, false},
		{"webp lossy alpha", readFile(t, "yellow_rose.lossy-with-alpha.webp"), 400, 301, 320, 241, "image/png", nil, false},
		{"webp lossless alpha", readFile(t, "gopher-doc.with-alpha.lossless.webp"), 75, 100, 75, 100, "image/png", nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := media.NewUpload(bytes.NewReader(c.data), 1<<20)
			if _, err := io.Copy(io.Discard, u); err != nil {
				t.Fatal(err)
			}
			ct := u.ContentType()
			if !media.Raster(ct) {
				t.Fatalf("content type %q is not raster", ct)
			}
			img, err := media.Inspect(bytes.NewReader(c.data), ct)
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			if img.Width != c.w || img.Height != c.h {
				t.Fatalf("size %d×%d, want %d×%d", img.Width, img.Height, c.w, c.h)
			}
			if img.ThumbnailType != c.thumbType {
				t.Fatalf("thumbnail type %s, want %s", img.ThumbnailType, c.thumbType)
			}
			// The thumbnail is what it says it is.
			tu := media.NewUpload(bytes.NewReader(img.Thumbnail), 1<<20)
			io.Copy(io.Discard, tu)
			if tu.ContentType() != c.thumbType {
				t.Fatalf("thumbnail bytes are %s, labelled %s", tu.ContentType(), c.thumbType)
			}
			th, _, err := image.Decode(bytes.NewReader(img.Thumbnail))
			if err != nil {
				t.Fatalf("thumbnail does not decode: %v", err)
			}
			if b := th.Bounds(); b.Dx() != c.tw || b.Dy() != c.th {
				t.Fatalf("thumbnail %d×%d, want %d×%d", b.Dx(), b.Dy(), c.tw, c.th)
			}
			if c.centre != nil {
				assertNear(t, th.At(c.tw/2, c.th/2), c.centre)
			}
			if c.transparent {
				assertNear(t, th.At(c.tw/4, c.th/2), red)
				if _, _, _, a := th.At(c.tw*3/4, c.th/2).RGBA(); a != 0 {
					t.Fatalf("the part of the screen the frame does not cover has alpha %d", a)
				}
			}
		})
	}
}

func assertNear(t *testing.T, got, want color.Color) {
	t.Helper()
	g := color.NRGBAModel.Convert(got).(color.NRGBA)
	w := color.NRGBAModel.Convert(want).(color.NRGBA)
	d := func(a, b uint8) int { return max(int(a)-int(b), int(b)-int(a)) }
	if d(g.R, w.R) > 8 || d(g.G, w.G) > 8 || d(g.B, w.B) > 8 || d(g.A, w.A) > 8 {
		t.Fatalf("colour %v, want about %v", g, w)
	}
}

// Headers that claim a huge image are refused before decoding allocates:
// decoding them would ask for gigabytes.
func TestInspectRefusesPixelBombs(t *testing.T) {
	cases := []struct {
		name, contentType string
		data              []byte
		want              error
	}{
		{"png 100000×100000", "image/png", pngClaiming(t, 100_000, 100_000), media.ErrTooManyPixels},
		{"png 50001×1000", "image/png", pngClaiming(t, 50_001, 1000), media.ErrTooManyPixels},
		{"jpeg 65000×65000", "image/jpeg", jpegClaiming(t, 65_000, 65_000), media.ErrTooManyPixels},
		{"gif screen 65535×65535", "image/gif", gifScreen(t, 65_535, 65_535), media.ErrTooManyPixels},
		// A small screen with a huge frame gets past the pixel count; the
		// decoder must refuse the frame before allocating it.
		{"gif frame 60000×60000 on a 10×10 screen", "image/gif", gifFrame(t, 60_000, 60_000), media.ErrBadImage},
		{"webp canvas 16384×16384", "image/webp", webpCanvas(t, 16_384, 16_384), media.ErrTooManyPixels},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := media.Inspect(bytes.NewReader(c.data), c.contentType)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, c.want) {
				t.Fatalf("Inspect = %v, want %v", err, c.want)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
				t.Fatalf("refusing it allocated %d KiB", alloc>>10)
			}
		})
	}
}

// pngClaiming is a valid 1×1 PNG whose header claims w×h.
func pngClaiming(t *testing.T, w, h uint32) []byte {
	b := encPNG(t, solid(1, 1, red))
	// 8-byte signature, then IHDR: length, "IHDR", width, height, …, CRC.
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

func jpegClaiming(t *testing.T, w, h uint16) []byte {
	b := encJPEG(t, solid(8, 8, red))
	i := bytes.Index(b, []byte{0xFF, 0xC0}) // SOF0: length, precision, height, width
	if i < 0 {
		t.Fatal("no SOF0 marker")
	}
	binary.BigEndian.PutUint16(b[i+5:], h)
	binary.BigEndian.PutUint16(b[i+7:], w)
	return b
}

func gifScreen(t *testing.T, w, h uint16) []byte {
	b := encGIF(t, &gif.GIF{Image: []*image.Paletted{paletted(image.Rect(0, 0, 1, 1), red, palette.Plan9)}, Delay: []int{0}})
	binary.LittleEndian.PutUint16(b[6:], w) // logical screen descriptor
	binary.LittleEndian.PutUint16(b[8:], h)
	return b
}

func gifFrame(t *testing.T, w, h uint16) []byte {
	b := encGIF(t, &gif.GIF{Image: []*image.Paletted{paletted(image.Rect(0, 0, 10, 10), red, palette.Plan9)}, Delay: []int{0}})
	i := 13 // header and logical screen descriptor
	if b[10]&0x80 != 0 {
		i += 3 << (b[10]&7 + 1) // global colour table
	}
	for b[i] == 0x21 { // extensions: label, then sub-blocks up to an empty one
		i += 2
		for b[i] != 0 {
			i += int(b[i]) + 1
		}
		i++
	}
	if b[i] != 0x2C {
		t.Fatalf("no image descriptor at %d", i)
	}
	binary.LittleEndian.PutUint16(b[i+5:], w)
	binary.LittleEndian.PutUint16(b[i+7:], h)
	return b
}

func webpCanvas(t *testing.T, w, h uint32) []byte {
	b := readFile(t, "yellow_rose.lossy-with-alpha.webp")
	if string(b[12:16]) != "VP8X" {
		t.Fatal("no VP8X chunk")
	}
	put24 := func(p []byte, v uint32) { p[0], p[1], p[2] = byte(v), byte(v>>8), byte(v>>16) }
	put24(b[24:], w-1) // chunk data at 20: flags, reserved, width-1, height-1
	put24(b[27:], h-1)
	return b
}

func TestInspectRefusesBrokenImages(t *testing.T) {
	whole := map[string][]byte{
		"image/png":  encPNG(t, noisy(64, 64)),
		"image/jpeg": encJPEG(t, noisy(64, 64)),
		"image/gif":  animated(t),
		"image/webp": readFile(t, "blue-purple-pink.lossy.webp"),
	}
	for ct, data := range whole {
		for _, cut := range []int{len(data) / 2, 20} {
			if _, err := media.Inspect(bytes.NewReader(data[:cut]), ct); !errors.Is(err, media.ErrBadImage) {
				t.Errorf("%s cut to %d of %d bytes: %v, want ErrBadImage", ct, cut, len(data), err)
			}
		}
	}
	if _, err := media.Inspect(strings.NewReader("this is not a PNG at all"), "image/png"); !errors.Is(err, media.ErrBadImage) {
		t.Errorf("text labelled PNG: %v, want ErrBadImage", err)
	}
	if _, err := media.Inspect(bytes.NewReader(pngClaiming(t, 0, 10)), "image/png"); !errors.Is(err, media.ErrBadImage) {
		t.Errorf("PNG of width 0: %v, want ErrBadImage", err)
	}
}

func TestInspectRefusesNonRaster(t *testing.T) {
	for _, ct := range []string{"text/plain; charset=utf-8", "application/pdf", "image/svg+xml", "image/tiff", "", "not a type"} {
		if _, err := media.Inspect(strings.NewReader("whatever"), ct); !errors.Is(err, media.ErrNotRaster) {
			t.Errorf("Inspect(%q) = %v, want ErrNotRaster", ct, err)
		}
		if media.Raster(ct) {
			t.Errorf("Raster(%q) = true", ct)
		}
	}
}

// A store that fails mid-read is the server's failure, not a bad image.
func TestInspectReportsReadFailures(t *testing.T) {
	boom := errors.New("connection reset")
	data := encPNG(t, noisy(64, 64))
	r := io.MultiReader(bytes.NewReader(data[:len(data)/2]), iotest.ErrReader(boom))
	_, err := media.Inspect(r, "image/png")
	if !errors.Is(err, boom) || errors.Is(err, media.ErrBadImage) {
		t.Fatalf("Inspect = %v, want the read error and not ErrBadImage", err)
	}
}

// A 12-megapixel photo, the common phone camera: on the 2-core machine of
// this project about 0.9 s and 50 MB, over half of it in scaling from YCbCr.
func BenchmarkInspectPhoto(b *testing.B) {
	m := image.NewRGBA(image.Rect(0, 0, 4000, 3000))
	for i := range m.Pix {
		m.Pix[i] = byte(i * 7 / 3)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, nil); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := media.Inspect(bytes.NewReader(buf.Bytes()), "image/jpeg"); err != nil {
			b.Fatal(err)
		}
	}
}

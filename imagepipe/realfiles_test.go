package imagepipe

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"log/slog"
	"os"
	"strings"
	"testing"

	"golang.org/x/image/tiff"
)

// The fast path (system libjpeg-turbo and libheif) must be there under CI
// in a normal build; -tags nodynamic is the pure-Go path, run by .ci/run
// on the same tests.
func TestFastPathPresent(t *testing.T) {
	if !nativeBuild() {
		t.Skip("built with -tags nodynamic: the pure-Go path is under test")
	}
	if testPipe.native.turboVersion() == "" || testPipe.native.heifNativeVersion() == "" {
		msg := "system libjpeg-turbo/libheif not loaded (Debian: apt-get install libturbojpeg0 libheif1)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

func fastJPEG() bool { return testPipe.native.turboVersion() != "" }
func fastHEIF() bool { return testPipe.native.heifNativeVersion() != "" }

// checkWithin compares the centre of each quarter of the output's colour
// channels (alpha ignored: the colour a model that ignores alpha sees)
// within tol per channel.
func checkWithin(t *testing.T, res *Result, want quadrants, tol int) {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(res.Data))
	if err != nil {
		t.Fatalf("decode output: %v", err)
	}
	n := image.NewNRGBA(img.Bounds())
	draw.Draw(n, n.Rect, img, img.Bounds().Min, draw.Src)
	b := n.Rect
	pts := [4]image.Point{
		{b.Dx() / 4, b.Dy() / 4}, {3 * b.Dx() / 4, b.Dy() / 4},
		{b.Dx() / 4, 3 * b.Dy() / 4}, {3 * b.Dx() / 4, 3 * b.Dy() / 4},
	}
	for i, p := range pts {
		got := n.NRGBAAt(p.X, p.Y)
		w := want[i]
		for c, pair := range [][2]uint8{{got.R, w.R}, {got.G, w.G}, {got.B, w.B}} {
			if d := int(pair[0]) - int(pair[1]); d > tol || -d > tol {
				t.Errorf("quarter %d pixel %v channel %d = %v, want %v ±%d", i, p, c, got, w, tol)
				break
			}
		}
	}
}

func prepareT(t *testing.T, data []byte, opt Options) *Result {
	t.Helper()
	res, err := testPipe.Prepare(context.Background(), data, opt)
	if err != nil {
		t.Fatalf("Prepare: %v (user sees %q)", err, UserMessage(err))
	}
	return res
}

func TestHEIFClasses(t *testing.T) {
	if !fastHEIF() {
		t.Skip("the WebAssembly libheif (pure-Go build) does not read these variants right; see README")
	}
	clearQ := quadrants{white, green, white, green} // transparent left half on white
	tests := []struct {
		file string
		want quadrants
		fmt  string
	}{
		{"mif1.heic", colourQuad, FormatJPEG},             // major brand mif1 ("maybe" to heif_check_filetype)
		{"pixi-one-channel.heic", colourQuad, FormatJPEG}, // pixi declares 1 channel, the image is colour
		{"limited-range.heic", grayQuad, FormatJPEG},      // full_range_flag 0
		{"alpha.heic", clearQ, FormatPNG},                 // alpha auxiliary image, kept over white
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			res := prepareT(t, readTestdata(t, tt.file), DefaultOptions())
			if res.Format != tt.fmt || res.Width != 128 || res.Height != 96 {
				t.Errorf("got %s %dx%d, want %s 128x96", res.Format, res.Width, res.Height, tt.fmt)
			}
			checkWithin(t, res, tt.want, 6)
		})
	}
}

func TestWebPClasses(t *testing.T) {
	// Lossy WebP is limited-range: read as full range, 60 came out ~68 and 240 ~222.
	res := prepareT(t, readTestdata(t, "gray-quadrants.webp"), DefaultOptions())
	checkWithin(t, res, grayQuad, 4)

	// Animated WebP: the first frame (the gray quadrants), not an error.
	res = prepareT(t, readTestdata(t, "animated.webp"), DefaultOptions())
	if res.Width != 128 || res.Height != 96 {
		t.Errorf("animated: %dx%d, want 128x96", res.Width, res.Height)
	}
	checkWithin(t, res, grayQuad, 6)
}

func TestGIFOffsetFrame(t *testing.T) {
	// Pillow's first_frame_transparency.gif: a 50×50 first frame at (25,0) on a 75×50 screen.
	res := prepareT(t, readTestdata(t, "first_frame_transparency.gif"), DefaultOptions())
	if res.Width != 75 || res.Height != 50 {
		t.Errorf("real gif: %dx%d, want the 75x50 canvas", res.Width, res.Height)
	}

	// Our own: a red 40×30 frame at (40,30) on an 80×60 screen; the rest is
	// transparent and comes out white.
	pal := color.Palette{red, clear0}
	frame := image.NewPaletted(image.Rect(40, 30, 80, 60), pal)
	var buf bytes.Buffer
	g := &gif.GIF{Image: []*image.Paletted{frame}, Delay: []int{0},
		Config: image.Config{ColorModel: pal, Width: 80, Height: 60}}
	if err := gif.EncodeAll(&buf, g); err != nil {
		t.Fatal(err)
	}
	res = prepareT(t, buf.Bytes(), DefaultOptions())
	if res.Width != 80 || res.Height != 60 {
		t.Fatalf("own gif: %dx%d, want 80x60", res.Width, res.Height)
	}
	checkWithin(t, res, quadrants{white, white, white, red}, 6)
}

func TestTIFF(t *testing.T) {
	var buf bytes.Buffer
	if err := tiff.Encode(&buf, quad(128, 96, colourQuad), &tiff.Options{Compression: tiff.Deflate}); err != nil {
		t.Fatal(err)
	}
	res := prepareT(t, buf.Bytes(), DefaultOptions())
	if res.Input.Format != FormatTIFF || res.Width != 128 {
		t.Errorf("got %s %dx%d", res.Input.Format, res.Width, res.Height)
	}
	checkWithin(t, res, colourQuad, 6)
}

// rleBMP is a 4×2 8-bit BMP with RLE8 compression.
func rleBMP() []byte {
	le := func(v uint32, n int) []byte {
		b := make([]byte, n)
		for i := range n {
			b[i] = byte(v >> (8 * i))
		}
		return b
	}
	pal := []byte{0, 0, 255, 0, 255, 0, 0, 0}   // red, blue (BGRA)
	rle := []byte{4, 0, 0, 0, 4, 1, 0, 0, 0, 1} // row of 0s, eol, row of 1s, eob
	off := uint32(14 + 40 + len(pal))
	var b []byte
	b = append(b, 'B', 'M')
	b = append(b, le(off+uint32(len(rle)), 4)...)
	b = append(b, le(0, 4)...)
	b = append(b, le(off, 4)...)
	b = append(b, le(40, 4)...)
	b = append(b, le(4, 4)...)
	b = append(b, le(2, 4)...)
	b = append(b, le(1, 2)...)
	b = append(b, le(8, 2)...)
	b = append(b, le(1, 4)...) // BI_RLE8
	b = append(b, le(uint32(len(rle)), 4)...)
	b = append(b, le(0, 16)...)
	b = append(b, pal...)
	return append(b, rle...)
}

func TestVariantsNamed(t *testing.T) {
	_, err := testPipe.Prepare(context.Background(), rleBMP(), DefaultOptions())
	if !errors.Is(err, ErrUnknownFormat) || !strings.Contains(UserMessage(err), "RLE-compressed BMP") {
		t.Errorf("RLE BMP: err %v, user sees %q", err, UserMessage(err))
	}
}

func TestArithmeticJPEG(t *testing.T) {
	data := readTestdata(t, "testimgari.jpg") // libjpeg-turbo's testimages, 227×149
	res, err := testPipe.Prepare(context.Background(), data, DefaultOptions())
	if !fastJPEG() {
		if !errors.Is(err, ErrUnknownFormat) || !strings.Contains(UserMessage(err), "arithmetic-coded JPEG") {
			t.Errorf("pure Go: err %v, user sees %q", err, UserMessage(err))
		}
		return
	}
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	if res.Width != 227 || res.Height != 149 {
		t.Errorf("%dx%d, want 227x149", res.Width, res.Height)
	}
}

// A JPEG whose scan breaks off: libjpeg fills the rest and warns, and so
// must we (a user cannot fix it by resending).
func TestRecoverableJPEG(t *testing.T) {
	full := jpegBytes(t, noisy(quad(256, 192, colourQuad)))
	cut := full[:len(full)*3/4]
	var logs bytes.Buffer
	opt := DefaultOptions()
	opt.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	res, err := testPipe.Prepare(context.Background(), cut, opt)
	if !fastJPEG() {
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("pure Go: err %v, want ErrCorrupt", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	if res.Warning == "" || !strings.Contains(logs.String(), "damaged image decoded anyway") {
		t.Errorf("warning %q, log %q", res.Warning, logs.String())
	}
	checkWithin(t, res, quadrants{red, green, gray2, gray2}, 60) // top half intact
}

func TestTransparentMatteWhite(t *testing.T) {
	half := quadrants{red, clear0, blue, clear0}
	res := prepareT(t, pngBytes(t, quad(300, 200, half)), Options{MaxSide: 150})
	if res.Format != FormatPNG {
		t.Fatalf("format %s, want png", res.Format)
	}
	checkWithin(t, res, quadrants{red, white, blue, white}, 2)
}

package imagepipe

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"runtime"
	"strings"
	"testing"

	"github.com/disintegration/imaging"
	"golang.org/x/image/bmp"
)

func TestPrepareFormats(t *testing.T) {
	big := quad(600, 400, colourQuad)
	small := quad(96, 64, colourQuad)
	pal := color.Palette{red, green, blue, yellow}
	gifData := func(m *image.NRGBA) []byte {
		var buf bytes.Buffer
		if err := gif.Encode(&buf, toPaletted(m, pal), nil); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	bmpData := func(m *image.NRGBA) []byte {
		var buf bytes.Buffer
		if err := bmp.Encode(&buf, m); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	tests := []struct {
		name       string
		data       []byte
		maxSide    int
		format     string
		wantW      int
		wantH      int
		want       quadrants
		wantOutFmt string
	}{
		{"jpeg box path", jpegBytes(t, big), 64, FormatJPEG, 64, 43, colourQuad, FormatJPEG},
		{"jpeg no resize", jpegBytes(t, small), 800, FormatJPEG, 96, 64, colourQuad, FormatJPEG},
		{"gray jpeg", jpegBytes(t, toGray(quad(600, 400, grayQuad))), 64, FormatJPEG, 64, 43, grayQuad, FormatJPEG},
		{"png", pngBytes(t, big), 64, FormatPNG, 64, 43, colourQuad, FormatJPEG},
		{"gif", gifData(big), 64, FormatGIF, 64, 43, colourQuad, FormatJPEG},
		{"bmp", bmpData(big), 64, FormatBMP, 64, 43, colourQuad, FormatJPEG},
		{"webp", readTestdata(t, "quadrants.webp"), 48, FormatWebP, 48, 32, colourQuad, FormatJPEG},
		{"heic", readTestdata(t, "quadrants.heic"), 64, FormatHEIC, 64, 48, colourQuad, FormatJPEG},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt := DefaultOptions()
			opt.MaxSide = tt.maxSide
			res, err := testPipe.Prepare(context.Background(), tt.data, opt)
			if err != nil {
				t.Fatalf("Prepare: %v", err)
			}
			if res.Input.Format != tt.format || res.Format != tt.wantOutFmt {
				t.Errorf("formats in=%s out=%s, want %s, %s", res.Input.Format, res.Format, tt.format, tt.wantOutFmt)
			}
			if res.Width != tt.wantW || res.Height != tt.wantH {
				t.Errorf("size %dx%d, want %dx%d", res.Width, res.Height, tt.wantW, tt.wantH)
			}
			if res.MIME != "image/"+tt.wantOutFmt || res.Bytes != len(res.Data) {
				t.Errorf("MIME %q bytes %d for %d bytes of data", res.MIME, res.Bytes, len(res.Data))
			}
			checkQuadrants(t, res, tt.want)
		})
	}
}

func TestOrientation(t *testing.T) {
	upright := quad(300, 200, colourQuad)
	uprightGray := quad(300, 200, grayQuad)
	for o := 1; o <= 8; o++ {
		tests := []struct {
			name string
			data []byte
			want quadrants
		}{
			{"jpeg", withEXIF(jpegBytes(t, stored(upright, o)), o, false), colourQuad},
			{"gray jpeg", withEXIF(jpegBytes(t, toGray(stored(uprightGray, o))), o, false), grayQuad},
			{"png eXIf", withPNGChunks(pngBytes(t, stored(upright, o)), pngChunk("eXIf", exifTIFF(o, false))), colourQuad},
		}
		for _, tt := range tests {
			t.Run(tt.name+"/"+string(rune('0'+o)), func(t *testing.T) {
				opt := DefaultOptions()
				opt.MaxSide = 150 // exercises the box pass and the final resize
				res, err := testPipe.Prepare(context.Background(), tt.data, opt)
				if err != nil {
					t.Fatalf("Prepare: %v", err)
				}
				if res.Input.Orientation != o {
					t.Errorf("orientation %d, want %d", res.Input.Orientation, o)
				}
				if res.Width != 150 || res.Height != 100 {
					t.Errorf("size %dx%d, want 150x100 (upright)", res.Width, res.Height)
				}
				checkQuadrants(t, res, tt.want)
			})
		}
	}
}

func TestTransparency(t *testing.T) {
	half := quadrants{red, clear0, blue, clear0} // right half transparent
	pal := color.Palette{red, blue, clear0}
	var gifBuf bytes.Buffer
	if err := gif.Encode(&gifBuf, toPaletted(quad(300, 200, half), pal), nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		data     []byte
		maxBytes int
		format   string
		want     quadrants
	}{
		{"png keeps alpha", pngBytes(t, quad(300, 200, half)), 0, FormatPNG, half},
		{"gif keeps alpha", gifBuf.Bytes(), 0, FormatPNG, half},
		{"webp keeps alpha", readTestdata(t, "half-transparent.webp"), 0, FormatPNG, half},
		{"png over budget flattens onto white", pngBytes(t, noisy(quad(300, 200, half))), 4000, FormatJPEG,
			quadrants{red, white, blue, white}},
		{"opaque png becomes jpeg", pngBytes(t, quad(300, 200, colourQuad)), 0, FormatJPEG, colourQuad},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt := Options{MaxSide: 150, MaxBytes: tt.maxBytes}
			res, err := testPipe.Prepare(context.Background(), tt.data, opt)
			if err != nil {
				t.Fatalf("Prepare: %v", err)
			}
			if res.Format != tt.format {
				t.Fatalf("format %s, want %s", res.Format, tt.format)
			}
			if tt.maxBytes > 0 && res.Bytes > tt.maxBytes {
				t.Errorf("%d bytes over the %d budget", res.Bytes, tt.maxBytes)
			}
			checkQuadrants(t, res, tt.want)
		})
	}
}

func TestMetadataStripped(t *testing.T) {
	half := quad(200, 100, quadrants{red, clear0, blue, clear0})
	tests := []struct {
		name string
		data []byte
	}{
		{"jpeg with GPS", withEXIF(jpegBytes(t, quad(200, 100, colourQuad)), 6, true)},
		{"png with eXIf and tEXt", withPNGChunks(pngBytes(t, half),
			pngChunk("eXIf", exifTIFF(1, true)), pngChunk("tEXt", []byte("Location\x00"+secret)))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !bytes.Contains(tt.data, []byte(secret)) {
				t.Fatal("test input lacks the secret")
			}
			res, err := testPipe.Prepare(context.Background(), tt.data, DefaultOptions())
			if err != nil {
				t.Fatalf("Prepare: %v", err)
			}
			for _, bad := range []string{secret, "Exif", "eXIf", "tEXt", "\xFF\xE1"} {
				if bytes.Contains(res.Data, []byte(bad)) {
					t.Errorf("output contains %q", bad)
				}
			}
		})
	}
}

func TestEncodeBudget(t *testing.T) {
	noisy := image.NewNRGBA(image.Rect(0, 0, 400, 300))
	seed := uint32(1)
	for i := range noisy.Pix {
		seed = seed*1664525 + 1013904223
		noisy.Pix[i] = uint8(seed >> 24)
		if i%4 == 3 {
			noisy.Pix[i] = 0xFF
		}
	}
	tests := []struct {
		name        string
		maxBytes    int
		maxEncodes  int
		wantQuality func(int) bool
		wantShrunk  bool
	}{
		{"fits at first try", 10 << 20, 1, func(q int) bool { return q == 85 }, false},
		{"quality search", 60_000, 8, func(q int) bool { return q >= minQuality && q < 85 }, false},
		{"shrinks when quality is not enough", 8_000, 40, func(q int) bool { return q >= minQuality }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt := Options{MaxBytes: tt.maxBytes}.withDefaults()
			out, err := testPipe.encode(imaging.Clone(noisy), opt)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			if len(out.data) > tt.maxBytes {
				t.Errorf("%d bytes over %d", len(out.data), tt.maxBytes)
			}
			if out.encodes > tt.maxEncodes || !tt.wantQuality(out.quality) {
				t.Errorf("quality %d after %d encodes", out.quality, out.encodes)
			}
			if shrunk := out.img.Rect.Dx() < 400; shrunk != tt.wantShrunk {
				t.Errorf("width %d, shrunk=%v want %v", out.img.Rect.Dx(), shrunk, tt.wantShrunk)
			}
		})
	}
}

func TestPrepareBatch(t *testing.T) {
	good := jpegBytes(t, quad(120, 80, colourQuad))
	inputs := [][]byte{good, []byte("not an image"), good, good}
	res, errs := testPipe.PrepareBatch(context.Background(), inputs, DefaultOptions(), 2)
	for i := range inputs {
		bad := i == 1
		if (errs[i] != nil) != bad || (res[i] == nil) != bad {
			t.Errorf("input %d: result %v, error %v", i, res[i] != nil, errs[i])
		}
	}
	if !errors.Is(errs[1], ErrUnknownFormat) {
		t.Errorf("errs[1] = %v, want ErrUnknownFormat", errs[1])
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, errs = testPipe.PrepareBatch(ctx, inputs, DefaultOptions(), 1)
	for i, err := range errs {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled batch input %d: %v", i, err)
		}
	}
}

func TestUserMessage(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&Error{Kind: ErrTooManyPixels, Width: 10000, Height: 6000, Limit: 50_000_000},
			"That photo is too large (60 MP); please send one under 50 MP."},
		{&Error{Kind: ErrTooLarge, Bytes: 30 << 20, Limit: 25 << 20},
			"That file is too large (30 MB); please send a photo under 25 MB."},
		{&Error{Kind: ErrUnknownFormat}, "JPEG, PNG, WebP, GIF, BMP, TIFF or HEIC"},
		{&Error{Kind: ErrCorrupt, Err: errors.New("unexpected EOF")}, "damaged or incomplete"},
		{context.Canceled, "couldn't prepare"},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			got := UserMessage(tt.err)
			if !strings.Contains(got, tt.want) {
				t.Errorf("UserMessage = %q, want it to contain %q", got, tt.want)
			}
			if strings.Contains(got, "EOF") || strings.Contains(got, "imagepipe") {
				t.Errorf("UserMessage leaks internals: %q", got)
			}
		})
	}
}

func TestParallelCovers(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 7, 100} {
		t.Run(strings.Repeat("x", n%10), func(t *testing.T) {
			seen := make([]int, n)
			parallel(n, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					seen[i]++
				}
			})
			for i, c := range seen {
				if c != 1 {
					t.Fatalf("index %d visited %d times (GOMAXPROCS %d)", i, c, runtime.GOMAXPROCS(0))
				}
			}
		})
	}
}

package jpegscale

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// testFiles are made by cjpeg from testdata/gen.go's picture (SOURCES.md):
// baseline and progressive (with successive approximation), 4:2:0, 4:2:2,
// 4:4:4, gray, RGB, restart markers.
var testFiles = []string{"prog420.jpg", "prog444.jpg", "proggray.jpg", "base420-rst.jpg", "base422.jpg", "rgb.jpg"}

func readTest(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// At full scale the fork must decode exactly as image/jpeg does.
func TestFullScaleMatchesImageJPEG(t *testing.T) {
	for _, name := range testFiles {
		data := readTest(t, name)
		want, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(bytes.NewReader(data), 0)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.Bounds() != want.Bounds() {
			t.Fatalf("%s: bounds %v, want %v", name, got.Bounds(), want.Bounds())
		}
		b := want.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				if got.At(x, y) != want.At(x, y) {
					t.Fatalf("%s: pixel (%d,%d) = %v, want %v", name, x, y, got.At(x, y), want.At(x, y))
				}
			}
		}
	}
}

// Scaled, each output pixel is close to the mean of the full-size pixels
// it stands for: the scaled inverse DCT keeps a block's low frequencies.
func TestScaledCloseToBoxAverage(t *testing.T) {
	for _, name := range testFiles {
		data := readTest(t, name)
		full, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		fb := full.Bounds()
		for _, n := range []int{1, 2, 4} {
			// maxSide such that Scale picks n.
			maxSide := (max(fb.Dx(), fb.Dy())*n + 7) / 8
			if got := Scale(fb.Dx(), fb.Dy(), maxSide); got != n {
				t.Fatalf("Scale(%d,%d,%d) = %d, want %d", fb.Dx(), fb.Dy(), maxSide, got, n)
			}
			img, err := Decode(bytes.NewReader(data), maxSide)
			if err != nil {
				t.Fatalf("%s 1/%d: %v", name, 8/n, err)
			}
			want := image.Rect(0, 0, (fb.Dx()*n+7)/8, (fb.Dy()*n+7)/8)
			if img.Bounds() != want {
				t.Fatalf("%s 1/%d: bounds %v, want %v", name, 8/n, img.Bounds(), want)
			}
			mean, worst := diffToBoxAverage(full, img, 8/n)
			t.Logf("%s 1/%d: mean |diff| %.2f, worst block %.1f", name, 8/n, mean, worst)
			if mean > 2.5 || worst > 20 {
				t.Errorf("%s 1/%d: mean |diff| %.2f (max 2.5), worst %.1f (max 20)", name, 8/n, mean, worst)
			}
		}
	}
}

// diffToBoxAverage compares each sample of small's planes with the mean
// of the k×k samples of full's same plane it covers (planes, so that chroma
// upsampling plays no part): the mean absolute difference and the largest.
func diffToBoxAverage(full, small image.Image, k int) (mean, worst float64) {
	fp, sp := planes(full), planes(small)
	var sum float64
	var cnt int
	for i := range fp {
		f, s := fp[i], sp[i]
		for y := 0; y < s.h; y++ {
			for x := 0; x < s.w; x++ {
				var acc float64
				var px int
				for yy := y * k; yy < min((y+1)*k, f.h); yy++ {
					for xx := x * k; xx < min((x+1)*k, f.w); xx++ {
						acc += float64(f.pix[yy*f.stride+xx*f.step])
						px++
					}
				}
				if px == 0 { // a rounded-up edge sample with no full-size sample
					continue
				}
				d := math.Abs(acc/float64(px) - float64(s.pix[y*s.stride+x*s.step]))
				sum += d
				worst = max(worst, d)
				cnt++
			}
		}
	}
	return sum / float64(cnt), worst
}

type plane struct {
	pix                []uint8
	w, h, stride, step int
}

func planes(m image.Image) []plane {
	switch m := m.(type) {
	case *image.YCbCr:
		c := m.COffset(m.Rect.Max.X-1, m.Rect.Max.Y-1)
		cW, cH := c%m.CStride+1, c/m.CStride+1
		return []plane{
			{m.Y, m.Rect.Dx(), m.Rect.Dy(), m.YStride, 1},
			{m.Cb, cW, cH, m.CStride, 1},
			{m.Cr, cW, cH, m.CStride, 1},
		}
	case *image.Gray:
		return []plane{{m.Pix, m.Rect.Dx(), m.Rect.Dy(), m.Stride, 1}}
	case *image.RGBA:
		return []plane{
			{m.Pix, m.Rect.Dx(), m.Rect.Dy(), m.Stride, 4},
			{m.Pix[1:], m.Rect.Dx(), m.Rect.Dy(), m.Stride, 4},
			{m.Pix[2:], m.Rect.Dx(), m.Rect.Dy(), m.Stride, 4},
		}
	}
	panic("unexpected image type")
}

// A progressive file at 1/4 keeps 5 int16 and a 64-bit mask per block,
// not image/jpeg's 64 int32.
func TestProgressiveStoreIsCompact(t *testing.T) {
	var s coefStore
	s.init(1000, 2)
	if got := len(s.coef)*2 + len(s.mask)*8; got != 1000*(5*2+8) {
		t.Fatalf("1/4 store: %d bytes for 1000 blocks, want %d", got, 1000*18)
	}
	s = coefStore{}
	s.init(1000, 8)
	if s.mask != nil || len(s.coef) != 64000 {
		t.Fatalf("full-scale store: %d coefficients, mask %v", len(s.coef), s.mask != nil)
	}
}

func TestCMYKFallsBack(t *testing.T) {
	// SOI and a 16×16 four-component SOF0.
	cmyk := "\xff\xd8\xff\xc0\x00\x14\x08\x00\x10\x00\x10\x04" +
		"\x01\x11\x00\x02\x11\x00\x03\x11\x00\x04\x11\x00"
	if _, err := Decode(bytes.NewReader([]byte(cmyk)), 4); !errors.Is(err, ErrFallback) {
		t.Fatalf("CMYK: err %v, want ErrFallback", err)
	}
}

func TestBadInputIsImageJPEGError(t *testing.T) {
	data := readTest(t, "prog420.jpg")
	_, err := Decode(bytes.NewReader(data[:len(data)/2]), 100)
	if err == nil {
		t.Fatal("truncated file decoded without error")
	}
	_, err = Decode(bytes.NewReader([]byte("\xff\xd8\xff\xc0\x00\x0b\x0c\x00\x10\x00\x10\x01\x01\x11\x00")), 8)
	var ue jpeg.UnsupportedError
	if !errors.As(err, &ue) {
		t.Fatalf("12-bit JPEG: err %v (%T), want jpeg.UnsupportedError", err, err)
	}
}

// Memory is bounded by the output, not the input: a progressive 4:4:4
// file decoded at 1/4 allocates a fraction of what image/jpeg does
// (whose coefficients alone are 256 bytes per block).
func TestProgressiveAllocatesLittle(t *testing.T) {
	data := readTest(t, "prog444.jpg")
	alloc := func(f func()) uint64 {
		var a, b runtime.MemStats
		runtime.ReadMemStats(&a)
		f()
		runtime.ReadMemStats(&b)
		return b.TotalAlloc - a.TotalAlloc
	}
	full := alloc(func() { _, _ = jpeg.Decode(bytes.NewReader(data)) })
	scaled := alloc(func() { _, _ = Decode(bytes.NewReader(data), 51) })
	t.Logf("image/jpeg %d bytes, 1/4 scale %d bytes", full, scaled)
	if scaled*5 > full {
		t.Fatalf("1/4 decode allocated %d bytes, image/jpeg %d: want under a fifth", scaled, full)
	}
}

// The integer 2×2 transform gives the float one's pixels, within rounding.
func TestIDCT2MatchesFloat(t *testing.T) {
	seed := uint32(3)
	rnd := func(r int32) int32 {
		seed = seed*1664525 + 1013904223
		return int32(seed>>8)%(2*r+1) - r
	}
	var qt block
	for i := range qt {
		qt[i] = 1 + rnd(20) + 20
	}
	for range 2000 {
		var b block
		b[0], b[1], b[8], b[9] = rnd(60), rnd(40), rnd(40), rnd(30)
		var fast, slow [4]byte
		idct2(&b, &qt, fast[:], 2)
		idctFloat(&b, &qt, 2, slow[:], 2)
		for i := range fast {
			if d := int(fast[i]) - int(slow[i]); d < -1 || d > 1 {
				t.Fatalf("block %v: integer %v, float %v", b[:10], fast, slow)
			}
		}
	}
}

// A large APP segment is skipped by seeking when the input can seek and by
// reading when it cannot; the pixels are the same.
func TestLargeSegmentSkipped(t *testing.T) {
	data := readTest(t, "prog420.jpg")
	var app []byte
	for range 4 { // four 64 KB APP1 segments, as cameras write extended XMP
		app = append(app, 0xFF, 0xE1, 0xFF, 0xFF)
		app = append(app, bytes.Repeat([]byte{'x'}, 0xFFFF-2)...)
	}
	big := append(append(append([]byte{}, data[:2]...), app...), data[2:]...)
	want, err := Decode(bytes.NewReader(data), 51)
	if err != nil {
		t.Fatal(err)
	}
	seek, err := Decode(bytes.NewReader(big), 51)
	if err != nil {
		t.Fatalf("seeking: %v", err)
	}
	read, err := Decode(struct{ io.Reader }{bytes.NewReader(big)}, 51)
	if err != nil {
		t.Fatalf("reading: %v", err)
	}
	for _, got := range []image.Image{seek, read} {
		if !bytes.Equal(got.(*image.YCbCr).Y, want.(*image.YCbCr).Y) || !bytes.Equal(got.(*image.YCbCr).Cr, want.(*image.YCbCr).Cr) {
			t.Fatal("a file with large APP segments decodes differently")
		}
	}
	if _, err := Decode(bytes.NewReader(big[:len(app)/2]), 51); err == nil {
		t.Fatal("a file cut inside its APP segment decoded")
	}
}

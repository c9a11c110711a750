package imagepipe

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// testPipe is the Pipeline the tests share, as a process shares its one:
// the WebAssembly HEIC decoder is compiled once for the whole run.
var testPipe = New()

var (
	red    = color.NRGBA{220, 30, 30, 255}
	green  = color.NRGBA{30, 200, 30, 255}
	blue   = color.NRGBA{30, 30, 220, 255}
	yellow = color.NRGBA{230, 220, 30, 255}
	white  = color.NRGBA{255, 255, 255, 255}
	clear0 = color.NRGBA{}
	gray1  = color.NRGBA{60, 60, 60, 255}
	gray2  = color.NRGBA{120, 120, 120, 255}
	gray3  = color.NRGBA{180, 180, 180, 255}
	gray4  = color.NRGBA{240, 240, 240, 255}
)

// quadrants are the colours of the top-left, top-right, bottom-left and
// bottom-right quarters of an upright test picture.
type quadrants [4]color.NRGBA

var (
	colourQuad = quadrants{red, green, blue, yellow}
	grayQuad   = quadrants{gray1, gray2, gray3, gray4}
)

// quad draws a w×h upright picture with the given quadrant colours.
func quad(w, h int, q quadrants) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			i := 0
			if x >= w/2 {
				i++
			}
			if y >= h/2 {
				i += 2
			}
			m.SetNRGBA(x, y, q[i])
		}
	}
	return m
}

// stored returns what a camera stores for the upright picture v when it
// records EXIF orientation o, by the EXIF definition ("row 0 is the visual
// top/bottom/left/right, column 0 is …"), independent of the code under test.
func stored(v *image.NRGBA, o int) *image.NRGBA {
	w, h := v.Rect.Dx(), v.Rect.Dy()
	sw, sh := w, h
	if o >= 5 {
		sw, sh = h, w
	}
	s := image.NewNRGBA(image.Rect(0, 0, sw, sh))
	for sy := range sh {
		for sx := range sw {
			var vx, vy int
			switch o {
			case 1:
				vx, vy = sx, sy
			case 2:
				vx, vy = w-1-sx, sy
			case 3:
				vx, vy = w-1-sx, h-1-sy
			case 4:
				vx, vy = sx, h-1-sy
			case 5:
				vx, vy = sy, sx
			case 6:
				vx, vy = w-1-sy, sx
			case 7:
				vx, vy = w-1-sy, h-1-sx
			case 8:
				vx, vy = sy, h-1-sx
			}
			s.SetNRGBA(sx, sy, v.NRGBAAt(vx, vy))
		}
	}
	return s
}

// checkQuadrants decodes out and compares the centre of each quarter.
func checkQuadrants(t *testing.T, res *Result, want quadrants) {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(res.Data))
	if err != nil {
		t.Fatalf("decode output: %v", err)
	}
	b := img.Bounds()
	pts := [4]image.Point{
		{b.Dx() / 4, b.Dy() / 4}, {3 * b.Dx() / 4, b.Dy() / 4},
		{b.Dx() / 4, 3 * b.Dy() / 4}, {3 * b.Dx() / 4, 3 * b.Dy() / 4},
	}
	names := [4]string{"top-left", "top-right", "bottom-left", "bottom-right"}
	for i, p := range pts {
		got := color.NRGBAModel.Convert(img.At(p.X, p.Y)).(color.NRGBA)
		if !near(got, want[i]) {
			t.Errorf("%s pixel %v = %v, want %v", names[i], p, got, want[i])
		}
	}
}

func near(a, b color.NRGBA) bool {
	d := func(x, y uint8) bool { return int(x)-int(y) <= 40 && int(y)-int(x) <= 40 }
	if a.A == 0 && b.A == 0 {
		return true
	}
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B) && d(a.A, b.A)
}

func jpegBytes(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func pngBytes(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func toGray(m *image.NRGBA) *image.Gray {
	g := image.NewGray(m.Rect)
	for y := m.Rect.Min.Y; y < m.Rect.Max.Y; y++ {
		for x := m.Rect.Min.X; x < m.Rect.Max.X; x++ {
			g.Set(x, y, m.At(x, y))
		}
	}
	return g
}

// toPaletted maps m onto exactly the colours of pal (no dithering).
func toPaletted(m *image.NRGBA, pal color.Palette) *image.Paletted {
	p := image.NewPaletted(m.Rect, pal)
	for y := m.Rect.Min.Y; y < m.Rect.Max.Y; y++ {
		for x := m.Rect.Min.X; x < m.Rect.Max.X; x++ {
			p.SetColorIndex(x, y, uint8(pal.Index(m.At(x, y))))
		}
	}
	return p
}

// secret is a GPS value that must never reach the output.
const secret = "SECRET-PLACE"

// exifTIFF builds a big-endian TIFF with IFD0 holding Orientation and,
// when gps is set, a GPS IFD whose processing method is the secret.
func exifTIFF(o int, gps bool) []byte {
	be := binary.BigEndian
	var b []byte
	b = append(b, 'M', 'M', 0, 42, 0, 0, 0, 8)
	n := uint16(1)
	if gps {
		n = 2
	}
	b = be.AppendUint16(b, n)
	b = be.AppendUint16(b, 0x0112)
	b = be.AppendUint16(b, 3)
	b = be.AppendUint32(b, 1)
	b = be.AppendUint16(b, uint16(o))
	b = be.AppendUint16(b, 0)
	if gps {
		gpsOff := uint32(8 + 2 + 12*2 + 4)
		b = be.AppendUint16(b, 0x8825)
		b = be.AppendUint16(b, 4)
		b = be.AppendUint32(b, 1)
		b = be.AppendUint32(b, gpsOff)
	}
	b = be.AppendUint32(b, 0)
	if gps {
		dataOff := uint32(len(b) + 2 + 12 + 4)
		b = be.AppendUint16(b, 1)
		b = be.AppendUint16(b, 0x001B)
		b = be.AppendUint16(b, 7)
		b = be.AppendUint32(b, uint32(len(secret)))
		b = be.AppendUint32(b, dataOff)
		b = be.AppendUint32(b, 0)
		b = append(b, secret...)
	}
	return b
}

// withEXIF inserts an Exif APP1 segment right after the JPEG's SOI.
func withEXIF(jpg []byte, o int, gps bool) []byte {
	payload := append([]byte("Exif\x00\x00"), exifTIFF(o, gps)...)
	seg := []byte{0xFF, 0xE1}
	seg = binary.BigEndian.AppendUint16(seg, uint16(len(payload)+2))
	seg = append(seg, payload...)
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

func pngChunk(typ string, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
}

// withPNGChunks inserts chunks right after IHDR (which ends at byte 33).
func withPNGChunks(p []byte, chunks ...[]byte) []byte {
	out := append([]byte{}, p[:33]...)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return append(out, p[33:]...)
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// noisy adds ±8 of deterministic noise to the colour of opaque pixels, which
// PNG cannot compress but JPEG smooths away.
func noisy(m *image.NRGBA) *image.NRGBA {
	seed := uint32(7)
	for i := 0; i+3 < len(m.Pix); i += 4 {
		if m.Pix[i+3] == 0 {
			continue
		}
		for c := range 3 {
			seed = seed*1664525 + 1013904223
			m.Pix[i+c] = uint8(min(255, max(0, int(m.Pix[i+c])+int(seed>>28)-8)))
		}
	}
	return m
}

// absDiff is |a-b|.
func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

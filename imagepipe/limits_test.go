package imagepipe

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"image/color"
	"image/gif"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/image/bmp"
)

// pngBomb declares width×height RGB pixels and carries a few bytes of
// (valid) compressed data.
func pngBomb(width, height uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, width)
	ihdr = binary.BigEndian.AppendUint32(ihdr, height)
	ihdr = append(ihdr, 8, 2, 0, 0, 0)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	_, _ = zw.Write(make([]byte, 1<<16))
	_ = zw.Close()
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, pngChunk("IHDR", ihdr)...)
	out = append(out, pngChunk("IDAT", z.Bytes())...)
	return append(out, pngChunk("IEND", nil)...)
}

// patchJPEGSize rewrites the dimensions in the SOF0 header.
func patchJPEGSize(jpg []byte, w, h uint16) []byte {
	out := bytes.Clone(jpg)
	i := bytes.Index(out, []byte{0xFF, 0xC0})
	binary.BigEndian.PutUint16(out[i+5:], h)
	binary.BigEndian.PutUint16(out[i+7:], w)
	return out
}

// patchHEICSize rewrites every "ispe" property, as a hostile file would.
func patchHEICSize(heic []byte, w, h uint32) []byte {
	out := bytes.Clone(heic)
	for off := 0; ; {
		i := bytes.Index(out[off:], []byte("ispe"))
		if i < 0 {
			return out
		}
		binary.BigEndian.PutUint32(out[off+i+8:], w)
		binary.BigEndian.PutUint32(out[off+i+12:], h)
		off += i + 16
	}
}

func TestLimits(t *testing.T) {
	small := quad(120, 80, colourQuad)
	jpg := jpegBytes(t, small)
	heic := readTestdata(t, "quadrants.heic")
	tests := []struct {
		name    string
		data    []byte
		opt     Options
		want    error
		message string
	}{
		{"file too large", jpg, Options{MaxInputBytes: 1000}, ErrTooLarge, "too large"},
		{"png bomb", pngBomb(100000, 100000), Options{}, ErrTooManyPixels, "(10000 MP); please send one under 50 MP"},
		{"png over custom budget", pngBytes(t, small), Options{MaxPixels: 5000}, ErrTooManyPixels, "under 5000 pixels"},
		{"jpeg header bomb", patchJPEGSize(jpg, 60000, 60000), Options{}, ErrTooManyPixels, "3600 MP"},
		{"heic ispe bomb", patchHEICSize(heic, 40000, 40000), Options{}, ErrTooManyPixels, "1600 MP"},
		{"text named .jpg", []byte("hello, this is not a photo at all\n"), Options{}, ErrUnknownFormat, "can't read"},
		{"html", []byte("<!doctype html><html><body>hi</body></html>"), Options{}, ErrUnknownFormat, "can't read"},
		{"pdf", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"), Options{}, ErrUnknownFormat, "can't read"},
		{"empty", nil, Options{}, ErrUnknownFormat, "can't read"},
		{"avif", []byte("\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf"), Options{}, ErrUnknownFormat, "can't read"},
		{"BM text", []byte("BMW drivers club newsletter, issue 12"), Options{}, ErrUnknownFormat, "can't read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := testPipe.Prepare(context.Background(), tt.data, tt.opt)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err %T is not *Error", err)
			}
			if msg := e.UserMessage(); !strings.Contains(msg, tt.message) {
				t.Errorf("UserMessage = %q, want it to contain %q", msg, tt.message)
			}
			// Rejected by the header: no pixel buffer was ever allocated.
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
				t.Errorf("allocated %d bytes before rejecting", alloc)
			}
		})
	}
}

func TestCorrupt(t *testing.T) {
	big := quad(200, 150, colourQuad)
	var gifBuf, bmpBuf bytes.Buffer
	if err := gif.Encode(&gifBuf, toPaletted(big, color.Palette{red, green, blue, yellow}), nil); err != nil {
		t.Fatal(err)
	}
	if err := bmp.Encode(&bmpBuf, big); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"jpeg": jpegBytes(t, big),
		"png":  pngBytes(t, big),
		"gif":  gifBuf.Bytes(),
		"bmp":  bmpBuf.Bytes(),
		"webp": readTestdata(t, "quadrants.webp"),
		"heic": readTestdata(t, "quadrants.heic"),
	}
	type tc struct {
		name string
		data []byte
	}
	var tests []tc
	for _, f := range []string{"jpeg", "png", "gif", "bmp", "webp", "heic"} {
		d := files[f]
		tests = append(tests,
			tc{f + " truncated to half", d[:len(d)/2]},
			tc{f + " header only", d[:min(len(d), 40)]},
		)
	}
	garbled := bytes.Clone(files["png"])
	for i := 60; i < len(garbled)-20; i++ {
		garbled[i] ^= 0x5A
	}
	tests = append(tests, tc{"png with garbled data", garbled})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "jpeg truncated to half" && fastJPEG() {
				t.Skip("libjpeg-turbo decodes it with a warning: TestRecoverableJPEG")
			}
			_, err := testPipe.Prepare(context.Background(), tt.data, DefaultOptions())
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err = %v, want ErrCorrupt", err)
			}
			if msg := UserMessage(err); !strings.Contains(msg, "damaged") {
				t.Errorf("UserMessage = %q", msg)
			}
		})
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"jpeg", []byte{0xFF, 0xD8, 0xFF, 0xE0}, FormatJPEG},
		{"png", []byte("\x89PNG\r\n\x1a\n...."), FormatPNG},
		{"gif87", []byte("GIF87a...."), FormatGIF},
		{"gif89", []byte("GIF89a...."), FormatGIF},
		{"webp", []byte("RIFF\x00\x00\x00\x00WEBPVP8 "), FormatWebP},
		{"wav is not webp", []byte("RIFF\x00\x00\x00\x00WAVEfmt "), ""},
		{"heic", []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), FormatHEIC},
		{"heif mif1", []byte("\x00\x00\x00\x14ftypmif1\x00\x00\x00\x00mif1"), FormatHEIC},
		{"avif", []byte("\x00\x00\x00\x18ftypavif\x00\x00\x00\x00mif1avif"), ""},
		{"mp4", []byte("\x00\x00\x00\x18ftypisom\x00\x00\x00\x00isomiso2"), ""},
		{"short", []byte{0xFF}, ""},
		{"text", []byte("just text"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Sniff(tt.data)
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("Sniff = %q, %v; want %q", got, ok, tt.want)
			}
		})
	}
}

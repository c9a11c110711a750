package imagepipe

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"testing"
)

func TestInspectReadsTheHeaderOnly(t *testing.T) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewNRGBA(image.Rect(0, 0, 40, 30))); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	h, err := Inspect(good, DefaultOptions())
	if err != nil || h.Format != FormatPNG || h.Width != 40 || h.Height != 30 || h.Bytes != len(good) {
		t.Fatalf("Inspect = %+v, %v", h, err)
	}
	// A header that declares more pixels than allowed is refused before any
	// pixel is decoded (the body is cut off: only the header is read).
	opt := DefaultOptions()
	opt.MaxPixels = 40*30 - 1
	if _, err := Inspect(good[:40], opt); !errors.Is(err, ErrTooManyPixels) {
		t.Fatalf("pixel cap: %v", err)
	}
	opt = DefaultOptions()
	opt.MaxInputBytes = int64(len(good) - 1)
	if _, err := Inspect(good, opt); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("size cap: %v", err)
	}
	if _, err := Inspect([]byte("hello, not an image"), DefaultOptions()); !errors.Is(err, ErrUnknownFormat) || UserMessage(err) == "" {
		t.Fatalf("unknown format: %v", err)
	}
}

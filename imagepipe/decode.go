package imagepipe

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"sync"

	"github.com/gen2brain/heic"
	"golang.org/x/image/bmp"
	"golang.org/x/image/webp"
)

// heicInit compiles the WebAssembly libheif (about a second) the first time
// an HEIC arrives, once per process; it does nothing when the system libheif
// was loaded.
var heicInit = sync.OnceFunc(heic.Init)

// decode runs the decoder of the sniffed format only (never the global
// image.Decode registry). GIF yields its first frame. A decoder panic on
// hostile input becomes an error.
func decode(format string, data []byte) (img image.Image, err error) {
	defer func() {
		if r := recover(); r != nil {
			img, err = nil, fmt.Errorf("decoder panic: %v", r)
		}
	}()
	r := bytes.NewReader(data)
	switch format {
	case FormatJPEG:
		return jpeg.Decode(r)
	case FormatPNG:
		return png.Decode(r)
	case FormatGIF:
		return gif.Decode(r)
	case FormatWebP:
		return webp.Decode(r)
	case FormatBMP:
		return bmp.Decode(r)
	case FormatHEIC:
		heicInit()
		return heic.Decode(r)
	}
	return nil, ErrUnknownFormat
}

// classify turns a decoder error into a typed *Error: unsupported variants
// of a known format are "unknown format", everything else is corrupt.
func classify(format string, n int64, err error) *Error {
	var (
		ju jpeg.UnsupportedError
		pu png.UnsupportedError
	)
	if errors.As(err, &ju) || errors.As(err, &pu) || errors.Is(err, bmp.ErrUnsupported) ||
		errors.Is(err, ErrUnknownFormat) {
		return newError(ErrUnknownFormat, format, n, err)
	}
	return newError(ErrCorrupt, format, n, err)
}

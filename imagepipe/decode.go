package imagepipe

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"strings"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

// decoded is a decoded image, possibly already reduced (JPEG DCT scaling).
type decoded struct {
	img     image.Image
	release func() // frees pixels held outside the Go heap; nil when none
	warn    string // recoverable damage the decoder worked around
}

// decode runs the decoder of the sniffed format only (never the global
// image.Decode registry), the system library first where there is one.
// w×h are the header's dimensions. A decoder panic on hostile input becomes
// an error.
func (p *Pipeline) decode(format string, data []byte, w, h, maxSide int) (d decoded, err error) {
	defer func() {
		if r := recover(); r != nil {
			d, err = decoded{}, fmt.Errorf("decoder panic: %v", r)
		}
	}()
	r := bytes.NewReader(data)
	switch format {
	case FormatJPEG:
		return p.decodeJPEG(data, maxSide)
	case FormatPNG:
		d.img, err = png.Decode(r)
	case FormatGIF:
		d.img, err = gif.Decode(r)
		if err == nil {
			d.img = onCanvas(d.img, w, h)
		}
	case FormatWebP:
		d.img, err = decodeWebP(data)
	case FormatBMP:
		d.img, err = bmp.Decode(r)
		if errors.Is(err, bmp.ErrUnsupported) && isRLEBMP(data) {
			err = &variantError{"an RLE-compressed BMP", err}
		}
	case FormatTIFF:
		d.img, err = tiff.Decode(r)
		var fe tiff.FormatError
		var ue tiff.UnsupportedError
		if errors.As(err, &ue) || errors.As(err, &fe) {
			err = &variantError{"a TIFF of a kind I can't decode (" + strings.TrimPrefix(err.Error(), "tiff: ") + ")", err}
		}
	case FormatHEIC:
		if img, release, ok, herr := p.native.decodeHEIFNative(data, maxSide, true); ok {
			return decoded{img: img, release: release}, herr
		}
		// Compiled on the first HEIC without a system libheif (~1 s), once
		// per Pipeline.
		d.img, err = p.wasm.Decode(data)
	default:
		return decoded{}, ErrUnknownFormat
	}
	return d, err
}

// variantError is a valid file of a known format in a variant this build
// cannot decode; its user message names the variant and the fix.
type variantError struct {
	variant string
	err     error
}

func (e *variantError) Error() string { return e.variant + ": " + e.err.Error() }
func (e *variantError) Unwrap() error { return e.err }

// jpegFrame walks the markers to the frame header (any SOFn) and returns
// its dimensions and its marker: SOF2 is progressive; SOF9–11 and SOF13–15
// are arithmetic-coded, which image/jpeg does not decode but libjpeg-turbo
// does.
func jpegFrame(data []byte) (w, h int, sof byte, ok bool) {
	for i := 2; i+4 <= len(data); {
		if data[i] != 0xFF {
			return 0, 0, 0, false
		}
		m := data[i+1]
		switch {
		case m == 0xFF:
			i++
			continue
		case m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC:
			if i+9 > len(data) {
				return 0, 0, 0, false
			}
			h = int(binary.BigEndian.Uint16(data[i+5:]))
			w = int(binary.BigEndian.Uint16(data[i+7:]))
			return w, h, m, true
		case m == 0xDA || m == 0xD9:
			return 0, 0, 0, false
		}
		i += 2 + int(binary.BigEndian.Uint16(data[i+2:]))
	}
	return 0, 0, 0, false
}

// isRLEBMP reports a BMP with RLE8 or RLE4 compression.
func isRLEBMP(data []byte) bool {
	if len(data) < 34 {
		return false
	}
	c := binary.LittleEndian.Uint32(data[30:34])
	return c == 1 || c == 2
}

// onCanvas places a frame smaller than the logical screen (a GIF or WebP
// frame drawn at an offset) on a transparent w×h canvas, which encode later
// composites onto white.
func onCanvas(img image.Image, w, h int) image.Image {
	if img.Bounds() == image.Rect(0, 0, w, h) || w <= 0 || h <= 0 {
		return img
	}
	c := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.Draw(c, img.Bounds(), img, img.Bounds().Min, draw.Src)
	return c
}

// classify turns a decoder error into a typed *Error: unsupported variants
// of a known format are "unknown format", everything else is corrupt.
func classify(format string, n int64, err error) *Error {
	var (
		ju jpeg.UnsupportedError
		pu png.UnsupportedError
		ve *variantError
	)
	if errors.As(err, &ve) {
		e := newError(ErrUnknownFormat, format, n, err)
		e.Variant = ve.variant
		return e
	}
	if errors.As(err, &ju) || errors.As(err, &pu) || errors.Is(err, bmp.ErrUnsupported) ||
		errors.Is(err, ErrUnknownFormat) {
		return newError(ErrUnknownFormat, format, n, err)
	}
	return newError(ErrCorrupt, format, n, err)
}

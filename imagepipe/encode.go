package imagepipe

import (
	"bytes"
	"image"
	"image/jpeg"
	"image/png"
	"math"

	"github.com/disintegration/imaging"
)

// minQuality is the lowest JPEG quality the budget search will try before
// it shrinks the picture instead.
const minQuality = 30

// encoded is one finished output.
type encoded struct {
	data    []byte
	format  string
	quality int
	encodes int // how many times an encoder ran (for tests)
	img     *image.NRGBA
}

// encode writes img as PNG when it has transparency and the PNG fits the
// budget, otherwise flattens it onto white and writes a JPEG under the
// budget. A PNG keeps its alpha over a white matte: the colour under each
// transparent pixel is what it shows on white, so a model that ignores
// alpha sees white, never black. Go's encoders write no metadata, so EXIF (GPS included), XMP and
// ICC are dropped.
func (p *Pipeline) encode(img *image.NRGBA, opt Options) (*encoded, error) {
	if !opaque(img) {
		matte(img)
		buf := p.bufs.Get().(*bytes.Buffer)
		defer p.bufs.Put(buf)
		buf.Reset()
		enc := png.Encoder{CompressionLevel: png.BestSpeed}
		if err := enc.Encode(buf, img); err != nil {
			return nil, err
		}
		if buf.Len() <= opt.MaxBytes {
			return &encoded{data: bytes.Clone(buf.Bytes()), format: FormatPNG, encodes: 1, img: img}, nil
		}
		setOpaque(img)
		out, err := p.encodeJPEG(img, opt)
		if out != nil {
			out.encodes++
		}
		return out, err
	}
	return p.encodeJPEG(img, opt)
}

// encodeJPEG tries the configured quality first (one encode in the usual
// case), then binary-searches lower qualities, and only when even
// minQuality is too big shrinks the picture by the missing ratio.
func (p *Pipeline) encodeJPEG(img *image.NRGBA, opt Options) (*encoded, error) {
	buf := p.bufs.Get().(*bytes.Buffer)
	defer p.bufs.Put(buf)
	out := &encoded{format: FormatJPEG}
	size := func(m *image.NRGBA, q int) (int, error) {
		out.encodes++
		buf.Reset()
		if p.native.encodeJPEGTurbo(buf, m, q) {
			return buf.Len(), nil
		}
		buf.Reset()
		err := jpeg.Encode(buf, asRGBA(m), &jpeg.Options{Quality: q})
		return buf.Len(), err
	}
	for range 4 {
		n, err := size(img, opt.Quality)
		if err != nil {
			return nil, err
		}
		if n <= opt.MaxBytes {
			out.data, out.quality, out.img = bytes.Clone(buf.Bytes()), opt.Quality, img
			return out, nil
		}
		best, lo, hi := 0, minQuality, opt.Quality-1
		var bestData []byte
		for lo <= hi {
			q := (lo + hi) / 2
			if n, err = size(img, q); err != nil {
				return nil, err
			}
			if n <= opt.MaxBytes {
				best, bestData, lo = q, bytes.Clone(buf.Bytes()), q+1
			} else {
				hi = q - 1
			}
		}
		if best > 0 {
			out.data, out.quality, out.img = bestData, best, img
			return out, nil
		}
		// Even minQuality is too big (hi < lo, n is minQuality's size):
		// shrink by the square root of the missing ratio, with a margin.
		b := img.Bounds()
		f := 0.9 * math.Sqrt(float64(opt.MaxBytes)/float64(n))
		w, h := int(float64(b.Dx())*f), int(float64(b.Dy())*f)
		if w < 16 || h < 16 {
			break
		}
		img = imaging.Resize(img, w, h, imaging.Lanczos)
	}
	return nil, ErrCannotFit
}

// opaque reports whether every pixel has full alpha.
func opaque(img *image.NRGBA) bool {
	b := img.Rect
	for y := 0; y < b.Dy(); y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+4*b.Dx()]
		for i := 3; i < len(row); i += 4 {
			if row[i] != 0xFF {
				return false
			}
		}
	}
	return true
}

// matte composites img's colours onto white, in place, keeping its alpha.
func matte(img *image.NRGBA) {
	b := img.Rect
	for y := 0; y < b.Dy(); y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+4*b.Dx()]
		for i := 0; i < len(row); i += 4 {
			a := uint32(row[i+3])
			for c := range 3 {
				row[i+c] = uint8((uint32(row[i+c])*a + 255*(255-a) + 127) / 255)
			}
		}
	}
}

// setOpaque sets every alpha of a matted image to 255.
func setOpaque(img *image.NRGBA) {
	b := img.Rect
	for y := 0; y < b.Dy(); y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+4*b.Dx()]
		for i := 3; i < len(row); i += 4 {
			row[i] = 0xFF
		}
	}
}

// asRGBA views an opaque NRGBA as RGBA without copying (the bytes are the
// same when alpha is 255), which takes image/jpeg's fast path.
func asRGBA(m *image.NRGBA) *image.RGBA {
	return &image.RGBA{Pix: m.Pix, Stride: m.Stride, Rect: m.Rect}
}

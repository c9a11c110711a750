package imagepipe

import (
	"bytes"
	"context"
	"errors"
	"image"
	"log/slog"
	"math"
	"runtime"
	"sync"
	"time"

	"github.com/tableround/tableround/imagepipe/internal/heicwasm"
)

// Pipeline prepares photos and owns what preparing them reuses: the
// encoder's output buffers, the pre-shrink's pixel buffers, and the
// decoders loaded on first use (the system libjpeg-turbo and libheif on the
// fast path, the WebAssembly libheif, compiled on the first HEIC, on the
// pure-Go one). A process makes one in main and hands it down, so those are
// loaded once; it is safe for concurrent use. Use New; the zero value is
// not ready.
type Pipeline struct {
	bufs   sync.Pool // *bytes.Buffer, for encode
	pix    sync.Pool // *[]byte, for boxShrink's intermediate
	native natives
	wasm   heicwasm.Decoder
}

// New returns a Pipeline. It loads nothing yet: each decoder is loaded by
// the first photo that needs it.
func New() *Pipeline {
	p := &Pipeline{}
	p.bufs.New = func() any { return new(bytes.Buffer) }
	return p
}

// Decoders says which decoder each format with a fast path takes in this
// Pipeline: the system library (loaded on this call if it was not yet) or
// the pure-Go/WebAssembly fallback. fast is true when both system
// libraries are in use. For `tableround doctor`.
func (p *Pipeline) Decoders() (summary string, fast bool) {
	jpeg := "JPEG: pure Go (DCT-scaled decode)"
	if v := p.native.turboVersion(); v != "" {
		jpeg = "JPEG: system libjpeg-turbo (" + v + ", DCT-scaled decode; progressive files in pure Go, scaled)"
	}
	heif := "HEIC: WebAssembly libheif (compiled once per process, on the first HEIC)"
	if v := p.native.heifNativeVersion(); v != "" {
		heif = "HEIC: system libheif " + v
	}
	return jpeg + "; " + heif, p.native.turboVersion() != "" && p.native.heifNativeVersion() != ""
}

// Prepare decodes data, applies its EXIF orientation, resizes it to fit
// opt.MaxSide and encodes it under opt.MaxBytes. Errors are *Error values
// (see ErrTooLarge, ErrTooManyPixels, ErrUnknownFormat, ErrCorrupt,
// ErrCannotFit) or the context's error.
func (p *Pipeline) Prepare(ctx context.Context, data []byte, opt Options) (*Result, error) {
	start := time.Now()
	opt = opt.withDefaults()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n := int64(len(data))
	if n > opt.MaxInputBytes {
		e := newError(ErrTooLarge, "", n, nil)
		e.Limit = opt.MaxInputBytes
		return nil, e
	}
	format, ok := Sniff(data)
	if !ok {
		return nil, newError(ErrUnknownFormat, "", n, nil)
	}
	w, h, err := probe(format, data)
	if err != nil {
		return nil, classify(format, n, err)
	}
	if int64(w)*int64(h) > opt.MaxPixels {
		e := newError(ErrTooManyPixels, format, n, nil)
		e.Width, e.Height, e.Limit = w, h, opt.MaxPixels
		return nil, e
	}
	in := Input{Format: format, Width: w, Height: h, Bytes: len(data), Orientation: orientation(format, data)}

	small, warn, err := p.decodeSmall(ctx, format, data, w, h, opt)
	if err != nil {
		return nil, err
	}
	small = orient(small, in.Orientation)
	if warn != "" {
		logger := opt.Logger
		if logger == nil {
			logger = slog.Default()
		}
		logger.Warn("imagepipe: damaged image decoded anyway", "format", format, "bytes", n, "warning", warn)
	}
	out, err := p.encode(small, opt)
	if errors.Is(err, ErrCannotFit) {
		return nil, newError(ErrCannotFit, format, n, nil)
	} else if err != nil {
		return nil, newError(ErrCannotFit, format, n, err)
	}
	b := out.img.Bounds()
	res := &Result{
		Data:    out.data,
		MIME:    "image/" + out.format,
		Format:  out.format,
		Width:   b.Dx(),
		Height:  b.Dy(),
		Bytes:   len(out.data),
		Quality: out.quality,
		Input:   in,
		Warning: warn,
	}
	res.Duration = time.Since(start)
	res.Millis = math.Round(res.Duration.Seconds()*1e4) / 10
	return res, nil
}

// decodeSmall decodes data and shrinks it to fit opt.MaxSide (before
// orientation); the full-size pixels are let go before it returns.
func (p *Pipeline) decodeSmall(ctx context.Context, format string, data []byte, w, h int, opt Options) (*image.NRGBA, string, error) {
	n := int64(len(data))
	d, err := p.decode(format, data, w, h, opt.MaxSide)
	if d.release != nil {
		defer d.release()
	}
	if err != nil {
		return nil, "", classify(format, n, err)
	}
	if b := d.img.Bounds(); b.Empty() || int64(b.Dx())*int64(b.Dy()) > opt.MaxPixels {
		return nil, "", newError(ErrCorrupt, format, n, nil)
	}
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	small := p.shrink(d.img, opt.MaxSide)
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	return small, d.warn, nil
}

// PrepareBatch prepares several photos with at most concurrency in flight
// (GOMAXPROCS when concurrency ≤ 0). results[i] and errs[i] belong to
// inputs[i]; inputs not started before ctx ends get ctx's error.
func (p *Pipeline) PrepareBatch(ctx context.Context, inputs [][]byte, opt Options, concurrency int) ([]*Result, []error) {
	if concurrency <= 0 {
		concurrency = runtime.GOMAXPROCS(0)
	}
	results := make([]*Result, len(inputs))
	errs := make([]error, len(inputs))
	g := NewGate(p, concurrency)
	var wg sync.WaitGroup
	for i, data := range inputs {
		if err := g.acquire(ctx); err != nil {
			errs[i] = err
			continue
		}
		wg.Go(func() {
			defer g.release()
			results[i], errs[i] = p.Prepare(ctx, data, opt)
		})
	}
	wg.Wait()
	return results, errs
}

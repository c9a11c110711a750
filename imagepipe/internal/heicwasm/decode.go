// Package heicwasm decodes HEIC with libheif/libde265 compiled to
// WebAssembly and run by wazero: the pure-Go fallback when no system
// libheif is loaded.
//
// It is github.com/gen2brain/heic v0.4.5's WebAssembly path (MIT, see
// LICENSE; the WebAssembly module is libheif and libde265, LGPL, see
// LICENSE.libheif and LICENSE.libde265), forked without that package's
// init, which dlopens the system libheif in every process that links it
// (11–21 ms of every cold start, `tableround version` included) even
// though imagepipe loads libheif itself, lazily. Nothing here runs before
// the first Decode.
package heicwasm

import (
	"bytes"
	"compress/gzip"
	"context"
	_ "embed" // the WebAssembly module
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// heifWasm is the gzipped module, embedded at build time and only read.
//
//go:embed heif.wasm.gz
var heifWasm []byte

// Errors from the WebAssembly module's memory and decoder.
var (
	ErrMemRead  = errors.New("heic: mem read failed")
	ErrMemWrite = errors.New("heic: mem write failed")
	ErrDecode   = errors.New("heic: decode failed")
)

// Decoder runs the WebAssembly libheif. The module is compiled on the
// first Decode (about a second) and kept for the Decoder's life, so a
// long-running process pays it once; every Decode gets a fresh module
// instance. The zero value is ready to use and safe for concurrent use.
type Decoder struct {
	once sync.Once
	rt   wazero.Runtime
	cm   wazero.CompiledModule
	mc   wazero.ModuleConfig
	err  error // why the module could not be compiled
}

// Decode decodes a whole HEIC file.
func (d *Decoder) Decode(data []byte) (image.Image, error) {
	img, _, err := d.decode(data)
	return img, err
}

// Init compiles the WebAssembly module if it is not yet; Decode calls it.
func (d *Decoder) Init() error {
	d.once.Do(func() { d.err = d.initialize() })
	return d.err
}

func (d *Decoder) initialize() error {
	ctx := context.Background()
	d.rt = wazero.NewRuntime(ctx)
	r, err := gzip.NewReader(bytes.NewReader(heifWasm))
	if err != nil {
		return fmt.Errorf("heic: read the embedded module: %w", err)
	}
	defer r.Close()
	var data bytes.Buffer
	if _, err = data.ReadFrom(r); err != nil {
		return fmt.Errorf("heic: read the embedded module: %w", err)
	}
	if d.cm, err = d.rt.CompileModule(ctx, data.Bytes()); err != nil {
		return fmt.Errorf("heic: compile the module: %w", err)
	}
	if _, err = wasi_snapshot_preview1.Instantiate(ctx, d.rt); err != nil {
		return fmt.Errorf("heic: instantiate WASI: %w", err)
	}
	d.mc = wazero.NewModuleConfig().WithStderr(io.Discard).WithStdout(io.Discard)
	return nil
}

const (
	alignSize = 16

	heifColorspaceYCbCr      = 0
	heifColorspaceRGB        = 1
	heifColorspaceMonochrome = 2

	heifChroma420 = 1
	heifChroma422 = 2
	heifChroma444 = 3
)

func alignm(a int) int { return (a + (alignSize - 1)) & (^(alignSize - 1)) }

func yCbCrSize(r image.Rectangle, ratio image.YCbCrSubsampleRatio) (w, h, cw, ch int) {
	w, h = r.Dx(), r.Dy()
	switch ratio {
	case image.YCbCrSubsampleRatio422:
		cw, ch = (r.Max.X+1)/2-r.Min.X/2, h
	case image.YCbCrSubsampleRatio420:
		cw, ch = (r.Max.X+1)/2-r.Min.X/2, (r.Max.Y+1)/2-r.Min.Y/2
	default:
		cw, ch = w, h
	}
	return
}

func (d *Decoder) decode(data []byte) (image.Image, image.Config, error) {
	var cfg image.Config
	if err := d.Init(); err != nil {
		return nil, cfg, err
	}

	ctx := context.Background()
	mod, err := d.rt.InstantiateModule(ctx, d.cm, d.mc)
	if err != nil {
		return nil, cfg, err
	}

	defer mod.Close(ctx)

	_alloc := mod.ExportedFunction("malloc")
	_free := mod.ExportedFunction("free")
	_decode := mod.ExportedFunction("decode")

	inSize := len(data)

	res, err := _alloc.Call(ctx, uint64(inSize))
	if err != nil {
		return nil, cfg, fmt.Errorf("alloc: %w", err)
	}
	inPtr := res[0]
	defer _free.Call(ctx, inPtr)

	ok := mod.Memory().Write(uint32(inPtr), data)
	if !ok {
		return nil, cfg, ErrMemWrite
	}

	res, err = _alloc.Call(ctx, 4*5)
	if err != nil {
		return nil, cfg, fmt.Errorf("alloc: %w", err)
	}
	defer _free.Call(ctx, res[0])

	widthPtr := res[0]
	heightPtr := res[0] + 4
	colorspacePtr := res[0] + 8
	chromaPtr := res[0] + 12
	premultipliedPtr := res[0] + 16

	res, err = _decode.Call(ctx, inPtr, uint64(inSize), 1, widthPtr, heightPtr, colorspacePtr, chromaPtr, premultipliedPtr, 0)
	if err != nil {
		return nil, cfg, fmt.Errorf("decode: %w", err)
	}

	if res[0] == 0 {
		return nil, cfg, ErrDecode
	}

	width, ok := mod.Memory().ReadUint32Le(uint32(widthPtr))
	if !ok {
		return nil, cfg, ErrMemRead
	}

	height, ok := mod.Memory().ReadUint32Le(uint32(heightPtr))
	if !ok {
		return nil, cfg, ErrMemRead
	}

	colorspace, ok := mod.Memory().ReadUint32Le(uint32(colorspacePtr))
	if !ok {
		return nil, cfg, ErrMemRead
	}

	chroma, ok := mod.Memory().ReadUint32Le(uint32(chromaPtr))
	if !ok {
		return nil, cfg, ErrMemRead
	}

	premultiplied, ok := mod.Memory().ReadUint32Le(uint32(premultipliedPtr))
	if !ok {
		return nil, cfg, ErrMemRead
	}

	cfg.Width = int(width)
	cfg.Height = int(height)

	switch colorspace {
	case heifColorspaceYCbCr:
		cfg.ColorModel = color.YCbCrModel
	case heifColorspaceMonochrome:
		cfg.ColorModel = color.GrayModel
	case heifColorspaceRGB:
		if premultiplied == 1 {
			cfg.ColorModel = color.RGBAModel
		} else {
			cfg.ColorModel = color.NRGBAModel
		}
	}

	var size int
	var stride int
	var w, h, cw, ch int
	var i0, i1, i2 int
	var subsampleRatio image.YCbCrSubsampleRatio

	rect := image.Rect(0, 0, cfg.Width, cfg.Height)

	switch colorspace {
	case heifColorspaceYCbCr:
		switch chroma {
		case heifChroma420:
			subsampleRatio = image.YCbCrSubsampleRatio420
		case heifChroma422:
			subsampleRatio = image.YCbCrSubsampleRatio422
		case heifChroma444:
			subsampleRatio = image.YCbCrSubsampleRatio444
		default:
			return nil, cfg, fmt.Errorf("unsupported chroma %d", chroma)
		}

		w, h, cw, ch = yCbCrSize(rect, subsampleRatio)
		w = alignm(w)
		cw = alignm(cw)

		i0 = w * h
		i1 = w*h + 1*cw*ch
		i2 = w*h + 2*cw*ch

		size = i2
	case heifColorspaceMonochrome:
		stride = alignm(cfg.Width * 1)
		size = cfg.Height * stride
	case heifColorspaceRGB:
		stride = alignm(cfg.Width * 4)
		size = cfg.Height * stride
	default:
		return nil, cfg, fmt.Errorf("unsupported colorspace %d", colorspace)
	}

	res, err = _alloc.Call(ctx, uint64(size))
	if err != nil {
		return nil, cfg, fmt.Errorf("alloc: %w", err)
	}
	outPtr := res[0]
	defer _free.Call(ctx, outPtr)

	res, err = _decode.Call(ctx, inPtr, uint64(inSize), 0, widthPtr, heightPtr, colorspacePtr, chromaPtr, premultipliedPtr, outPtr)
	if err != nil {
		return nil, cfg, fmt.Errorf("decode: %w", err)
	}

	if res[0] == 0 {
		return nil, cfg, ErrDecode
	}

	out, ok := mod.Memory().Read(uint32(outPtr), uint32(size))
	if !ok {
		return nil, cfg, ErrMemRead
	}

	var img image.Image

	switch colorspace {
	case heifColorspaceYCbCr:
		img = &image.YCbCr{
			Y:              out[:i0:i0],
			Cb:             out[i0:i1:i1],
			Cr:             out[i1:i2:i2],
			SubsampleRatio: subsampleRatio,
			YStride:        w,
			CStride:        cw,
			Rect:           rect,
		}
	case heifColorspaceMonochrome:
		img = &image.Gray{
			Pix:    out,
			Stride: stride,
			Rect:   rect,
		}
	case heifColorspaceRGB:
		if premultiplied == 1 {
			img = &image.RGBA{
				Pix:    out,
				Stride: stride,
				Rect:   rect,
			}
		} else {
			img = &image.NRGBA{
				Pix:    out,
				Stride: stride,
				Rect:   rect,
			}
		}
	}

	return img, cfg, nil
}

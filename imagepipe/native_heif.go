//go:build !nodynamic

package imagepipe

import (
	"errors"
	"image"
	"runtime"
	"unsafe"
)

// libheif constants (heif.h, stable since 1.x).
const (
	heifColorspaceRGB         = 1
	heifChromaInterleavedRGBA = 11
	heifChannelInterleaved    = 10
)

// heifOptions mirrors the head of struct heif_decoding_options (version ≥ 2).
type heifOptions struct {
	version               uint8
	ignoreTransformations uint8
	startProgress         uintptr
	onProgress            uintptr
	endProgress           uintptr
	progressUserData      uintptr
	convertHDRTo8bit      uint8
}

// heifErr is the first word of struct heif_error {int code; int subcode;
// const char* message}, returned in registers: code and subcode.
type heifErr uint64

func (e heifErr) code() uint32 { return uint32(e) }

// heifLib is libheif's C API, bound on first use.
type heifLib struct {
	nativeLib
	version       func() *byte
	ctxAlloc      func() uintptr
	ctxFree       func(ctx uintptr)
	readMem       func(ctx uintptr, mem *byte, size uint64, opts *heifOptions) heifErr
	primary       func(ctx uintptr, handle *uintptr) heifErr
	itemHandle    func(ctx uintptr, id uint32, handle *uintptr) heifErr
	handleRelease func(handle uintptr)
	hasAlpha      func(handle uintptr) int32
	premultiplied func(handle uintptr) int32
	optsAlloc     func() *heifOptions
	optsFree      func(opts *heifOptions)
	decodeImage   func(handle uintptr, img *uintptr, cs, chroma int32, opts *heifOptions) heifErr
	imageWidth    func(img uintptr, ch int32) int32
	imageHeight   func(img uintptr, ch int32) int32
	planeReadonly func(img uintptr, ch int32, stride *int32) *byte
	imageRelease  func(img uintptr)
	heifYUV
}

// load opens libheif on the first call.
func (l *heifLib) load() bool {
	return l.nativeLib.load([]string{"libheif.so.1", "libheif.so", "libheif.1.dylib"}, func(h uintptr) {
		reg := binder(h)
		reg(&l.version, "heif_get_version")
		reg(&l.ctxAlloc, "heif_context_alloc")
		reg(&l.ctxFree, "heif_context_free")
		reg(&l.readMem, "heif_context_read_from_memory_without_copy")
		reg(&l.primary, "heif_context_get_primary_image_handle")
		reg(&l.itemHandle, "heif_context_get_image_handle")
		reg(&l.handleRelease, "heif_image_handle_release")
		reg(&l.hasAlpha, "heif_image_handle_has_alpha_channel")
		reg(&l.premultiplied, "heif_image_handle_is_premultiplied_alpha")
		reg(&l.optsAlloc, "heif_decoding_options_alloc")
		reg(&l.optsFree, "heif_decoding_options_free")
		reg(&l.decodeImage, "heif_decode_image")
		reg(&l.imageWidth, "heif_image_get_width")
		reg(&l.imageHeight, "heif_image_get_height")
		reg(&l.planeReadonly, "heif_image_get_plane_readonly")
		reg(&l.imageRelease, "heif_image_release")
		l.heifYUV.bind(reg)
	})
}

// decodeHEIFNative decodes the primary image with the system libheif into
// 8-bit RGBA: libheif applies the colour matrix and range (limited or full),
// the alpha auxiliary image, grids, the irot/imir transforms and 10-bit
// reduction itself. The pixels stay in libheif's memory: the image is only
// valid until release is called (after the shrink), which saves a 48 MB
// copy for a 12 MP photo. planes lets an opaque 8-bit BT.601 full-range
// image come back as its 4:2:0 planes (decodePlanes) and, when maxSide > 0
// and the image is a grid (a phone photo), already shrunk towards maxSide
// tile by tile (decodeGrid); tests turn them off to compare with libheif's
// RGBA. handled is false when libheif is absent.
func (n *natives) decodeHEIFNative(data []byte, maxSide int, planes bool) (img image.Image, release func(), handled bool, err error) {
	heif := &n.heif
	if len(data) == 0 || !heif.load() {
		return nil, nil, false, nil
	}
	ctx := heif.ctxAlloc()
	if ctx == 0 {
		return nil, nil, false, nil
	}
	var handle, himg uintptr
	done := func() {
		if himg != 0 {
			heif.imageRelease(himg)
		}
		if handle != 0 {
			heif.handleRelease(handle)
		}
		heif.ctxFree(ctx)
		runtime.KeepAlive(data)
	}
	fail := func(what string) (image.Image, func(), bool, error) {
		done()
		return nil, nil, true, errors.New("libheif: " + what)
	}
	if heif.readMem(ctx, &data[0], uint64(len(data)), nil).code() != 0 {
		return fail("cannot read the file")
	}
	if heif.primary(ctx, &handle).code() != 0 {
		return fail("no primary image")
	}
	opts := heif.optsAlloc()
	if opts != nil {
		opts.convertHDRTo8bit = 1
		defer heif.optsFree(opts)
	}
	if planes && maxSide > 0 && heif.planesUsable(handle) {
		if g, err := heifGridOf(data); err == nil {
			if m, ok := heif.decodeGrid(data, g, opts, maxSide); ok {
				done()
				return m, nil, true, nil
			}
		}
	}
	if planes {
		if m, ok := heif.decodePlanes(handle, &himg, opts); ok {
			return m, done, true, nil
		} else if himg != 0 {
			heif.imageRelease(himg)
			himg = 0
		}
	}
	if heif.decodeImage(handle, &himg, heifColorspaceRGB, heifChromaInterleavedRGBA, opts).code() != 0 {
		return fail("cannot decode the image")
	}
	w := int(heif.imageWidth(himg, heifChannelInterleaved))
	h := int(heif.imageHeight(himg, heifChannelInterleaved))
	var stride int32
	p := heif.planeReadonly(himg, heifChannelInterleaved, &stride)
	if p == nil || w <= 0 || h <= 0 || int(stride) < 4*w {
		return fail("no pixels")
	}
	pix := unsafe.Slice(p, int(stride)*(h-1)+4*w)
	rect := image.Rect(0, 0, w, h)
	if heif.premultiplied(handle) != 0 {
		img = &image.RGBA{Pix: pix, Stride: int(stride), Rect: rect}
	} else {
		img = &image.NRGBA{Pix: pix, Stride: int(stride), Rect: rect}
	}
	return img, done, true, nil
}

// heifNativeVersion is the loaded libheif's version, "" when absent.
func (n *natives) heifNativeVersion() string {
	if !n.heif.load() {
		return ""
	}
	return cString(n.heif.version())
}

//go:build !nodynamic

package imagepipe

import (
	"image"
	"unsafe"
)

// The 8-bit opaque HEIC (a phone photo) is taken from libheif as its
// decoded 4:2:0 planes rather than converted to RGBA: the conversion of
// 12 MP cost ~100 ms and a 48 MB buffer (peak RSS 122–135 MB), while the
// box pre-shrink reads the planes directly and converts only the pixels
// it keeps. Only where the planes mean what boxYCbCr assumes: BT.601
// full range, which is libheif's default when the file declares no nclx
// colour (TestHEIFYCbCrMatchesRGBA checks it on the files here); any other
// declared matrix or limited range, alpha, or more than 8 bits keep the
// RGBA path, where libheif applies them.

const (
	heifColorspaceYCbCr = 0
	heifChroma420       = 1
)

// heifNCLX is the start of libheif's struct heif_color_profile_nclx.
type heifNCLX struct {
	version        uint8
	_              [3]byte
	colorPrimaries int32
	transfer       int32
	matrix         int32
	fullRange      uint8
}

// heifYUV is the part of libheif's API that the planes path needs.
type heifYUV struct {
	lumaBits   func(handle uintptr) int32
	chromaBits func(handle uintptr) int32
	nclx       func(handle uintptr, out **heifNCLX) heifErr
	nclxFree   func(p *heifNCLX)
}

func (y *heifYUV) bind(reg func(fptr any, name string)) {
	reg(&y.lumaBits, "heif_image_handle_get_luma_bits_per_pixel")
	reg(&y.chromaBits, "heif_image_handle_get_chroma_bits_per_pixel")
	reg(&y.nclx, "heif_image_handle_get_nclx_color_profile")
	reg(&y.nclxFree, "heif_nclx_color_profile_free")
}

// planesUsable says whether handle's image can be taken as 4:2:0
// planes in BT.601 full range.
func (heif *heifLib) planesUsable(handle uintptr) bool {
	if heif.hasAlpha(handle) != 0 || heif.lumaBits(handle) != 8 || heif.chromaBits(handle) != 8 {
		return false
	}
	var p *heifNCLX
	if heif.nclx(handle, &p).code() != 0 || p == nil {
		return true // no declared colour: libheif's default, BT.601 full range
	}
	defer heif.nclxFree(p)
	return (p.matrix == 5 || p.matrix == 6) && p.fullRange != 0
}

// decodePlanes decodes handle to 4:2:0 planes into *himg (which the
// caller releases) and wraps them, without a copy, as an image.YCbCr.
func (heif *heifLib) decodePlanes(handle uintptr, himg *uintptr, opts *heifOptions) (*image.YCbCr, bool) {
	if !heif.planesUsable(handle) {
		return nil, false
	}
	if heif.decodeImage(handle, himg, heifColorspaceYCbCr, heifChroma420, opts).code() != 0 {
		return nil, false
	}
	w, h := int(heif.imageWidth(*himg, 0)), int(heif.imageHeight(*himg, 0))
	cw, ch := (w+1)/2, (h+1)/2
	var ys, cbs, crs int32
	y := heif.planeReadonly(*himg, 0, &ys)
	cb := heif.planeReadonly(*himg, 1, &cbs)
	cr := heif.planeReadonly(*himg, 2, &crs)
	if y == nil || cb == nil || cr == nil || w <= 0 || h <= 0 || cbs != crs ||
		int(ys) < w || int(cbs) < cw ||
		int(heif.imageWidth(*himg, 1)) != cw || int(heif.imageHeight(*himg, 1)) != ch {
		return nil, false
	}
	return &image.YCbCr{
		Y:              unsafe.Slice(y, int(ys)*(h-1)+w),
		Cb:             unsafe.Slice(cb, int(cbs)*(ch-1)+cw),
		Cr:             unsafe.Slice(cr, int(crs)*(ch-1)+cw),
		YStride:        int(ys),
		CStride:        int(cbs),
		SubsampleRatio: image.YCbCrSubsampleRatio420,
		Rect:           image.Rect(0, 0, w, h),
	}, true
}

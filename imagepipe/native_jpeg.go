//go:build !nodynamic

package imagepipe

import (
	"bytes"
	"image"
	"runtime"
	"unsafe"
)

// TurboJPEG 2.x API constants (turbojpeg.h).
const (
	tjpfRGBA     = 7
	tjerrWarning = 0
)

// turboLib is libjpeg-turbo's TurboJPEG API, bound on first use.
type turboLib struct {
	nativeLib
	initDecompress func() uintptr
	header3        func(h uintptr, buf *byte, size uint64, w, ht, subsamp, cs *int32) int32
	decompress2    func(h uintptr, buf *byte, size uint64, dst *byte, w, pitch, ht, pf, flags int32) int32
	errorStr2      func(h uintptr) *byte
	errorCode      func(h uintptr) int32
	destroy        func(h uintptr) int32
	initCompress   func() uintptr
	compress2      func(h uintptr, src *byte, w, pitch, ht, pf int32, dst **byte, size *uint64, subsamp, qual, flags int32) int32
	free           func(p *byte)
	toYUVPlanes    func(h uintptr, buf *byte, size uint64, planes **byte, w int32, strides *int32, ht, flags int32) int32
	planeWidth     func(comp, w, subsamp int32) int32
	planeHeight    func(comp, h, subsamp int32) int32
}

// load opens libjpeg-turbo on the first call.
func (t *turboLib) load() bool {
	return t.nativeLib.load([]string{"libturbojpeg.so.0", "libturbojpeg.so", "libturbojpeg.0.dylib"}, func(h uintptr) {
		reg := binder(h)
		reg(&t.initDecompress, "tjInitDecompress")
		reg(&t.header3, "tjDecompressHeader3")
		reg(&t.decompress2, "tjDecompress2")
		reg(&t.errorStr2, "tjGetErrorStr2")
		reg(&t.errorCode, "tjGetErrorCode")
		reg(&t.destroy, "tjDestroy")
		reg(&t.initCompress, "tjInitCompress")
		reg(&t.compress2, "tjCompress2")
		reg(&t.free, "tjFree")
		reg(&t.toYUVPlanes, "tjDecompressToYUVPlanes")
		reg(&t.planeWidth, "tjPlaneWidth")
		reg(&t.planeHeight, "tjPlaneHeight")
	})
}

// jpegScale returns the DCT scale numerator (of 8) for decoding a w×h JPEG:
// the smallest of 1/8, 1/4, 1/2 and 1 whose longest side still covers
// maxSide, so the final resample only ever shrinks.
func jpegScale(w, h, maxSide int) int {
	long := max(w, h)
	for _, num := range []int{1, 2, 4} {
		if (long*num+7)/8 >= maxSide {
			return num
		}
	}
	return 8
}

// decodeJPEGTurbo decodes data with libjpeg-turbo at the DCT scale that
// covers maxSide. handled is false when the library is absent or refuses
// the file (e.g. CMYK), so the caller falls back to image/jpeg. A warning
// (recoverable corruption, as libjpeg reports it) comes back in warn with
// the decoded image.
func (n *natives) decodeJPEGTurbo(data []byte, maxSide int) (img image.Image, warn string, handled bool) {
	turbo := &n.turbo
	if len(data) == 0 || !turbo.load() {
		return nil, "", false
	}
	h := turbo.initDecompress()
	if h == 0 {
		return nil, "", false
	}
	defer turbo.destroy(h)
	var w, ht, sub, cs int32
	if turbo.header3(h, &data[0], uint64(len(data)), &w, &ht, &sub, &cs) != 0 {
		return nil, "", false
	}
	num := jpegScale(int(w), int(ht), maxSide)
	sw, sh := (int(w)*num+7)/8, (int(ht)*num+7)/8
	var m image.Image
	var rc int32
	if p, ok := turbo.yuvPlanes(sw, sh, sub, cs); ok {
		rc = turbo.toYUVPlanes(h, &data[0], uint64(len(data)), &p.ptrs[0], int32(sw), &p.strides[0], int32(sh), 0)
		m = p.img
	} else {
		rc, m = turbo.decodeRGBA(h, data, sw, sh)
	}
	runtime.KeepAlive(data)
	if rc != 0 {
		msg := cString(turbo.errorStr2(h))
		if turbo.errorCode(h) != tjerrWarning {
			// Fatal (CMYK, damage beyond repair): image/jpeg gets its try
			// and, if it fails too, the error.
			return nil, "", false
		}
		warn = "libjpeg-turbo: " + msg
	}
	return m, warn, true
}

// TurboJPEG subsampling and colourspace constants (turbojpeg.h).
const (
	tjSamp444, tjSamp422, tjSamp420, tjSampGray, tjSamp440, tjSamp411 = 0, 1, 2, 3, 4, 5
	tjcsYCbCr, tjcsGray                                               = 1, 2
)

// yuvDest is where tjDecompressToYUVPlanes writes: img's planes.
type yuvDest struct {
	img     image.Image // *image.YCbCr, or *image.Gray for a grayscale file
	ptrs    [3]*byte
	strides [3]int32
}

// yuvPlanes allocates the planes of a sw×sh YCbCr or grayscale JPEG with
// subsampling sub, as libjpeg-turbo lays them out (rows padded to whole
// MCUs): the scaled decode stops there, skipping the upsampling and colour
// conversion that resizeYCbCr then does at the output size. ok is false
// for colourspaces and subsamplings image.YCbCr cannot hold (CMYK, 4:4:1).
func (t *turboLib) yuvPlanes(sw, sh int, sub, cs int32) (d yuvDest, ok bool) {
	ratio, ok := tjRatio(sub)
	rect := image.Rect(0, 0, sw, sh)
	plane := func(c int32) []byte {
		pw, ph := t.planeWidth(c, int32(sw), sub), t.planeHeight(c, int32(sh), sub)
		if pw <= 0 || ph <= 0 {
			return nil
		}
		p := make([]byte, int(pw)*int(ph))
		d.ptrs[c], d.strides[c] = &p[0], pw
		return p
	}
	switch {
	case cs == tjcsGray && sub == tjSampGray:
		y := plane(0)
		if y == nil {
			return d, false
		}
		d.img = &image.Gray{Pix: y, Stride: int(d.strides[0]), Rect: rect}
		return d, true
	case cs == tjcsYCbCr && ok:
		y, cb, cr := plane(0), plane(1), plane(2)
		if y == nil || cb == nil || cr == nil || d.strides[1] != d.strides[2] {
			return d, false
		}
		d.img = &image.YCbCr{Y: y, Cb: cb, Cr: cr, YStride: int(d.strides[0]), CStride: int(d.strides[1]),
			SubsampleRatio: ratio, Rect: rect}
		return d, true
	}
	return d, false
}

// tjRatio is image.YCbCr's name for TurboJPEG subsampling sub.
func tjRatio(sub int32) (image.YCbCrSubsampleRatio, bool) {
	switch sub {
	case tjSamp444:
		return image.YCbCrSubsampleRatio444, true
	case tjSamp422:
		return image.YCbCrSubsampleRatio422, true
	case tjSamp420:
		return image.YCbCrSubsampleRatio420, true
	case tjSamp440:
		return image.YCbCrSubsampleRatio440, true
	case tjSamp411:
		return image.YCbCrSubsampleRatio411, true
	}
	return 0, false
}

// decodeRGBA decodes into a fresh sw×sh NRGBA (JPEGs in other colourspaces).
func (t *turboLib) decodeRGBA(h uintptr, data []byte, sw, sh int) (int32, image.Image) {
	// JPEG is opaque (TJPF_RGBA writes alpha 255): as NRGBA the resampler
	// copies rows instead of un-premultiplying every pixel.
	m := image.NewNRGBA(image.Rect(0, 0, sw, sh))
	rc := t.decompress2(h, &data[0], uint64(len(data)), &m.Pix[0], int32(sw), int32(m.Stride), int32(sh), tjpfRGBA, 0)
	return rc, m
}

// encodeJPEGTurbo writes m (opaque) as a 4:2:0 JPEG of quality q into buf
// with libjpeg-turbo, several times faster than image/jpeg; ok is false
// when the library is absent or fails, and the caller encodes in Go.
func (n *natives) encodeJPEGTurbo(buf *bytes.Buffer, m *image.NRGBA, q int) (ok bool) {
	turbo := &n.turbo
	b := m.Rect
	if b.Empty() || !turbo.load() {
		return false
	}
	h := turbo.initCompress()
	if h == 0 {
		return false
	}
	defer turbo.destroy(h)
	var out *byte
	var size uint64
	rc := turbo.compress2(h, &m.Pix[0], int32(b.Dx()), int32(m.Stride), int32(b.Dy()), tjpfRGBA, &out, &size, tjSamp420, int32(q), 0)
	runtime.KeepAlive(m)
	if out == nil {
		return false
	}
	defer turbo.free(out)
	if rc != 0 {
		return false
	}
	buf.Write(unsafe.Slice(out, size))
	return true
}

// turboVersion names the loaded libjpeg-turbo, "" when absent. TurboJPEG
// 2.x has no version call; the soname is what was loaded.
func (n *natives) turboVersion() string {
	if !n.turbo.load() {
		return ""
	}
	return n.turbo.name
}

func nativeBuild() bool { return true }

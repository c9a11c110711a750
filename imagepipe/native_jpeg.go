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
	// JPEG is opaque (TJPF_RGBA writes alpha 255): as NRGBA the resampler
	// copies rows instead of un-premultiplying every pixel.
	m := image.NewNRGBA(image.Rect(0, 0, sw, sh))
	rc := turbo.decompress2(h, &data[0], uint64(len(data)), &m.Pix[0], int32(sw), int32(m.Stride), int32(sh), tjpfRGBA, 0)
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

const tjSamp420 = 2

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

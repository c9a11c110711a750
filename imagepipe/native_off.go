//go:build nodynamic

package imagepipe

import (
	"bytes"
	"image"
)

// Built with -tags nodynamic (the static binary): no system library is
// loaded and every format takes its pure-Go (or WebAssembly) decoder.

// natives is empty: there is nothing to load.
type natives struct{}

func (*natives) decodeJPEGTurbo([]byte, int) (image.Image, string, bool) { return nil, "", false }

func (*natives) decodeHEIFNative([]byte, int, bool) (image.Image, func(), bool, error) {
	return nil, nil, false, nil
}

func (*natives) turboVersion() string      { return "" }
func (*natives) heifNativeVersion() string { return "" }

func (*natives) encodeJPEGTurbo(*bytes.Buffer, *image.NRGBA, int) bool { return false }

func nativeBuild() bool { return false }

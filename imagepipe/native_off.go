//go:build nodynamic

package imagepipe

import (
	"bytes"
	"image"
)

// Built with -tags nodynamic (the static binary): no system library is
// loaded and every format takes its pure-Go (or WebAssembly) decoder.

func decodeJPEGTurbo([]byte, int) (image.Image, string, bool) { return nil, "", false }

func decodeHEIFNative([]byte) (image.Image, func(), bool, error) { return nil, nil, false, nil }

func turboVersion() string      { return "" }
func heifNativeVersion() string { return "" }
func nativeBuild() bool         { return false }

func encodeJPEGTurbo(*bytes.Buffer, *image.NRGBA, int) bool { return false }

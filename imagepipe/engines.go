package imagepipe

// Decoders says which decoder each format with a fast path takes in this
// process: the system library (loaded on this call if it was not yet) or
// the pure-Go/WebAssembly fallback. fast is true when both system
// libraries are in use. For `tableround doctor`.
func Decoders() (summary string, fast bool) {
	jpeg := "JPEG: pure Go (DCT-scaled decode)"
	if v := turboVersion(); v != "" {
		jpeg = "JPEG: system libjpeg-turbo (" + v + ", DCT-scaled decode; progressive files in pure Go, scaled)"
	}
	heif := "HEIC: WebAssembly libheif (compiled once per process, on the first HEIC)"
	if v := heifNativeVersion(); v != "" {
		heif = "HEIC: system libheif " + v
	}
	return jpeg + "; " + heif, turboVersion() != "" && heifNativeVersion() != ""
}

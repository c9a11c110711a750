package main

// checkImages says which photo decoders are active. The pure-Go fallback
// works, only slower, so its absence is a warning, never a failure.
func (d *doctor) checkImages() {
	summary, fast := photos.Decoders()
	if fast {
		d.add(check{name: "photo decoders", status: checkOK, detail: summary})
		return
	}
	d.add(check{name: "photo decoders", status: checkWarn, detail: summary,
		fix: "for the fast path install libturbojpeg0 and libheif1 (Debian) and use a build without -tags nodynamic"})
}

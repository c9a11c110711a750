//go:build !nodynamic

package imagepipe

import (
	"fmt"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
)

// The fast path: the system's libjpeg-turbo (Debian libturbojpeg0) and
// libheif (libheif1), loaded at run time through purego, as gen2brain/heic
// loads libheif: no cgo, and a binary without the libraries (or built with
// -tags nodynamic) takes the pure-Go path instead.

// natives are the system libraries a Pipeline uses, each opened on first
// use. dlopen itself is process-wide (the loader hands every caller the same
// handle and counts references, and never unloads these here); what a
// Pipeline owns is its bindings to them and whether loading worked.
type natives struct {
	turbo turboLib
	heif  heifLib
}

// nativeLib is one shared library, opened once per owner on first use.
type nativeLib struct {
	once sync.Once
	name string // the soname that opened
	ok   bool
	err  error
}

// load opens the first of names that exists and binds its functions with
// bind; it reports whether the library is usable.
func (l *nativeLib) load(names []string, bind func(h uintptr)) bool {
	l.once.Do(func() {
		var h uintptr
		for _, name := range names {
			if h, l.err = purego.Dlopen(name, purego.RTLD_NOW|purego.RTLD_LOCAL); l.err == nil {
				l.name = name
				break
			}
		}
		if l.err != nil {
			return
		}
		defer func() { // RegisterLibFunc panics on a missing symbol
			if r := recover(); r != nil {
				l.err = fmt.Errorf("%v", r)
			}
		}()
		bind(h)
		l.ok = true
	})
	return l.ok
}

// cString copies a NUL-terminated C string.
func cString(p *byte) string {
	if p == nil {
		return ""
	}
	var b []byte
	for q := p; *q != 0; q = ptrAdd(q, 1) {
		b = append(b, *q)
	}
	return string(b)
}

// binder binds C functions of the library h; it panics on a missing
// symbol, which nativeLib.load turns into an error.
func binder(h uintptr) func(fptr any, name string) {
	return func(fptr any, name string) { purego.RegisterLibFunc(fptr, h, name) }
}

// ptrAdd advances a C byte pointer.
func ptrAdd(p *byte, n int) *byte { return (*byte)(unsafe.Add(unsafe.Pointer(p), n)) }

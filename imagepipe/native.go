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

// nativeLib is one shared library, opened once per process on first use.
type nativeLib struct {
	names []string
	name  string // the one that opened
	once  sync.Once
	ok    bool
	err   error
	bind  func(h uintptr) error
}

func (l *nativeLib) load() bool {
	l.once.Do(func() {
		var h uintptr
		for _, name := range l.names {
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
		l.err = l.bind(h)
		l.ok = l.err == nil
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

// registerLibFunc binds a C function; it panics on a missing symbol, which
// nativeLib.load turns into an error.
func registerLibFunc(fptr any, h uintptr, name string) { purego.RegisterLibFunc(fptr, h, name) }

// ptrAdd advances a C byte pointer.
func ptrAdd(p *byte, n int) *byte { return (*byte)(unsafe.Add(unsafe.Pointer(p), n)) }

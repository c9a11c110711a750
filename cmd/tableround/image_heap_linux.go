package main

import (
	"runtime"
	"syscall"
	"unsafe"
)

// madvHugePage is Linux's MADV_HUGEPAGE (asm-generic/mman-common.h).
const madvHugePage = 14

// hugePageSize is the x86-64 and arm64 transparent huge page size.
const hugePageSize = 2 << 20

// heapOnHugePages lets the next n bytes of Go heap that `tableround
// image` fills be backed by 2 MB transparent huge pages, where the kernel
// allows them (THP "madvise", Debian's default). A cold run first-touches
// ~10 MB of heap for a 12 MP JPEG (input, decoded pixels, resample
// buffers), 4 KB at a time: ~2,900 page faults, which cost ~15 µs each on
// a virtual machine (a third of the run here), against one fault per 2 MB.
//
// The runtime no longer asks for huge pages itself, so this allocates an
// n-byte block (fresh address space the heap has just mapped, not yet
// touched), marks it MADV_HUGEPAGE and frees it with a collection: the
// allocations that follow reuse those pages, and the kernel keeps the
// advice on them even after the scavenger returns them. Without THP the
// advice fails and nothing changes.
func heapOnHugePages(n int) {
	b := make([]byte, n)
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	lo := (p + hugePageSize - 1) &^ (hugePageSize - 1)
	hi := (p + uintptr(n)) &^ (hugePageSize - 1)
	if hi > lo {
		_ = syscall.Madvise(b[lo-p:hi-p], madvHugePage)
	}
	runtime.KeepAlive(b)
	b = nil
	runtime.GC()
}

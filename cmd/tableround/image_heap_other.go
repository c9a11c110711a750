//go:build !linux

package main

// heapOnHugePages does nothing outside Linux (see image_heap_linux.go).
func heapOnHugePages(int) {}

package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"sync"
	"time"
)

// profiler writes the run's CPU profile (first mention to the end) and a
// heap profile taken when the process's RSS is at its highest, and notes
// the peak goroutine count and Go heap while the sessions run.
type profiler struct {
	cpuPath, memPath string
	cpuFile          *os.File

	stop chan struct{}
	done sync.WaitGroup

	mu             sync.Mutex
	peakRSSKB      int // VmRSS when the heap profile was last written
	peakGoroutines int
	peakHeapBytes  uint64 // live + unswept heap objects, runtime/metrics
	peakStackBytes uint64 // goroutine stacks
	// rssAt is VmRSS's split at its highest sample: anonymous memory (Go's
	// heap, stacks and runtime) and file pages (the binary, and the bbolt
	// file's pages read through its memory map: clean, reclaimable).
	rssAt       rssSplit
	heapWritten time.Time
	err         error
}

// profileEvery is how often the sampler looks at RSS, goroutines and heap.
const profileEvery = 500 * time.Millisecond

// startProfiler starts the CPU profile (if asked) and the sampler.
func startProfiler(cpuPath, memPath string) (*profiler, error) {
	p := &profiler{cpuPath: cpuPath, memPath: memPath, stop: make(chan struct{})}
	if cpuPath != "" {
		f, err := os.Create(cpuPath)
		if err != nil {
			return nil, fmt.Errorf("cpu profile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("cpu profile: %w", err)
		}
		p.cpuFile = f
	}
	p.done.Add(1)
	go p.sample()
	return p, nil
}

func (p *profiler) sample() {
	defer p.done.Done()
	t := time.NewTicker(profileEvery)
	defer t.Stop()
	samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/stacks:bytes"}}
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		metrics.Read(samples)
		var heap, stacks uint64
		if samples[0].Value.Kind() == metrics.KindUint64 {
			heap = samples[0].Value.Uint64()
		}
		if samples[1].Value.Kind() == metrics.KindUint64 {
			stacks = samples[1].Value.Uint64()
		}
		v := vmKBs("VmRSS", "RssAnon", "RssFile", "RssShmem")
		rss := v[0]
		p.mu.Lock()
		if rss > p.rssAt.totalKB {
			p.rssAt = rssSplit{totalKB: rss, anonKB: v[1], fileKB: v[2] + v[3]}
		}
		p.peakGoroutines = max(p.peakGoroutines, runtime.NumGoroutine())
		p.peakHeapBytes = max(p.peakHeapBytes, heap)
		p.peakStackBytes = max(p.peakStackBytes, stacks)
		// A new RSS high (by 1 %, so a slow creep does not rewrite the
		// profile every tick) replaces the heap profile.
		write := p.memPath != "" && rss > p.peakRSSKB+p.peakRSSKB/100
		if write {
			p.peakRSSKB = rss
		}
		p.mu.Unlock()
		if write {
			if err := writeProfiles(p.memPath); err != nil {
				p.mu.Lock()
				p.err = err
				p.mu.Unlock()
			}
		}
	}
}

// peaks are the highest goroutine count, Go heap and goroutine stacks the
// sampler saw.
type peaks struct {
	goroutines            int
	heapBytes, stackBytes uint64
	rss                   rssSplit
}

// rssSplit is one sample of VmRSS and its parts, in kB.
type rssSplit struct{ totalKB, anonKB, fileKB int }

// finish stops the sampler and the CPU profile and returns the peaks.
func (p *profiler) finish(_ context.Context) (pk peaks, err error) {
	close(p.stop)
	p.done.Wait()
	if p.cpuFile != nil {
		pprof.StopCPUProfile()
		if cerr := p.cpuFile.Close(); cerr != nil {
			err = fmt.Errorf("cpu profile: %w", cerr)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.memPath != "" && p.peakRSSKB == 0 && p.err == nil { // the run was shorter than a tick
		p.err = writeProfiles(p.memPath)
	}
	if err == nil {
		err = p.err
	}
	return peaks{p.peakGoroutines, p.peakHeapBytes, p.peakStackBytes, p.rssAt}, err
}

// writeProfiles writes the heap profile as of the last GC to path and the
// goroutine profile of the same moment to path.goroutines.
func writeProfiles(path string) error {
	if err := writeProfile("heap", path); err != nil {
		return err
	}
	return writeProfile("goroutine", path+".goroutines")
}

// writeProfile writes a named profile to path (through a temporary file,
// so a reader never sees half of one).
func writeProfile(name, path string) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("%s profile: %w", name, err)
	}
	if err := pprof.Lookup(name).WriteTo(f, 0); err != nil {
		_ = f.Close()
		return fmt.Errorf("%s profile: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("%s profile: %w", name, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("%s profile: %w", name, err)
	}
	return nil
}

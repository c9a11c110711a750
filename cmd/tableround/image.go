package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/tableround/tableround/imagepipe"
)

const imageUsage = "usage: tableround image prepare IN [OUT]"

// imageReport is what `tableround image prepare` prints: the prepared
// image as the vision model will receive it, and where it was written.
type imageReport struct {
	In  string `json:"in"`
	Out string `json:"out,omitempty"`
	*imagepipe.Result
}

// runImage handles `tableround image prepare IN [OUT]`: it prepares IN with
// the default limits, writes the result to OUT when given, and prints a
// JSON report. Exit codes: 0 ok, 1 bad input or I/O failure, 2 usage.
func runImage(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) < 2 || len(args) > 3 || args[0] != "prepare" {
		fmt.Fprintln(stderr, imageUsage)
		return 2
	}
	in, out := args[1], ""
	if len(args) == 3 {
		out = args[2]
	}
	opt := imagepipe.DefaultOptions()
	data, err := readCapped(in, opt.MaxInputBytes)
	if err != nil {
		fmt.Fprintf(stderr, "tableround image prepare: %v\n", err)
		return 1
	}
	res, err := photos.Prepare(ctx, data, opt)
	if err != nil {
		fmt.Fprintf(stderr, "tableround image prepare: %s: %s (%v)\n", in, imagepipe.UserMessage(err), err)
		return 1
	}
	if out != "" {
		if err := os.WriteFile(out, res.Data, 0o644); err != nil {
			fmt.Fprintf(stderr, "tableround image prepare: write output: %v\n", err)
			return 1
		}
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(imageReport{In: in, Out: out, Result: res}); err != nil {
		fmt.Fprintf(stderr, "tableround image prepare: write report: %v\n", err)
		return 1
	}
	return 0
}

// imageHeapLimit is the soft heap limit of the `tableround image`
// process, under which it does not collect garbage.
const imageHeapLimit = 40 << 20

// imageHugeHeap is how much of the `tableround image` heap is put on
// huge pages before the photo is read: room for a 12 MP JPEG's input,
// decoded pixels and resample buffers (~10 MB) and a 9 MP progressive
// JPEG's (~20 MB with its 9 MB input).
const imageHugeHeap = 24 << 20

// tuneGCForOneImage is called by main (not run, which tests call) for
// `tableround image`: one photo, then exit, so garbage is collected only
// when the heap nears imageHeapLimit, not each time it doubles from the
// ~4 MB it starts at (GC was ~7% of a 12 MP JPEG's cold run), and the
// heap's pages are faulted in 2 MB at a time (heapOnHugePages).
func tuneGCForOneImage() {
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(imageHeapLimit)
	heapOnHugePages(imageHugeHeap)
}

// readCapped reads at most limit+1 bytes of the file, so that an oversized
// input is rejected by imagepipe without being read whole. A regular file
// is read into one buffer of its size (io.ReadAll's doubling copied and
// cleared ~8 MB for a 3.5 MB photo).
func readCapped(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open input: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Size() <= limit {
		data := make([]byte, st.Size())
		n, err := io.ReadFull(f, data)
		if err != nil && err != io.ErrUnexpectedEOF {
			return nil, fmt.Errorf("read input: %w", err)
		}
		return data[:n], nil // a file that shrank while read is read as it is
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read input: %w", err)
	}
	return data, nil
}

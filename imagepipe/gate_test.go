package imagepipe

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"runtime"
	"testing"
	"time"
)

// TestGate: with its one slot taken, a photo waits and gives up when its
// context ends, without being decoded; once the slot is free it is
// prepared.
func TestGate(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 32, 24))
	img.Set(3, 4, color.RGBA{R: 200, A: 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	g := NewGate(testPipe, 1)
	g.sem <- struct{}{} // another photo holds the slot
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := g.Prepare(ctx, buf.Bytes(), DefaultOptions()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Prepare with the slot taken: err = %v, want the context's deadline", err)
	}
	<-g.sem
	res, err := g.Prepare(context.Background(), buf.Bytes(), DefaultOptions())
	if err != nil || res.Width != 32 || res.Height != 24 {
		t.Fatalf("Prepare with a free slot: %+v, %v", res, err)
	}
	if len(g.sem) != 0 {
		t.Errorf("the slot was not given back: %d taken", len(g.sem))
	}
	if n, want := cap(NewGate(testPipe, 0).sem), max(1, runtime.GOMAXPROCS(0)/2); n != want {
		t.Errorf("NewGate(p, 0) has %d slots, want %d (half of GOMAXPROCS)", n, want)
	}
}

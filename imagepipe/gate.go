package imagepipe

import (
	"context"
	"fmt"
	"runtime"
)

// Gate bounds how many photos a process prepares at once. Each Prepare
// holds its decoded pixels (up to 4 bytes × MaxPixels, 48 MB for a 12 MP
// photo) and a core while it runs, so a burst of photos (many people
// starting sessions in the same second) queues here instead of decoding
// together: memory stays bounded, and by default half the cores are left
// to the streaming sessions while a burst is prepared.
type Gate struct {
	p   *Pipeline
	sem chan struct{}
}

// NewGate lets n photos be prepared at once with p; n ≤ 0 means half of
// GOMAXPROCS, at least one.
func NewGate(p *Pipeline, n int) *Gate {
	if n <= 0 {
		n = max(1, runtime.GOMAXPROCS(0)/2)
	}
	return &Gate{p: p, sem: make(chan struct{}, n)}
}

// Prepare waits for a slot (or ctx) and runs the Pipeline's Prepare in it.
func (g *Gate) Prepare(ctx context.Context, data []byte, opt Options) (*Result, error) {
	if err := g.acquire(ctx); err != nil {
		return nil, fmt.Errorf("wait to prepare the photo: %w", err)
	}
	defer g.release()
	return g.p.Prepare(ctx, data, opt)
}

// acquire takes a slot, or returns ctx's error when it ends first.
func (g *Gate) acquire(ctx context.Context) error {
	select {
	case g.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *Gate) release() { <-g.sem }

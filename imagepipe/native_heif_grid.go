//go:build !nodynamic

package imagepipe

import (
	"image"
	"runtime"
	"sync"
	"sync/atomic"
)

// decodeGrid decodes grid g of the HEIC data one tile at a time
// (GOMAXPROCS tiles at once) and sums each into k×k blocks as it arrives
// (boxAcc), so neither the full-size picture nor libheif's RGB 4:4:4 copy
// of it exists: for a 12 MP phone HEIC the pixels held at once are a few
// 512×512 tiles and the 1008×756 sums. It returns the block-averaged
// picture with the grid's rotation and mirroring applied, which shrink
// then resamples as it does the planes of a whole decode. ok is false
// when the tile path does not apply (a reduction under 2×, a tile that is
// not 8-bit 4:2:0 BT.601 full range, tiles of odd or unequal size) or a
// tile fails: the caller then decodes the whole image.
func (heif *heifLib) decodeGrid(data []byte, g *heifGrid, opts *heifOptions, maxSide int) (*image.NRGBA, bool) {
	dw, dh := fitSize(g.w, g.h, maxSide)
	k := blockFactor(g.w, g.h, dw, dh, 2)
	if k < 2 {
		return nil, false
	}
	type tile struct {
		i    int
		img  *image.YCbCr
		himg uintptr
	}
	tiled := g.unhideTiles(data)
	tctx := heif.ctxAlloc()
	if tctx == 0 {
		return nil, false
	}
	defer func() {
		heif.ctxFree(tctx)
		runtime.KeepAlive(tiled)
	}()
	if heif.readMem(tctx, &tiled[0], uint64(len(tiled)), nil).code() != 0 {
		return nil, false
	}
	decoded := make(chan tile)
	var next atomic.Int64
	var failed atomic.Bool
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(g.tiles)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(g.tiles); i = int(next.Add(1) - 1) {
				t := tile{i: i}
				if !failed.Load() {
					t.img, t.himg = heif.decodeTile(tctx, g.tiles[i], opts)
				}
				decoded <- t
			}
		})
	}
	var acc *boxAcc
	tw, th := 0, 0
	for range g.tiles {
		t := <-decoded
		switch {
		case t.img == nil:
			failed.Store(true)
		case acc == nil:
			tw, th = t.img.Rect.Dx(), t.img.Rect.Dy()
			if tw%2 != 0 || th%2 != 0 || tw*g.cols < g.w || th*g.rows < g.h {
				failed.Store(true)
				break
			}
			acc = newBoxAcc(g.w, g.h, k)
			fallthrough
		default:
			if t.img.Rect.Dx() != tw || t.img.Rect.Dy() != th {
				failed.Store(true)
			} else if !failed.Load() {
				acc.add(t.img, t.i%g.cols*tw, t.i/g.cols*th)
			}
		}
		if t.himg != 0 {
			heif.imageRelease(t.himg)
		}
	}
	wg.Wait()
	if failed.Load() {
		return nil, false
	}
	dst := image.NewNRGBA(image.Rect(0, 0, acc.dw, acc.dh))
	acc.finish(dst)
	return g.transform(dst), true
}

// decodeTile decodes one tile item as 4:2:0 planes; the image is nil when
// the tile cannot be taken so (the caller releases himg).
func (heif *heifLib) decodeTile(ctx uintptr, id uint32, opts *heifOptions) (img *image.YCbCr, himg uintptr) {
	var h uintptr
	if heif.itemHandle(ctx, id, &h).code() != 0 || h == 0 {
		return nil, 0
	}
	defer heif.handleRelease(h)
	img, ok := heif.decodePlanes(h, &himg, opts)
	if !ok {
		return nil, himg
	}
	return img, himg
}

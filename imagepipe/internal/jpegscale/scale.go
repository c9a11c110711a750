package jpegscale

import (
	"math"
	mbits "math/bits"
)

// This file is TableRound's, not Go's: the reduced-size inverse DCT and
// the compact store of a progressive file's coefficients.

// coefStore keeps a component's coefficients between progressive scans:
// the first k in zig-zag order as int16 (all that an n×n inverse DCT
// reads, n = the decode scale) and, when k < 64, one bit per remaining
// coefficient saying whether it is nonzero, which is all a later
// refinement scan needs to know of it (T.81 G.1.2.3: correction bits are
// read for the nonzero ones, and a coefficient once nonzero never returns
// to zero). Quantized coefficients of an 8-bit JPEG fit in 12 bits; hostile
// values are clamped.
type coefStore struct {
	k    int
	coef []int16
	mask []uint64
}

// kForScale[n] is 1 + the largest zig-zag index of a coefficient (u, v)
// with u, v < n.
var kForScale = func() (k [9]int) {
	for _, n := range []int{1, 2, 4, 8} {
		for zig, nat := range unzig {
			if nat/8 < n && nat%8 < n {
				k[n] = max(k[n], zig+1)
			}
		}
	}
	return k
}()

func (s *coefStore) allocated() bool { return s.coef != nil }

// init makes room for blocks blocks decoded at scale n.
func (s *coefStore) init(blocks, n int) {
	s.k = kForScale[n]
	s.coef = make([]int16, blocks*s.k)
	if s.k < blockSize {
		s.mask = make([]uint64, blocks)
	}
}

// load fills b with block i's kept coefficients, all that the scaled
// reconstruction reads.
func (s *coefStore) load(b *block, i int) {
	*b = block{}
	for z, v := range s.coef[i*s.k : i*s.k+s.k] {
		b[unzig[z]] = int32(v)
	}
}

// loadForScan fills b with block i as a scan over zigStart..zigEnd needs
// it. Such a scan reads and writes only that band of b (and store saves
// only that band), so only the band is set: zero for a first scan; for a
// refinement scan, the kept coefficients and stand-ins (1) for the other
// nonzero ones, which is all refinement needs to know of them.
func (s *coefStore) loadForScan(b *block, i int, refine bool, zigStart, zigEnd int32) {
	for z := zigStart; z <= zigEnd; z++ {
		b[unzig[z]] = 0
	}
	if !refine {
		return
	}
	c := s.coef[i*s.k : i*s.k+s.k]
	for z := int(zigStart); z <= int(zigEnd) && z < s.k; z++ {
		b[unzig[z]] = int32(c[z])
	}
	if s.mask != nil {
		for m := s.mask[i] & bandMask(zigStart, zigEnd); m != 0; m &= m - 1 {
			b[unzig[mbits.TrailingZeros64(m)]] = 1
		}
	}
}

// bandMask has the bits zigStart..zigEnd set.
func bandMask(zigStart, zigEnd int32) uint64 {
	return (^uint64(0) >> (63 - zigEnd)) &^ (1<<zigStart - 1)
}

// store saves the coefficients zigStart..zigEnd of b, the only ones a scan
// over that band changes, into block i. nz has a bit for each zig-zag
// position that became nonzero in this scan; a coefficient once nonzero
// stays nonzero, so the mask only gains bits.
func (s *coefStore) store(b *block, i int, zigStart, zigEnd int32, nz uint64) {
	c := s.coef[i*s.k : i*s.k+s.k]
	for z := int(zigStart); z <= int(zigEnd) && z < s.k; z++ {
		v := b[unzig[z]]
		c[z] = int16(min(max(v, math.MinInt16), math.MaxInt16))
	}
	if s.mask != nil {
		s.mask[i] |= nz &^ (1<<s.k - 1)
	}
}

// zigOf maps a natural (row-major) coefficient index to its zig-zag index.
var zigOf = func() (z [blockSize]int) {
	for zig, nat := range unzig {
		z[nat] = zig
	}
	return z
}()

// idctTable[n][x*n+u] is C(u)/2 · cos((2x+1)uπ/2n), C(0) = 1/√2: the n-point
// inverse DCT applied to the n lowest frequencies of an 8-point one. With
// the factor 1/2 once per dimension it gives the 8-point transform's
// normalisation, so a DC-only block comes out as F(0,0)/8 at every scale.
var idctTable = func() (t [5][]float32) {
	for _, n := range []int{1, 2, 4} {
		t[n] = make([]float32, n*n)
		for x := range n {
			for u := range n {
				c := 0.5
				if u == 0 {
					c = 0.5 / math.Sqrt2
				}
				t[n][x*n+u] = float32(c * math.Cos(float64(2*x+1)*float64(u)*math.Pi/float64(2*n)))
			}
		}
	}
	return t
}()

// scaledIDCT dequantizes the n×n lowest frequencies of b (natural order;
// qt in zig-zag order) and writes their n×n inverse DCT, level-shifted and
// clamped, to dst (n = 1, 2 or 4).
func scaledIDCT(b *block, qt *block, n int, dst []byte, stride int) {
	switch n {
	case 1:
		dst[0] = clampPix(float32(b[0]*qt[0])/8 + 128)
	case 2:
		idct2(b, qt, dst, stride)
	default:
		idctFloat(b, qt, n, dst, stride)
	}
}

// idct2 is scaledIDCT for n = 2, in integers: every entry of the 2-point
// table is ±(1/2)·cos(π/4), so out = (F00 ± F01 ± F10 ± F11)/8.
func idct2(b *block, qt *block, dst []byte, stride int) {
	f00, f01 := b[0]*qt[0], b[1]*qt[zigOf[1]]
	f10, f11 := b[8]*qt[zigOf[8]], b[9]*qt[zigOf[9]]
	a, d := f00+f10, f00-f10 // rows y=0 and y=1, before the columns
	e, g := f01+f11, f01-f11
	dst[0] = clampInt(a + e)
	dst[1] = clampInt(a - e)
	dst[stride] = clampInt(d + g)
	dst[stride+1] = clampInt(d - g)
}

// clampInt level-shifts and clamps 8× a sample, rounding half up.
func clampInt(v8 int32) uint8 {
	v := (v8+4)>>3 + 128
	return uint8(min(max(v, 0), 255))
}

// idctFloat is scaledIDCT for n = 2 or 4, in float32.
func idctFloat(b *block, qt *block, n int, dst []byte, stride int) {
	var f, tmp [16]float32
	for v := range n {
		for u := range n {
			nat := v*8 + u
			f[v*n+u] = float32(b[nat] * qt[zigOf[nat]])
		}
	}
	t := idctTable[n]
	// Rows: tmp[v][x] = Σ_u f[v][u]·t[x][u].
	for v := range n {
		for x := range n {
			var s float32
			for u := range n {
				s += f[v*n+u] * t[x*n+u]
			}
			tmp[v*n+x] = s
		}
	}
	// Columns: out[y][x] = Σ_v t[y][v]·tmp[v][x].
	for y := range n {
		row := dst[y*stride : y*stride+n]
		for x := range n {
			var s float32
			for v := range n {
				s += t[y*n+v] * tmp[v*n+x]
			}
			row[x] = clampPix(s + 128)
		}
	}
}

func clampPix(v float32) uint8 {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v + 0.5)
}

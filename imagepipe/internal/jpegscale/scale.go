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

// load fills b with block i: the kept coefficients, and 1 as a stand-in
// for every other nonzero one.
func (s *coefStore) load(b *block, i int) {
	*b = block{}
	for z, v := range s.coef[i*s.k : i*s.k+s.k] {
		b[unzig[z]] = int32(v)
	}
	if s.mask != nil {
		for m := s.mask[i]; m != 0; m &= m - 1 {
			b[unzig[mbits.TrailingZeros64(m)]] = 1
		}
	}
}

// store saves the coefficients zigStart..zigEnd of b, the only ones a scan
// over that band changes, into block i.
func (s *coefStore) store(b *block, i int, zigStart, zigEnd int32) {
	c := s.coef[i*s.k : i*s.k+s.k]
	z := int(zigStart)
	for ; z <= int(zigEnd) && z < s.k; z++ {
		v := b[unzig[z]]
		c[z] = int16(min(max(v, math.MinInt16), math.MaxInt16))
	}
	if s.mask == nil {
		return
	}
	m := s.mask[i]
	for ; z <= int(zigEnd); z++ {
		if b[unzig[z]] != 0 {
			m |= 1 << z
		} else {
			m &^= 1 << z
		}
	}
	s.mask[i] = m
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
	if n == 1 {
		dst[0] = clampPix(float32(b[0]*qt[0])/8 + 128)
		return
	}
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

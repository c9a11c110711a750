//go:build ignore

// gen writes the source picture of this folder's JPEGs as PPM: smooth
// gradients, sinusoids of several frequencies and deterministic noise, so
// that every coefficient band is used. Run: go run gen.go > src.ppm, then
// cjpeg as SOURCES.md says.
package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
)

func main() {
	const w, h = 203, 149
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	fmt.Fprintf(out, "P6\n%d %d\n255\n", w, h)
	seed := uint32(7)
	for y := range h {
		for x := range w {
			seed = seed*1664525 + 1013904223
			noise := float64(seed>>24)/255 - 0.5
			fx, fy := float64(x), float64(y)
			r := 128 + 60*math.Sin(fx/9) + 40*math.Cos(fy/5) + 20*noise
			g := 30 + fx/2 + 30*math.Sin((fx+fy)/3) + 10*noise
			b := 200 - fy + 25*math.Sin(fx*fy/400) + 30*noise
			if (x/16+y/16)%2 == 0 { // sharp edges
				g += 40
			}
			for _, v := range []float64{r, g, b} {
				out.WriteByte(byte(min(max(v, 0), 255)))
			}
		}
	}
}

package export

import (
	"fmt"
	"html"
	"io"
	"sort"
	"strings"
	"unicode"

	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/transcript"
)

// The pictures (the KJ affinity diagram and the vote chart) are laid out
// once as a scene of boxes, lines and text; svgScene writes a scene as SVG
// and rasterScene (svg_png.go) draws the same scene as a PNG, so the two
// never disagree.

// shape is one element of a scene. Coordinates are in pixels.
type shape struct {
	kind       string // "rect", "line", "text"
	class      string // SVG class (and group marker for "open"/"close")
	x, y, w, h float64
	fill       string // "#rrggbb" or ""
	stroke     string
	radius     float64
	text       string
	size       float64 // font size
	bold       bool
	anchor     string // "start", "middle", "end"
}

// scene is a laid-out picture.
type scene struct {
	W, H   float64
	Title  string
	Shapes []shape
}

func (s *scene) rect(class string, x, y, w, h float64, fill, stroke string, r float64) {
	s.Shapes = append(s.Shapes, shape{kind: "rect", class: class, x: x, y: y, w: w, h: h, fill: fill, stroke: stroke, radius: r})
}

func (s *scene) line(class string, x1, y1, x2, y2 float64, stroke string) {
	s.Shapes = append(s.Shapes, shape{kind: "line", class: class, x: x1, y: y1, w: x2 - x1, h: y2 - y1, stroke: stroke})
}

func (s *scene) text(class string, x, y float64, text string, size float64, bold bool, anchor, fill string) {
	s.Shapes = append(s.Shapes, shape{kind: "text", class: class, x: x, y: y, text: text, size: size, bold: bold, anchor: anchor, fill: fill})
}

// open and close bracket a group (<g class=…>).
func (s *scene) open(class string) { s.Shapes = append(s.Shapes, shape{kind: "open", class: class}) }
func (s *scene) close()            { s.Shapes = append(s.Shapes, shape{kind: "close"}) }

// groupColors are the KJ groups' fills, cycled.
var groupColors = []string{"#fde2e1", "#e1effd", "#e3f6e5", "#fff2cc", "#efe3fb", "#dff5f3"}

const (
	svgFont   = `system-ui,-apple-system,"Segoe UI","Noto Sans","Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif`
	kjWidth   = 720.0
	kjPad     = 16.0
	kjCols    = 3
	kjLine    = 22.0
	maxLabel  = 26 // display columns of one label before an ellipsis
	voteWidth = 720.0
	voteRow   = 30.0
)

// textWidth estimates a string's width at a font size: wide (CJK) runes
// take a full em, others about 0.58 em. Both renderers use it for layout.
func textWidth(s string, size float64) float64 {
	w := 0.0
	for _, r := range s {
		if isWide(r) {
			w += size
		} else {
			w += 0.58 * size
		}
	}
	return w
}

func isWide(r rune) bool {
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r) ||
		unicode.Is(unicode.Hangul, r) || (r >= 0xFF00 && r <= 0xFFEF) || (r >= 0x3000 && r <= 0x303F)
}

// clip shortens s to at most cols display columns (a wide rune counts 2),
// ending it with "…" when it was cut.
func clip(s string, cols int) string {
	s = strings.Join(strings.Fields(s), " ")
	n := 0
	for i, r := range s {
		c := 1
		if isWide(r) {
			c = 2
		}
		if n+c > cols {
			return strings.TrimSpace(s[:i]) + "…"
		}
		n += c
	}
	return s
}

// kjScene lays out the affinity diagram: the core concept on top, one box
// per group below it in columns, each listing its keywords.
func kjScene(kj transcript.KJ, title string) *scene {
	sc := &scene{W: kjWidth, Title: title}
	y := kjPad
	if title != "" {
		sc.text("title", kjPad, y+18, clip(title, 60), 18, true, "start", "#222222")
		y += 32
	}
	if core := strings.TrimSpace(kj.Core); core != "" {
		sc.open("kj-core")
		sc.rect("", kjPad, y, kjWidth-2*kjPad, 40, "#333333", "", 8)
		sc.text("core", kjWidth/2, y+26, clip(core, 56), 16, true, "middle", "#ffffff")
		sc.close()
		y += 56
	}
	colW := (kjWidth - kjPad*float64(kjCols+1)) / kjCols
	rowTop, rowH := y, 0.0
	for i, g := range kj.Groups {
		col := i % kjCols
		if col == 0 && i > 0 {
			rowTop += rowH + kjPad
			rowH = 0
		}
		x := kjPad + float64(col)*(colW+kjPad)
		h := 40 + kjLine*float64(len(g.Keywords)) + 8
		if h > rowH {
			rowH = h
		}
		sc.open("kj-group")
		sc.rect("", x, rowTop, colW, h, groupColors[i%len(groupColors)], "#999999", 8)
		sc.text("group-name", x+colW/2, rowTop+26, clip(orDefault(g.Name, "—"), maxLabel-4), 15, true, "middle", "#222222")
		sc.line("", x+10, rowTop+36, x+colW-10, rowTop+36, "#999999")
		for j, k := range g.Keywords {
			sc.text("keyword", x+14, rowTop+58+kjLine*float64(j), clip(k, maxLabel), 14, false, "start", "#333333")
		}
		sc.close()
	}
	sc.H = rowTop + rowH + kjPad
	if len(kj.Groups) == 0 {
		sc.H = y + kjPad
	}
	return sc
}

// voteScene lays out the vote chart: one horizontal bar per keyword, most
// votes first, the keywords that passed filled darker, and a line at the
// threshold.
func voteScene(r transcript.VoteResult, title string) *scene {
	type row struct {
		k string
		n int
	}
	rows := make([]row, 0, len(r.Counts))
	maxN := r.Threshold
	for k, n := range r.Counts {
		rows = append(rows, row{k, n})
		if n > maxN {
			maxN = n
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].n != rows[j].n {
			return rows[i].n > rows[j].n
		}
		return rows[i].k < rows[j].k
	})
	passed := map[string]bool{}
	for _, k := range r.Keywords {
		passed[k] = true
	}
	sc := &scene{W: voteWidth, Title: title}
	top := kjPad
	if title != "" {
		sc.text("title", kjPad, kjPad+18, clip(title, 60), 18, true, "start", "#222222")
		top += 36
	}
	labelW, barX := 200.0, 216.0
	barMax := voteWidth - barX - 48
	scale := 0.0
	if maxN > 0 {
		scale = barMax / float64(maxN)
	}
	for i, rw := range rows {
		y := top + float64(i)*voteRow
		cls, fill := "bar", "#b0bec5"
		if passed[rw.k] {
			cls, fill = "bar passed", "#c0392b"
		}
		sc.open(cls)
		sc.text("label", labelW, y+19, clip(rw.k, maxLabel), 14, passed[rw.k], "end", "#222222")
		w := scale * float64(rw.n)
		sc.rect("", barX, y+5, w, voteRow-10, fill, "", 3)
		sc.text("count", barX+w+6, y+19, fmt.Sprint(rw.n), 13, false, "start", "#444444")
		sc.close()
	}
	bottom := top + float64(len(rows))*voteRow
	if r.Threshold > 0 && scale > 0 {
		tx := barX + scale*float64(r.Threshold)
		sc.line("threshold", tx, top, tx, bottom, "#222222")
		sc.text("threshold-label", tx, bottom+16, fmt.Sprintf("≥ %d", r.Threshold), 12, false, "middle", "#222222")
	}
	sc.H = bottom + 32
	return sc
}

// writeSVG writes a scene as an SVG element; standalone adds the XML
// namespace a separate .svg file needs (inline SVG in HTML needs none).
// Every piece of text is escaped; the SVG has no scripts, links or
// external references.
func writeSVG(w io.Writer, sc *scene, class string, standalone bool) error {
	var b strings.Builder
	b.WriteString("<svg ")
	if standalone {
		b.WriteString(`xmlns="http://www.w3.org/2000/svg" `)
	}
	fmt.Fprintf(&b, `class="%s" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-label="%s" font-family='%s'>`,
		class, sc.W, sc.H, sc.W, sc.H, html.EscapeString(sc.Title), svgFont)
	fmt.Fprintf(&b, "\n<title>%s</title>\n", html.EscapeString(sc.Title))
	fmt.Fprintf(&b, `<rect width="%.0f" height="%.0f" fill="#ffffff"/>`+"\n", sc.W, sc.H)
	for _, s := range sc.Shapes {
		switch s.kind {
		case "open":
			fmt.Fprintf(&b, `<g class="%s">`, s.class)
		case "close":
			b.WriteString("</g>\n")
		case "rect":
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="%.0f" fill="%s"`, s.x, s.y, s.w, s.h, s.radius, orDefault(s.fill, "none"))
			if s.stroke != "" {
				fmt.Fprintf(&b, ` stroke="%s"`, s.stroke)
			}
			b.WriteString("/>")
		case "line":
			fmt.Fprintf(&b, `<line%s x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`, classAttr(s.class), s.x, s.y, s.x+s.w, s.y+s.h, s.stroke)
		case "text":
			weight := ""
			if s.bold {
				weight = ` font-weight="bold"`
			}
			fmt.Fprintf(&b, `<text class="%s" x="%.1f" y="%.1f" font-size="%.0f"%s text-anchor="%s" fill="%s">%s</text>`,
				s.class, s.x, s.y, s.size, weight, s.anchor, s.fill, html.EscapeString(s.text))
		}
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// KJSVG returns the KJ affinity diagram as a standalone SVG document; an
// empty title draws none (the page captions it in its own language).
func KJSVG(kj transcript.KJ, title string) string {
	return svgString(kjScene(kj, title), "kj-diagram", true)
}

// VoteSVG returns the vote chart as a standalone SVG document.
func VoteSVG(r transcript.VoteResult, title string) string {
	return svgString(voteScene(r, title), "vote-chart", true)
}

func svgString(sc *scene, class string, standalone bool) string {
	var b strings.Builder
	_ = writeSVG(&b, sc, class, standalone) // a strings.Builder does not fail
	return b.String()
}

// Pictures are the session's drawable results, found in its event log:
// the last KJ grouping and the last vote result. Either may be nil.
type Pictures struct {
	KJ   *transcript.KJ
	Vote *transcript.VoteResult
}

// FindPictures reads the session's KJ grouping and vote result from its
// event log.
func FindPictures(events []store.Event) Pictures {
	var p Pictures
	for _, ev := range events {
		switch ev.Type {
		case transcript.EventKJ:
			kj := decode[transcript.KJ](ev)
			p.KJ = &kj
		case transcript.EventVoteResult:
			vr := decode[transcript.VoteResult](ev)
			p.Vote = &vr
		}
	}
	return p
}

func classAttr(class string) string {
	if class == "" {
		return ""
	}
	return ` class="` + class + `"`
}

package export_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"strings"
	"testing"

	"golang.org/x/image/font/gofont/gomono"

	"github.com/tableround/tableround/export"
	"github.com/tableround/tableround/transcript"
)

var hostileKJ = transcript.KJ{Core: "light & <paper>", Groups: []transcript.KJGroup{
	{Name: "Symbols", Keywords: []string{"carp", `"red" <script>alert(1)</script>`}},
	{Name: "光影", Keywords: []string{"灯笼", "LED"}},
	{Name: "Craft", Keywords: []string{"scissors"}},
	{Name: "Use", Keywords: []string{"gift", "window", "a keyword far too long to fit in its box at all"}},
}}

var votes = transcript.VoteResult{Keywords: []string{"lantern", "carp"}, Threshold: 2,
	Counts: map[string]int{"lantern": 4, "carp": 2, "LED": 1, "<b>": 1}}

// svgElems parses an SVG and counts its elements by name and class, so the
// structure is checked by an XML parser, not by string search.
func svgElems(t *testing.T, doc string) (count map[string]int, texts map[string][]string) {
	t.Helper()
	count, texts = map[string]int{}, map[string][]string{}
	dec := xml.NewDecoder(strings.NewReader(doc))
	var cur string
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not well-formed XML: %v\n%s", err, doc)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			class := ""
			for _, a := range el.Attr {
				if a.Name.Local == "class" {
					class = a.Value
				}
			}
			count[el.Name.Local+"."+class]++
			count[el.Name.Local]++
			cur = class
			if el.Name.Local != "text" {
				cur = ""
			}
		case xml.CharData:
			if cur != "" {
				texts[cur] = append(texts[cur], string(el))
			}
		case xml.EndElement:
			cur = ""
		}
	}
	return count, texts
}

func TestKJSVG(t *testing.T) {
	doc := export.KJSVG(hostileKJ, "KJ affinity diagram")
	golden(t, "kj.svg", []byte(doc))
	count, texts := svgElems(t, doc)
	if count["g.kj-group"] != len(hostileKJ.Groups) || count["g.kj-core"] != 1 {
		t.Errorf("groups: %d kj-group, %d kj-core; want %d and 1", count["g.kj-group"], count["g.kj-core"], len(hostileKJ.Groups))
	}
	if got := len(texts["keyword"]); got != 8 {
		t.Errorf("%d keyword labels, want 8", got)
	}
	if strings.Contains(doc, "<script") || strings.Contains(doc, "<paper>") {
		t.Error("labels are not escaped")
	}
	if got := texts["core"]; len(got) != 1 || got[0] != "light & <paper>" {
		t.Errorf("core label reads %q after unescaping", got)
	}
	if !strings.Contains(strings.Join(texts["group-name"], "|"), "光影") || !strings.Contains(strings.Join(texts["keyword"], "|"), "灯笼") {
		t.Error("Chinese labels are lost")
	}
	if !strings.Contains(strings.Join(texts["keyword"], "|"), "…") {
		t.Error("an over-long keyword is not clipped with an ellipsis")
	}
}

func TestVoteSVG(t *testing.T) {
	doc := export.VoteSVG(votes, "Vote result")
	golden(t, "votes.svg", []byte(doc))
	count, texts := svgElems(t, doc)
	if count["g.bar passed"] != 2 || count["g.bar"] != 2 {
		t.Errorf("%d passed bars and %d others, want 2 and 2", count["g.bar passed"], count["g.bar"])
	}
	if got := strings.Join(texts["label"], ","); got != "lantern,carp,<b>,LED" {
		t.Errorf("bars in order %q, want most votes first, ties by name", got)
	}
	if got := strings.Join(texts["count"], ","); got != "4,2,1,1" {
		t.Errorf("counts %q", got)
	}
	if count["line.threshold"] != 1 {
		t.Error("no threshold line")
	}
}

func TestHTMLInlinesPictures(t *testing.T) {
	s, evs, blobs := fixture(t)
	var buf bytes.Buffer
	if err := export.Render(&buf, "html", s, evs, blobFunc(blobs)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{`<svg class="kj-diagram"`, `<svg class="vote-chart"`} {
		if !strings.Contains(out, want) {
			t.Errorf("the HTML export lacks %s", want)
		}
	}
}

func decodePNG(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("the PNG does not decode: %v", err)
	}
	return img
}

// hasColor reports whether any pixel of img is exactly c.
func hasColor(img image.Image, c color.RGBA) bool {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if uint8(r>>8) == c.R && uint8(g>>8) == c.G && uint8(bl>>8) == c.B {
				return true
			}
		}
	}
	return false
}

func TestDiagramPNG(t *testing.T) {
	latin := transcript.KJ{Core: "light", Groups: []transcript.KJGroup{{Name: "Symbols", Keywords: []string{"carp"}}}}
	b, err := export.DiagramPNG(export.Pictures{KJ: &latin, Vote: &votes}, export.PNGOptions{Scale: 1})
	if err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, b)
	kjH := int(parseHeight(t, export.KJSVG(latin, "x")))
	voteH := int(parseHeight(t, export.VoteSVG(votes, "x")))
	if got := img.Bounds(); got.Dx() != 720 || got.Dy() != kjH+voteH {
		t.Errorf("PNG is %v, want 720×%d (the diagram above the chart)", got, kjH+voteH)
	}
	for name, c := range map[string]color.RGBA{"group fill": {0xfd, 0xe2, 0xe1, 0xff}, "passed bar": {0xc0, 0x39, 0x2b, 0xff}, "core box": {0x33, 0x33, 0x33, 0xff}} {
		if !hasColor(img, c) {
			t.Errorf("no %s drawn", name)
		}
	}

	// Chinese labels with only the Go fonts: the notice strip is added.
	cjk, err := export.DiagramPNG(export.Pictures{KJ: &hostileKJ}, export.PNGOptions{Scale: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := decodePNG(t, cjk).Bounds().Dy(), int(parseHeight(t, export.KJSVG(hostileKJ, "x"))); got <= want {
		t.Errorf("CJK labels without a CJK font: height %d, want a notice below %d", got, want)
	}
	// A fallback font is parsed and used (gomono stands in for a CJK font:
	// it lacks Han too, so only the parsing path is exercised here).
	if _, err := export.DiagramPNG(export.Pictures{KJ: &latin}, export.PNGOptions{Font: gomono.TTF}); err != nil {
		t.Errorf("with a fallback font: %v", err)
	}
	if _, err := export.DiagramPNG(export.Pictures{KJ: &latin}, export.PNGOptions{Font: []byte("not a font")}); err == nil {
		t.Error("a bad font is not an error")
	}
	if _, err := export.DiagramPNG(export.Pictures{}, export.PNGOptions{}); !errors.Is(err, export.ErrNoPictures) {
		t.Errorf("nothing to draw: %v, want ErrNoPictures", err)
	}
}

func parseHeight(t *testing.T, doc string) float64 {
	t.Helper()
	var v struct {
		Height float64 `xml:"height,attr"`
	}
	if err := xml.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatal(err)
	}
	return v.Height
}

func TestFindPictures(t *testing.T) {
	_, evs, _ := fixture(t)
	p := export.FindPictures(evs)
	if p.KJ == nil || len(p.KJ.Groups) != 2 || p.Vote == nil || p.Vote.Counts["lantern"] != 2 {
		t.Errorf("FindPictures = %+v", p)
	}
}

// With a CJK font (Debian's fonts-droid-fallback, when installed; x/image
// cannot parse wqy-microhei's collection) Chinese labels are drawn and no
// notice is added.
func TestDiagramPNGWithCJKFont(t *testing.T) {
	font, err := os.ReadFile("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf")
	if err != nil {
		t.Skip("no CJK font here (fonts-droid-fallback)")
	}
	b, err := export.DiagramPNG(export.Pictures{KJ: &hostileKJ}, export.PNGOptions{Font: font, Scale: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := decodePNG(t, b).Bounds().Dy(), int(parseHeight(t, export.KJSVG(hostileKJ, "KJ affinity diagram"))); got != want {
		t.Errorf("height %d, want %d (no notice)", got, want)
	}
}

package telegram

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tableround/tableround/bot"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestRenderGolden checks persona headers, escaping, @-breaking and the
// minimal **bold** against testdata/render.golden.
func TestRenderGolden(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		p    bot.Persona
		kind bot.Kind
		text string
	}{
		{"plain", seats[2], bot.KindSpeech, "Cost matters."},
		{"escaping", seats[0], bot.KindSpeech, `Tom & Jerry <script>alert("x")</script> 'quoted'`},
		{"mentions", seats[1], bot.KindSpeech, "ask @everyone and @ann_x, mail a@b.c, lone @ sign"},
		{"bold", seats[4], bot.KindSpeech, "**red** paper and **gold** foil"},
		{"unbalanced bold", seats[4], bot.KindSpeech, "**red paper and gold** foil **"},
		{"bold with html", seats[3], bot.KindSpeech, "**<b>&**"},
		{"board", moderator, bot.KindBoard, "Topic: lanterns\n✂️ Bayar · 🎨 Lin"},
		{"banner", moderator, bot.KindBanner, "── Introductions ──"},
	}
	var b strings.Builder
	for _, c := range cases {
		b.WriteString("=== " + c.name + "\n" + render(c.p, c.kind, c.text) + "\n")
	}
	path := filepath.Join("testdata", "render.golden")
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("render differs from %s (go test -run TestRenderGolden -update):\n%s", path, b.String())
	}
}

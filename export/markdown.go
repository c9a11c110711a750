package export

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// renderMarkdown writes the transcript. Names, keywords and labels are
// escaped; speeches are block quotes, so a model's "# heading" or list stays
// inside its quote.
func renderMarkdown(w io.Writer, d *doc, opts Options) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }

	p("# %s\n\n", mdInline(orDefault(d.Session.Topic, "Roundtable")))
	if d.Demo {
		p("> ⚠️ **%s**\n\n", demoBanner)
	}
	for _, it := range d.Facts() {
		p("- **%s:** %s\n", it.Label, mdInline(it.Value))
	}
	p("\n")
	if seats := d.SeatList(); len(seats) > 0 {
		p("## The table\n\n| Seat | Name | Role | Model |\n|---|---|---|---|\n")
		for i, s := range seats {
			p("| %d | %s | %s | %s |\n", i+1, mdInline(strings.TrimSpace(s.Emoji+" "+s.Name)), mdInline(s.Role), mdInline(s.Model))
		}
		p("\n")
	}
	for _, st := range d.Stages {
		p("## %s\n\n", mdInline(st.Title))
		for _, b := range st.Blocks {
			if err := mdBlock(bw, b, opts); err != nil {
				return err
			}
		}
	}
	p("## Usage\n\n")
	for _, it := range d.UsageItems() {
		p("- **%s:** %s\n", it.Label, it.Value)
	}
	if d.End != nil {
		p("- **Ended:** %s\n", mdInline(string(d.End.Status)))
	}
	return bw.Flush()
}

func mdBlock(w *bufio.Writer, b block, opts Options) error {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	who := mdInline(b.Who)
	if b.Meta != "" {
		who += " · _" + mdInline(b.Meta) + "_"
	}
	switch b.Kind {
	case "speech", "card", "interjection":
		p("**%s**\n\n%s", who, mdQuote(b.Text))
	case "failure":
		p("**%s** — _%s_\n\n", who, mdInline(b.Text))
	case "list", "result", "kj":
		p("**%s**\n\n", mdInline(b.Heading))
		if b.Text != "" {
			p("%s\n\n", mdInline(b.Text))
		}
		for _, it := range b.Items {
			p("- **%s:** %s\n", mdInline(it.Label), mdInline(it.Value))
		}
		p("\n")
	case "people":
		p("**%s** — %s\n\n", mdInline(b.Heading), mdInline(b.Text))
	case "prompt":
		fence := strings.Repeat("`", max(3, longestRun(b.Text, '`')+1))
		p("**%s**\n\n%s\n%s\n%s\n\n", mdInline(b.Heading), fence, b.Text, fence)
	case "image":
		if b.Heading != "" {
			p("**%s**\n\n", mdInline(b.Heading))
		}
		link, err := mdImageLink(*b.Image, opts)
		if err != nil {
			return err
		}
		alt := mdInline(strings.TrimSpace(b.Who + " " + b.Image.Ref.Blob))
		if link == "" {
			p("_(image %s is no longer stored)_\n\n", mdInline(b.Image.Ref.Blob))
		} else {
			p("![%s](<%s>)\n\n", alt, link)
		}
		if b.Text != "" {
			p("%s", mdQuote(b.Text))
		}
	default:
		p("_%s_\n\n", mdInline(b.Text))
	}
	return nil
}

// mdImageLink saves the image through opts.ImageLink or links its blob.
func mdImageLink(img image, opts Options) (string, error) {
	if img.Data == nil || img.MIME == "" {
		return "", nil
	}
	if opts.ImageLink == nil {
		return img.Ref.Blob, nil
	}
	ref := img.Ref
	ref.MIME = img.MIME // sniffed, so the file gets the right extension
	return opts.ImageLink(ref, img.Data)
}

// mdQuote quotes text line by line and ends with a blank line. "<" is
// escaped so a model cannot smuggle raw HTML into a Markdown viewer.
func mdQuote(text string) string {
	text = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
	if text == "" {
		return ">\n\n"
	}
	var sb strings.Builder
	for _, line := range strings.Split(text, "\n") {
		sb.WriteString(strings.TrimRight("> "+strings.ReplaceAll(line, "<", `\<`), " "))
		sb.WriteString("\n")
	}
	sb.WriteString("\n")
	return sb.String()
}

var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"<", `\<`, ">", `\>`, "|", `\|`, "#", `\#`, "\r", "", "\n", " ",
)

// mdInline escapes text for one line of Markdown.
func mdInline(s string) string { return mdEscaper.Replace(s) }

func longestRun(s string, c rune) int {
	best, n := 0, 0
	for _, r := range s {
		if r == c {
			n++
			best = max(best, n)
		} else {
			n = 0
		}
	}
	return best
}

func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

package telegram

import (
	"bytes"
	"image/png"
	"testing"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/export"
	"github.com/tableround/tableround/transcript"
)

// /export sends the export file and then the session's KJ diagram and
// vote chart as a photo: both arrive, and the photo decodes to the PNG
// that was drawn.
func TestExportSendsTheDiagram(t *testing.T) {
	t.Parallel()
	hs := newHarness(t, setup{})
	pic, err := export.DiagramPNG(export.Pictures{
		KJ: &transcript.KJ{Core: "tradition you can use", Groups: []transcript.KJGroup{
			{Name: "Form", Keywords: []string{"lantern", "bookmark"}}, {Name: "Look", Keywords: []string{"red paper"}}}},
		Vote: &transcript.VoteResult{Keywords: []string{"lantern"}, Counts: map[string]int{"lantern": 5, "red paper": 2}, Threshold: 4},
	}, export.PNGOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := png.Decode(bytes.NewReader(pic))
	if err != nil {
		t.Fatal(err)
	}
	hs.h.mu.Lock()
	hs.h.reply = func(req bot.Request) bot.Reply {
		if req.Command != bot.CmdExport {
			return bot.Reply{}
		}
		return bot.Reply{Text: "Here is session s1.",
			File:   &bot.Attachment{Name: "tableround-s1.md", MIME: "text/markdown", Data: []byte("# s1")},
			Images: []bot.Attachment{{Name: "tableround-s1-diagram.png", MIME: "image/png", Data: pic}}}
	}
	hs.h.mu.Unlock()
	hs.say(groupChat, ann, "/export")
	hs.eventually("the file and the picture", func() bool {
		var doc, photo bool
		for _, m := range hs.botMessages(groupChat) {
			doc = doc || m.Document != nil
			photo = photo || m.Photo != nil
		}
		return doc && photo
	})
	for _, m := range hs.botMessages(groupChat) {
		switch {
		case m.Document != nil:
			if string(m.Document.Data) != "# s1" {
				t.Errorf("the export file holds %q", m.Document.Data)
			}
		case m.Photo != nil:
			got, err := png.Decode(bytes.NewReader(m.Photo.Data))
			if err != nil {
				t.Fatalf("the photo does not decode as a PNG: %v", err)
			}
			if got.Bounds() != want.Bounds() {
				t.Errorf("the photo is %v, the diagram %v", got.Bounds(), want.Bounds())
			}
		}
	}
}

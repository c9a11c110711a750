package export_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tableround/tableround/export"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/transcript"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// Fixture returns a small but complete session, with hostile model output.
func fixture(t *testing.T) (store.Session, []store.Event, map[string][]byte) {
	t.Helper()
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	s := store.Session{
		ID: "s-0001", Channel: "discord:42", Topic: "A paper-cut lantern for Spring Festival", Language: "en",
		Pack: "papercut", StarterName: "Mei", Status: store.StatusFinished, Step: 13, Demo: true, Model: "demo",
		CreatedAt: at, UpdatedAt: at.Add(9 * time.Minute), InputTokens: 1000, OutputTokens: 500, Calls: 60,
	}
	seats := []transcript.SeatInfo{
		{ID: "craftsman", Name: "Bayar", Role: "craftsman", Emoji: "✂️", Color: "#c0392b"},
		{ID: "designer", Name: "Lin Siyu", Role: "designer", Emoji: "🎨", Color: "#8e44ad", Model: "demo-large"},
	}
	js := func(v any) json.RawMessage {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	evs := []store.Event{
		{Type: transcript.EventSession, Text: s.Topic, Data: js(transcript.SessionStart{Seats: seats, Demo: true, Model: "demo", Image: true})},
		{Type: transcript.EventStage, Stage: "opening", Text: "Opening"},
		{Type: transcript.EventNote, Stage: "opening", Text: "Welcome. Mention me to interject; /roundtable stop ends it."},
		{Type: transcript.EventStage, Stage: "image_stories", Text: "Image stories"},
		{Type: transcript.EventPhoto, Stage: "image_stories", Text: "A red window flower with a carp.", Data: js(transcript.ImageRef{Blob: "photo", MIME: "image/png"})},
		{Type: transcript.EventKeywords, Stage: "image_stories", Seat: "craftsman", Name: "Bayar", Data: js(transcript.Keywords{Keywords: []string{"carp", "red"}})},
		{Type: transcript.EventStage, Stage: "discussion", Text: "Discussion"},
		{Type: transcript.EventSpeech, Stage: "discussion", Seat: "craftsman", Name: "Bayar",
			Text: "# Not a heading\nForty years of cutting taught me: <script>alert(1)</script> @everyone",
			Data: js(transcript.Speech{Round: 1})},
		{Type: transcript.EventInterjection, Stage: "discussion", Name: "Mei", Text: "What about *LED* lights?"},
		{Type: transcript.EventSpeech, Stage: "discussion", Seat: "designer", Name: "Lin Siyu", Text: "LEDs, yes — warm white.",
			Data: js(transcript.Speech{Round: 1, Regenerated: true})},
		{Type: transcript.EventFailure, Stage: "discussion", Seat: "designer", Name: "Lin Siyu", Text: "Lin Siyu lost her train of thought.",
			Data: js(transcript.Failure{Kind: "timeout", Cause: "stream stalled"})},
		{Type: transcript.EventStage, Stage: "keywords", Text: "Keywords"},
		{Type: transcript.EventKeywords, Stage: "keywords", Seat: "craftsman", Name: "Bayar", Data: js(transcript.Keywords{Keywords: []string{"carp", "lantern"}})},
		{Type: transcript.EventKeywords, Stage: "keywords", Seat: "designer", Name: "Lin Siyu", Data: js(transcript.Keywords{Keywords: []string{"LED", "lantern"}})},
		{Type: transcript.EventKJ, Stage: "kj", Data: js(transcript.KJ{Core: "light through paper", Groups: []transcript.KJGroup{
			{Name: "Symbols", Keywords: []string{"carp"}}, {Name: "Light", Keywords: []string{"LED", "lantern"}}}})},
		{Type: transcript.EventVote, Stage: "voting", Seat: "craftsman", Name: "Bayar", Data: js(transcript.Vote{Keywords: []string{"carp", "lantern"},
			Reasons: map[string]string{"carp": "luck"}})},
		{Type: transcript.EventVote, Stage: "voting", Seat: "designer", Name: "Lin Siyu", Data: js(transcript.Vote{Keywords: []string{"lantern"}})},
		{Type: transcript.EventVoteResult, Stage: "voting", Data: js(transcript.VoteResult{Keywords: []string{"lantern", "carp"},
			Counts: map[string]int{"lantern": 2, "carp": 1}, Threshold: 2, Filled: true})},
		{Type: transcript.EventPeople, Stage: "people", Name: "Mei", Data: js(transcript.People{Action: "edit", Keywords: []string{"lantern", "carp", "LED"}, By: "Mei"})},
		{Type: transcript.EventRoleSwitch, Stage: "role_switch", Seat: "craftsman", Name: "Bayar", Data: js(transcript.RoleSwitch{From: "craftsman", To: "consumer"})},
		{Type: transcript.EventRoleSwitch, Stage: "role_switch", Seat: "designer", Name: "Lin Siyu", Data: js(transcript.RoleSwitch{From: "designer", To: "manufacturer"})},
		{Type: transcript.EventCard, Stage: "design_cards", Seat: "designer", Name: "Lin Siyu", Text: "Form: a folding lantern\nMaterials: rice paper"},
		{Type: transcript.EventImagePrompt, Stage: "final_design", Text: "A red paper-cut lantern, carp motif ```no fences```"},
		{Type: transcript.EventImage, Stage: "final_design", Seat: "designer", Name: "Lin Siyu", Data: js(transcript.ImageRef{Blob: "final-1", MIME: "image/png"})},
		{Type: transcript.EventImage, Stage: "final_design", Seat: "designer", Name: "Lin Siyu", Data: js(transcript.ImageRef{Blob: "final-2", MIME: "image/png"})},
		{Type: transcript.EventNote, Stage: "closing", Text: "Thanks, everyone."},
		{Type: transcript.EventEnd, Text: "finished", Data: js(transcript.SessionEnd{Status: store.StatusFinished, InputTokens: 1200, OutputTokens: 640, CostUSD: 0.0123, Calls: 62,
			CachedInputTokens: 900})},
	}
	for i := range evs {
		evs[i].Seq = int64(i + 1)
		evs[i].Time = at.Add(time.Duration(i) * time.Second)
	}
	return s, evs, map[string][]byte{"photo": tinyPNG(t, color.RGBA{200, 0, 0, 255}), "final-1": tinyPNG(t, color.RGBA{0, 0, 200, 255})}
}

func tinyPNG(t *testing.T, c color.Color) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	for x := 0; x < 2; x++ {
		for y := 0; y < 2; y++ {
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func blobFunc(blobs map[string][]byte) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		if b, ok := blobs[name]; ok {
			return b, nil
		}
		return nil, store.ErrNotFound
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./export -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; run go test ./export -update and review the diff\n--- got:\n%s", name, got)
	}
}

func TestRenderGolden(t *testing.T) {
	s, evs, blobs := fixture(t)
	for _, format := range []string{"md", "json", "html"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := export.Render(&buf, format, s, evs, blobFunc(blobs)); err != nil {
				t.Fatalf("Render: %v", err)
			}
			golden(t, "session"+export.Ext(format), buf.Bytes())
		})
	}
}

func TestRenderHTMLEscapes(t *testing.T) {
	s, evs, blobs := fixture(t)
	var buf bytes.Buffer
	if err := export.Render(&buf, "html", s, evs, blobFunc(blobs)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Contains(out, "<script") || !strings.Contains(out, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("model output is not escaped in HTML")
	}
	if strings.Contains(out, "http://") || strings.Contains(out, "https://") {
		t.Error("the page is not self-contained: it references a URL")
	}
	if !strings.Contains(out, `src="data:image/png;base64,`) {
		t.Error("images are not inlined as data: URIs")
	}
	if !strings.Contains(out, "final-2 is no longer stored") {
		t.Error("a missing image is not reported")
	}
}

func TestRenderJSONSchema(t *testing.T) {
	s, evs, blobs := fixture(t)
	var buf bytes.Buffer
	if err := export.Render(&buf, "json", s, evs, blobFunc(blobs)); err != nil {
		t.Fatal(err)
	}
	var doc export.Document
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.SchemaVersion != 1 || !doc.Demo || len(doc.Seats) != 2 || doc.End == nil || doc.Usage.Calls != 62 ||
		doc.Usage.CachedInputTokens != 900 || doc.Usage.Text != "tokens in 1,200 (900 cached) · out 640 · about $0.012" {
		t.Fatalf("document = %+v", doc)
	}
	var names []string
	n := 0
	for _, st := range doc.Stages {
		names = append(names, st.Name)
		n += len(st.Events)
	}
	want := len(evs) - 2 // minus session and end
	for _, ev := range evs {
		if ev.Type == transcript.EventStage {
			want--
		}
	}
	if n != want {
		t.Errorf("stages hold %d events, want %d", n, want)
	}
	if strings.Join(names, ",") != "opening,image_stories,discussion,keywords,kj,voting,people,role_switch,design_cards,final_design,closing" {
		t.Errorf("stages = %v", names)
	}
	if len(doc.Images) != 3 || doc.Images[0].Data == nil || !doc.Images[2].Missing {
		t.Errorf("images = %+v", doc.Images)
	}
}

func TestRenderMarkdownImageLink(t *testing.T) {
	s, evs, blobs := fixture(t)
	var saved []string
	opts := export.Options{ImageLink: func(ref transcript.ImageRef, data []byte) (string, error) {
		saved = append(saved, ref.Blob)
		return "out-" + ref.Blob + ".png", nil
	}}
	var buf bytes.Buffer
	if err := export.RenderWith(&buf, "md", s, evs, blobFunc(blobs), opts); err != nil {
		t.Fatal(err)
	}
	if strings.Join(saved, ",") != "photo,final-1" || !strings.Contains(buf.String(), "](<out-final-1.png>)") {
		t.Errorf("saved %v\n%s", saved, buf.String())
	}
	boom := errors.New("disk full")
	opts.ImageLink = func(transcript.ImageRef, []byte) (string, error) { return "", boom }
	if err := export.RenderWith(&buf, "md", s, evs, blobFunc(blobs), opts); !errors.Is(err, boom) {
		t.Errorf("ImageLink error = %v", err)
	}
}

func TestRenderUnknownFormat(t *testing.T) {
	s, evs, _ := fixture(t)
	if err := export.Render(&bytes.Buffer{}, "pdf", s, evs, nil); !errors.Is(err, export.ErrFormat) {
		t.Errorf("Render(pdf) = %v", err)
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"image/png"
	"testing"

	"github.com/tableround/tableround/export"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/transcript"
)

// The export's picture is the session's KJ diagram as a PNG, and nothing
// before the session has grouped its keywords.
func TestDiagramPNGOfASession(t *testing.T) {
	t.Parallel()
	if b, err := exportDiagram([]store.Event{{Type: transcript.EventSpeech, Text: "hello"}}); !errors.Is(err, export.ErrNoPictures) {
		t.Fatalf("a session without pictures: %d bytes, %v", len(b), err)
	}
	kj, _ := json.Marshal(transcript.KJ{Core: "use", Groups: []transcript.KJGroup{{Name: "Form", Keywords: []string{"lantern"}}}})
	b, err := exportDiagram([]store.Event{{Type: transcript.EventKJ, Data: kj}})
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if r := img.Bounds(); r.Dx() < 100 || r.Dy() < 50 {
		t.Errorf("the diagram is %v", r)
	}
}

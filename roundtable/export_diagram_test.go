package roundtable

import (
	"context"
	"errors"
	"testing"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/transcript"
)

// TestExportSendsTheDiagram: with ManagerOptions.Diagram set, an export
// sends the drawn diagram beside its file, drawn from the session's
// events; with nothing to draw the export goes alone.
func TestExportSendsTheDiagram(t *testing.T) {
	t.Parallel()
	e := newManagerEnv(t)
	ctx := context.Background()
	if err := e.store.CreateSession(ctx, store.Session{ID: "d1", Channel: "test:9", Topic: "kites", Status: store.StatusFinished}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Append(ctx, "d1", store.Event{Type: transcript.EventSpeech, Seat: "designer", Text: "paper"}); err != nil {
		t.Fatal(err)
	}
	var drawn int
	draw := func(evs []store.Event) ([]byte, error) {
		drawn = len(evs)
		if len(evs) == 0 {
			return nil, errors.New("nothing to draw")
		}
		return []byte("\x89PNG diagram"), nil
	}
	m := e.manager("p1", nil, func(o *ManagerOptions) { o.Diagram = draw })
	r, err := m.Handle(ctx, bot.Request{Command: bot.CmdExport, Channel: "test:9"})
	if err != nil {
		t.Fatal(err)
	}
	if r.File == nil || len(r.Images) != 1 || drawn != 1 {
		t.Fatalf("export: file %v, %d images, diagram drawn from %d events", r.File != nil, len(r.Images), drawn)
	}
	if img := r.Images[0]; img.Name != "tableround-d1-diagram.png" || img.MIME != "image/png" || string(img.Data) != "\x89PNG diagram" {
		t.Errorf("image %s %s %q", img.Name, img.MIME, img.Data)
	}
	m2 := e.manager("p2", nil, func(o *ManagerOptions) {
		o.Diagram = func([]store.Event) ([]byte, error) { return nil, errors.New("no KJ grouping") }
	})
	if r, _ := m2.Handle(ctx, bot.Request{Command: bot.CmdExport, Channel: "test:9"}); r.File == nil || len(r.Images) != 0 {
		t.Errorf("nothing to draw: file %v, %d images; want the file alone", r.File != nil, len(r.Images))
	}
}

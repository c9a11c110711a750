package roundtable

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/internal/eventually"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/transcript"
)

// An export carries the session's diagram beside its file when the
// manager draws one (ManagerOptions.Diagram, given the session's events);
// nothing to draw, or a drawing that fails, leaves just the file.
func TestExportCarriesTheDiagram(t *testing.T) {
	t.Parallel()
	e := newManagerEnv(t)
	var draw func(evs []store.Event) ([]byte, error)
	m := e.manager("p1", nil, func(o *ManagerOptions) {
		o.Diagram = func(evs []store.Event) ([]byte, error) { return draw(evs) }
	})
	defer serve(t, m)()
	id := start(t, m, "test:3", "kites", ann, &fakeConv{})
	eventually.True(t, "the session finished", func() bool { return status(e.store, id) == store.StatusFinished })
	export := func() bot.Reply {
		r, err := m.Handle(context.Background(), bot.Request{Command: bot.CmdExport, Channel: "test:3"})
		if err != nil || r.File == nil {
			t.Fatalf("export: %+v, %v", r, err)
		}
		return r
	}

	draw = func(evs []store.Event) ([]byte, error) {
		n := 0
		for _, ev := range evs {
			if ev.Type == transcript.EventKJ || ev.Type == transcript.EventVoteResult {
				n++
			}
		}
		return fmt.Appendf(nil, "png of %d pictures", n), nil
	}
	r := export()
	if len(r.Images) != 1 || string(r.Images[0].Data) != "png of 2 pictures" || r.Images[0].MIME != "image/png" || r.Images[0].Name != "tableround-"+id+"-diagram.png" {
		t.Errorf("the export's picture: %+v", r.Images)
	}
	for name, d := range map[string]func([]store.Event) ([]byte, error){
		"nothing to draw": func([]store.Event) ([]byte, error) { return nil, nil },
		"drawing fails":   func([]store.Event) ([]byte, error) { return nil, errors.New("no font") },
	} {
		draw = d
		if r := export(); len(r.Images) != 0 {
			t.Errorf("%s: the export carries a picture: %+v", name, r.Images)
		}
	}
}

package roundtable

import (
	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/store"
)

// Diagrammer draws a session's KJ affinity diagram and vote chart as one
// PNG from its event log (export.DiagramPNG over export.FindPictures
// fits). It returns an error when there is nothing to draw.
type Diagrammer func(events []store.Event) ([]byte, error)

// diagram is the picture an export sends beside its file: none without
// ManagerOptions.Diagram or when the session has no KJ grouping or vote
// yet (the export itself still goes).
func (e exporter) diagram(id string, evs []store.Event) []bot.Attachment {
	if e.draw == nil {
		return nil
	}
	png, err := e.draw(evs)
	if err != nil {
		e.log.Debug("export: no diagram", "session", id, "err", err)
		return nil
	}
	if len(png) == 0 {
		return nil
	}
	return []bot.Attachment{{Name: "tableround-" + id + "-diagram.png", MIME: "image/png", Data: png}}
}

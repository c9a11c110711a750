package roundtable

import (
	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/store"
)

// Diagrammer draws a session's KJ affinity diagram and vote chart as a PNG
// from its events (cmd wires export.DiagramPNG); nil bytes when there is
// nothing to draw yet.
type Diagrammer func(events []store.Event) ([]byte, error)

// diagram is the picture an export sends beside its file, or nil: none
// configured, nothing to draw, or a drawing that failed (logged; the
// export itself still goes).
func (m *Manager) diagram(s store.Session, evs []store.Event) *bot.Attachment {
	if m.o.Diagram == nil {
		return nil
	}
	png, err := m.o.Diagram(evs)
	if err != nil {
		m.log.Warn("export: the diagram could not be drawn", "session", s.ID, "err", err)
		return nil
	}
	if len(png) == 0 {
		return nil
	}
	return &bot.Attachment{Name: "tableround-" + s.ID + "-diagram.png", MIME: "image/png", Data: png}
}

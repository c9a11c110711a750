package main

import (
	"errors"

	"github.com/tableround/tableround/export"
	"github.com/tableround/tableround/store"
)

// diagramPNG is the picture /roundtable export (Telegram's /export) sends
// beside the export file: the session's KJ diagram and vote chart, drawn
// by export.DiagramPNG. Nil when the session has neither yet.
func diagramPNG(evs []store.Event) ([]byte, error) {
	b, err := export.DiagramPNG(export.FindPictures(evs), export.PNGOptions{})
	if errors.Is(err, export.ErrNoPictures) {
		return nil, nil
	}
	return b, err
}

package main

import (
	"github.com/tableround/tableround/export"
	"github.com/tableround/tableround/store"
)

// exportDiagram draws the KJ diagram and the vote chart that
// /roundtable export (Discord) and /export (Telegram) send beside the
// export, with the Go fonts (labels in Chinese show as boxes, with a note
// that the HTML export has them).
func exportDiagram(evs []store.Event) ([]byte, error) {
	return export.DiagramPNG(export.FindPictures(evs), export.PNGOptions{})
}

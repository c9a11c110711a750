package roundtable

import (
	"bytes"
	"context"
	"log/slog"
	"strings"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/store"
)

// exporter answers /roundtable export: it renders a session of the
// channel (ManagerOptions.Render) and draws its diagram
// (ManagerOptions.Diagram, export_diagram.go). It keeps no state: the
// manager makes one per request from its options.
type exporter struct {
	store  ManagerStore
	render Renderer
	draw   Diagrammer
	log    *slog.Logger
	text   func(req bot.Request, key string, args ...any) string
}

func (e exporter) export(ctx context.Context, req bot.Request) (bot.Reply, error) {
	format := req.Options["format"]
	if format == "" {
		format = "md"
	}
	if format != "md" && format != "json" && format != "html" {
		return bot.Reply{Text: e.text(req, "bad_format")}, nil
	}
	id := strings.TrimSpace(req.Text)
	var s store.Session
	var err error
	if id == "" {
		list, lerr := e.store.ListSessions(ctx, req.Channel, 1)
		if lerr != nil || len(list) == 0 {
			return bot.Reply{Text: e.text(req, "none_to_export")}, nil
		}
		s = list[0]
	} else if s, err = e.store.GetSession(ctx, id); err != nil || s.Channel != req.Channel {
		// Sessions of other channels are not found from here.
		return bot.Reply{Text: e.text(req, "not_found", id)}, nil
	}
	if e.render == nil {
		return bot.Reply{Text: e.text(req, "start_failed")}, nil
	}
	evs, err := e.store.Events(ctx, s.ID)
	if err != nil {
		e.log.Error("export: events", "session", s.ID, "err", err)
		return bot.Reply{Text: e.text(req, "export_failed", s.ID)}, nil
	}
	var buf bytes.Buffer
	blob := func(name string) ([]byte, error) { return e.store.GetBlob(ctx, s.ID, name) }
	if err := e.render(&buf, format, s, evs, blob); err != nil {
		e.log.Error("export: render", "session", s.ID, "err", err)
		return bot.Reply{Text: e.text(req, "export_failed", s.ID)}, nil
	}
	mime := map[string]string{"md": "text/markdown", "json": "application/json", "html": "text/html"}[format]
	return bot.Reply{Text: e.text(req, "exported", s.ID),
		File:   &bot.Attachment{Name: "tableround-" + s.ID + "." + format, MIME: mime, Data: buf.Bytes()},
		Images: e.diagram(s.ID, evs)}, nil
}

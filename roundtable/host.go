package roundtable

import (
	"context"
	"strings"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/transcript"
)

// host is the moderator's voice: its notes, notices and stage banners.
type host struct {
	*table
	out   *outbox
	dl    *delivery
	board *board
}

// note posts a moderator line and logs it.
func (h *host) note(ctx context.Context, text string) {
	stage, _, _ := h.board.progress()
	h.post(ctx, bot.KindNotice, text)
	h.event(ctx, store.Event{Type: transcript.EventNote, Stage: stage, Text: text})
}

// post sends a complete moderator message.
func (h *host) post(ctx context.Context, kind bot.Kind, text string) {
	st, err := h.out.open(ctx, bot.Post{From: h.moderator(), Kind: kind, Placeholder: firstLine(text)})
	if err != nil {
		h.log.Warn("post failed", "err", err)
		return
	}
	h.dl.closeLater(ctx, st, text, false)
}

// banner opens a stage with its title.
func (h *host) banner(ctx context.Context, stage string) {
	title := h.stageTitle(stage)
	h.post(ctx, bot.KindBanner, "── "+title+" ──")
	h.event(ctx, store.Event{Type: transcript.EventStage, Stage: stage, Text: title})
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i > 0 {
		return s[:i]
	}
	return s
}

package telegram

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/tableround/tableround/bot"
)

// Drafts (sendMessageDraft, Bot API 9.3, open to all bots since 9.5) show
// a growing, animated preview in a private chat; the preview is ephemeral,
// so the final text is always sent with sendMessage. Only private chats
// take drafts (the method's chat_id is "the target private chat"); groups
// use the merged send+edit message. If Telegram refuses drafts (an older
// self-hosted Bot API server), the adapter stops using them and falls
// back to send+edit for the rest of the process.

// draftSender is the bot.Sender of the preview: Send starts a draft, Edit
// updates it. Once the stream closes it sends nothing more.
type draftSender struct {
	c      *conv
	cl     *client
	render func(string) string
	done   atomic.Bool
}

func (d *draftSender) Send(ctx context.Context, text string) (string, error) {
	id := strconv.FormatInt(d.c.a.draftID.Add(1), 10)
	return id, d.Edit(ctx, id, text)
}

func (d *draftSender) Edit(ctx context.Context, id, text string) error {
	if d.done.Load() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	_, err := d.cl.b.SendMessageDraft(ctx, &tgbot.SendMessageDraftParams{ChatID: d.c.chat, DraftID: id,
		Text: d.render(text), ParseMode: models.ParseModeHTML})
	if refusedDraft(err) {
		d.c.a.noDrafts.Store(true)
		d.c.a.log.Warn("sendMessageDraft refused; streaming with edits from now on", "err", d.c.a.red.redact(err))
		d.done.Store(true)
		return nil
	}
	return d.c.a.red.apiErr("sendMessageDraft", err)
}

// refusedDraft tells an API that does not take drafts from other errors.
func refusedDraft(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, tgbot.ErrorNotFound) {
		return true
	}
	m := err.Error()
	return errors.Is(err, tgbot.ErrorBadRequest) && (strings.Contains(m, "method not found") || strings.Contains(m, "PEER_INVALID"))
}

// draftStream previews with drafts and delivers the final text as real
// messages. The preview starts with the speaker's first words, not a
// placeholder: a "…" draft would spend the slot of the chat's budget the
// first words need (a private chat takes about one write a second), and
// they would show a second later.
type draftStream struct {
	c     *conv
	cl    *client
	p     bot.Post
	ds    *draftSender
	start func(first string) *bot.StreamWriter // the preview, on the first words
	stop  context.CancelFunc                   // ends the preview's waits

	mu      sync.Mutex
	preview *bot.StreamWriter
	closed  bool
}

func (c *conv) openDraft(ctx context.Context, cl *client, p bot.Post) bot.Stream {
	from, kind := p.From, p.Kind
	ds := &draftSender{c: c, cl: cl, render: func(t string) string { return render(from, kind, t) }}
	pctx, stop := context.WithCancel(ctx)
	start := func(first string) *bot.StreamWriter {
		return bot.NewStreamWriter(pctx, ds, c.writerOptions(cl, p.From, first, c.a.lim.EditInterval))
	}
	return &draftStream{c: c, cl: cl, p: p, ds: ds, start: start, stop: stop}
}

func (d *draftStream) Update(text string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case d.closed || strings.TrimSpace(text) == "":
	case d.preview == nil:
		d.preview = d.start(text)
	default:
		d.preview.Update(text)
	}
}

// Close drops the preview at once (it spends no more of the chat's budget
// and the final waits for none of its pacing) and sends the final text
// with sendMessage (split at 4096 like any message), through the chat's
// budget.
func (d *draftStream) Close(ctx context.Context, final string) error {
	d.ds.done.Store(true)
	d.mu.Lock()
	d.closed = true
	if d.preview != nil {
		d.preview.Drop()
	}
	d.mu.Unlock()
	d.stop()
	if final == "" {
		final = d.p.Placeholder
	}
	if strings.TrimSpace(final) == "" {
		final = "…"
	}
	s := d.c.newSender(d.cl, d.p)
	o := d.c.writerOptions(d.cl, d.p.From, final, d.c.a.lim.EditInterval)
	o.OnCreate = d.p.Created // the real message (the preview is not one)
	w := bot.NewStreamWriter(ctx, s, o)
	return w.Close(ctx, final)
}

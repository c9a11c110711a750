package telegram

import (
	"context"
	"errors"
	"strconv"
	"strings"
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
// messages.
type draftStream struct {
	c       *conv
	cl      *client
	p       bot.Post
	preview *bot.StreamWriter
	ds      *draftSender
}

func (c *conv) openDraft(ctx context.Context, cl *client, p bot.Post) bot.Stream {
	from, kind := p.From, p.Kind
	ds := &draftSender{c: c, cl: cl, render: func(t string) string { return render(from, kind, t) }}
	w := bot.NewStreamWriter(ctx, ds, c.writerOptions(cl, p.From, p.Placeholder, c.a.lim.EditInterval))
	return &draftStream{c: c, cl: cl, p: p, preview: w, ds: ds}
}

func (d *draftStream) Update(text string) { d.preview.Update(text) }

// Close stops the preview and sends the final text with sendMessage (split
// at 4096 like any message), through the chat's budget.
func (d *draftStream) Close(ctx context.Context, final string) error {
	d.ds.done.Store(true)
	_ = d.preview.Close(ctx, "") // sends nothing more: the sender is done
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

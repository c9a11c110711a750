package telegram

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/tableround/tableround/bot"
)

// conv is a chat a session runs in (a bot.Conversation).
type conv struct {
	a    *Adapter
	chat int64
}

var (
	_ bot.Conversation = (*conv)(nil)
	_ bot.Reattacher   = (*conv)(nil)
)

func (a *Adapter) conv(chat int64) *conv { return &conv{a: a, chat: chat} }

// private chats have positive IDs; groups and supergroups negative ones.
func (c *conv) private() bool { return c.chat > 0 }

// client is the bot a persona posts from: its own with persona tokens,
// else the main bot. The moderator is always the main bot.
func (c *conv) client(p bot.Persona) *client {
	if !p.Moderator {
		if cl := c.a.seats[p.ID]; cl != nil {
			return cl
		}
	}
	return c.a.main
}

// Open starts a message. Concurrent speech of the main bot in a group is
// merged into one message per Post.Group; sequential speech in a private
// chat streams as a draft; everything else is sent and edited.
func (c *conv) Open(ctx context.Context, p bot.Post) (bot.Stream, error) {
	cl := c.client(p.From)
	switch {
	case p.Kind == bot.KindSpeech && p.Group != "" && !c.private() && cl == c.a.main:
		return c.section(ctx, p), nil
	case p.Kind == bot.KindSpeech && p.Group == "" && c.private() && !c.a.noDrafts.Load():
		return c.openDraft(ctx, cl, p), nil
	}
	return c.open(ctx, cl, p, nil), nil
}

// Reattach takes over messages of the main bot or a persona bot that a
// previous process posted (bot.Reattacher): the stream edits them.
func (c *conv) Reattach(ctx context.Context, p bot.Post, ids []string) (bot.Stream, error) {
	return c.open(ctx, c.client(p.From), p, ids), nil
}

// open streams a post into new messages, or into existing ones.
func (c *conv) open(ctx context.Context, cl *client, p bot.Post, existing []string) bot.Stream {
	s := c.newSender(cl, p)
	o := c.writerOptions(cl, p.From, p.Placeholder, c.a.lim.EditInterval)
	o.OnCreate, o.Existing = p.Created, existing
	w := bot.NewStreamWriter(ctx, s, o)
	if p.Kind != bot.KindBoard {
		return w
	}
	return &board{w: w, s: s}
}

func (c *conv) newSender(cl *client, p bot.Post) *sender {
	from, kind := p.From, p.Kind
	return &sender{c: c, cl: cl, buttons: p.Buttons, render: func(t string) string { return render(from, kind, t) }}
}

func (c *conv) writerOptions(cl *client, from bot.Persona, placeholder string, interval time.Duration) bot.WriterOptions {
	o := bot.WriterOptions{
		Limit:       maxText - headerLen(from) - 8,
		Measure:     bot.UTF16Len,
		Placeholder: placeholder,
		MinInterval: interval,
		Scheduler:   c.a.pace.scheduler(cl, c.chat),
		Clock:       c.a.o.Clock,
		Logger:      c.a.log.With("chat", c.chat, "persona", from.ID),
	}
	c.a.o.Hooks.Apply(&o)
	return o
}

// board is the live board: its last edit drops the Stop button.
type board struct {
	w *bot.StreamWriter
	s *sender
}

func (b *board) Update(text string) { b.w.Update(text) }

func (b *board) Close(ctx context.Context, final string) error {
	b.s.final.Store(true)
	return b.w.Close(ctx, final)
}

// SendImage posts a picture from the persona's bot: sendPhoto, or
// sendDocument when the file is too large for a photo.
func (c *conv) SendImage(ctx context.Context, from bot.Persona, img bot.Attachment, caption string) error {
	capt := render(from, bot.KindSpeech, truncateUTF16(caption, maxCaption-headerLen(from)-8))
	return c.a.sendPhoto(ctx, c.client(from), c.chat, img, capt, 0)
}

// sendPhoto uploads a picture with an HTML caption: sendPhoto, or
// sendDocument when Telegram will not take it as a photo.
func (a *Adapter) sendPhoto(ctx context.Context, cl *client, chat int64, img bot.Attachment, capt string, replyTo int) error {
	if img.Name == "" {
		img.Name = "image.png"
	}
	if len(img.Data) <= maxPhotoUpload {
		err := a.pace.call(ctx, cl, chat, "sendPhoto", func(ctx context.Context) error {
			p := &tgbot.SendPhotoParams{ChatID: chat, Caption: capt, ParseMode: models.ParseModeHTML,
				Photo: &models.InputFileUpload{Filename: img.Name, Data: bytes.NewReader(img.Data)}}
			if replyTo != 0 {
				p.ReplyParameters = &models.ReplyParameters{MessageID: replyTo, AllowSendingWithoutReply: true}
			}
			_, err := cl.b.SendPhoto(ctx, p)
			return err
		})
		if err == nil || !isPhotoRefused(err) {
			return err
		}
		a.log.Info("photo refused, sending it as a document", "chat", chat, "err", err)
	}
	return a.sendDocument(ctx, cl, chat, img, capt, replyTo)
}

// isPhotoRefused tells a photo Telegram will not take as a photo (size,
// dimensions) from other failures.
func isPhotoRefused(err error) bool {
	if !errors.Is(err, tgbot.ErrorBadRequest) {
		return false
	}
	m := strings.ToUpper(err.Error())
	return strings.Contains(m, "TOO BIG") || strings.Contains(m, "PHOTO_")
}

// sendDocument uploads a file with an HTML caption.
func (a *Adapter) sendDocument(ctx context.Context, cl *client, chat int64, f bot.Attachment, caption string, replyTo int) error {
	name := f.Name
	if name == "" {
		name = "file"
	}
	return a.pace.call(ctx, cl, chat, "sendDocument", func(ctx context.Context) error {
		p := &tgbot.SendDocumentParams{ChatID: chat, Caption: caption, ParseMode: models.ParseModeHTML,
			Document: &models.InputFileUpload{Filename: name, Data: bytes.NewReader(f.Data)}}
		if replyTo != 0 {
			p.ReplyParameters = &models.ReplyParameters{MessageID: replyTo, AllowSendingWithoutReply: true}
		}
		_, err := cl.b.SendDocument(ctx, p)
		if err != nil {
			return fmt.Errorf("send %s: %w", name, err)
		}
		return nil
	})
}

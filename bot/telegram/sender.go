package telegram

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/tableround/tableround/bot"
)

const callTimeout = 30 * time.Second

var noPreview = &models.LinkPreviewOptions{IsDisabled: tgbot.True()}

// sender creates and edits one stream's messages (a bot.Sender). Text is
// raw; the sender renders it.
type sender struct {
	c      *conv
	cl     *client
	render func(string) string
	// buttons are sent with every write: an edit without reply_markup
	// removes the keyboard. Once final is set (the board's last edit) the
	// keyboard is dropped.
	buttons []bot.Button
	final   atomic.Bool
}

var _ bot.Sender = (*sender)(nil)

func (s *sender) markup() models.ReplyMarkup {
	if len(s.buttons) == 0 || s.final.Load() {
		return nil
	}
	return keyboard(s.buttons)
}

// Send posts a new message and returns its ID.
func (s *sender) Send(ctx context.Context, text string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	m, err := s.cl.b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: s.c.chat, Text: s.render(text),
		ParseMode: models.ParseModeHTML, LinkPreviewOptions: noPreview, ReplyMarkup: s.markup()})
	if err != nil {
		return "", s.c.a.red.apiErr("sendMessage", err)
	}
	return strconv.Itoa(m.ID), nil
}

// Edit replaces a message's text (keeping its keyboard).
func (s *sender) Edit(ctx context.Context, id, text string) error {
	mid, err := strconv.Atoi(id)
	if err != nil {
		return fmt.Errorf("telegram: bad message id %q", id)
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	_, err = s.cl.b.EditMessageText(ctx, &tgbot.EditMessageTextParams{ChatID: s.c.chat, MessageID: mid,
		Text: s.render(text), ParseMode: models.ParseModeHTML, LinkPreviewOptions: noPreview, ReplyMarkup: s.markup()})
	return s.c.a.red.apiErr("editMessageText", err)
}

// keyboard is one row of callback buttons; data is "b:<id>" (≤ 64 bytes,
// meaningful after a restart because it names the action, not a session).
func keyboard(bs []bot.Button) *models.InlineKeyboardMarkup {
	row := make([]models.InlineKeyboardButton, 0, len(bs))
	for _, b := range bs {
		data := "b:" + b.ID
		if len(data) > 64 {
			data = data[:64]
		}
		row = append(row, models.InlineKeyboardButton{Text: b.Label, CallbackData: data})
	}
	return &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{row}}
}

// apiErr maps go-telegram/bot errors to the bot package's contract:
// "message is not modified" is success, a vanished message is bot.ErrGone,
// a 429 is *bot.RateLimitError. Tokens are redacted.
func (r *redactor) apiErr(method string, err error) error {
	if err == nil {
		return nil
	}
	var tm *tgbot.TooManyRequestsError
	if errors.As(err, &tm) {
		return &bot.RateLimitError{RetryAfter: time.Duration(max(tm.RetryAfter, 1)) * time.Second}
	}
	msg := err.Error()
	if errors.Is(err, tgbot.ErrorBadRequest) {
		switch {
		case strings.Contains(msg, "message is not modified"):
			return nil
		case strings.Contains(msg, "message to edit not found"), strings.Contains(msg, "message can't be edited"),
			strings.Contains(msg, "chat not found"):
			return fmt.Errorf("telegram: %s: %w", method, bot.ErrGone)
		}
	}
	if errors.Is(err, tgbot.ErrorForbidden) { // kicked or blocked: nothing more to show there
		return fmt.Errorf("telegram: %s: %w (%v)", method, bot.ErrGone, r.redact(err))
	}
	return fmt.Errorf("telegram: %s: %w", method, r.redact(err))
}

// budgets paces every call of our bots: one scheduler per bot and chat
// (the chat's pace, the group's per-minute budget in groups, under the
// bot's global budget), and one-off calls that ride out 429s.
type budgets struct {
	lim    Limits
	clock  bot.Clock
	red    *redactor
	scheds schedBook
}

// scheduler is the budget of one bot in one chat.
func (b *budgets) scheduler(cl *client, chat int64) *bot.Scheduler {
	return b.scheds.get(cl.index, chat, func() *bot.Scheduler {
		parent := cl.global
		if chat < 0 { // groups and supergroups have negative IDs
			parent = bot.NewScheduler(b.lim.Group, parent, b.clock)
		}
		return bot.NewScheduler(b.lim.Chat, parent, b.clock)
	})
}

// call runs a one-off request (a photo, a file, a question's edit) through
// the chat's budget, riding out a bounded number of 429s.
func (b *budgets) call(ctx context.Context, cl *client, chat int64, method string, fn func(ctx context.Context) error) error {
	return b.callAt(ctx, cl, chat, method, bot.PriorityRefresh, fn)
}

// callAt is call at scheduling priority pri.
func (b *budgets) callAt(ctx context.Context, cl *client, chat int64, method string, pri bot.Priority, fn func(ctx context.Context) error) error {
	sch := b.scheduler(cl, chat)
	var err error
	for range 10 {
		if err := sch.WaitPriority(ctx, pri); err != nil {
			return err
		}
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		err = b.red.apiErr(method, fn(cctx))
		cancel()
		var rl *bot.RateLimitError
		if !errors.As(err, &rl) {
			return err
		}
		sch.Penalize(rl.RetryAfter, false)
	}
	return err
}

// sendText posts a moderator message from the main bot (replies, notices,
// questions), optionally as a reply and with a keyboard; it returns the
// message ID. It goes ahead of queued speech (PriorityUrgent): a person
// waiting for an answer is never kept behind the table's backlog.
func (a *Adapter) sendText(ctx context.Context, chat int64, text string, replyTo int, kb models.ReplyMarkup) (int, error) {
	var id int
	err := a.pace.callAt(ctx, a.main, chat, "sendMessage", bot.PriorityUrgent, func(ctx context.Context) error {
		p := &tgbot.SendMessageParams{ChatID: chat, Text: body(truncateUTF16(text, maxText)), ParseMode: models.ParseModeHTML,
			LinkPreviewOptions: noPreview, ReplyMarkup: kb}
		if replyTo != 0 {
			p.ReplyParameters = &models.ReplyParameters{MessageID: replyTo, AllowSendingWithoutReply: true}
		}
		m, err := a.main.b.SendMessage(ctx, p)
		if err == nil {
			id = m.ID
		}
		return err
	})
	return id, err
}

package telegram

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/tableround/tableround/bot"
)

// pendingAsk is an open people's turn in one chat. The first answer closes
// it; answers racing it before AskKeywords picks it up overwrite it (the
// last submission before the question closes wins).
//
// It is registered before the question is sent, so that an answer racing
// the sendMessage response (the update can arrive before the call returns)
// finds it; ready closes once msgID is known (0 if the send failed).
type pendingAsk struct {
	*bot.Pending
	ready chan struct{}
	msgID int
}

// messageID waits for the question's message ID; 0 when the send failed or
// ctx ended first.
func (p *pendingAsk) messageID(ctx context.Context) int {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	select {
	case <-p.ready:
		return p.msgID
	case <-ctx.Done():
		return 0
	}
}

// Callback data of the people's turn (compact; valid after a restart in
// the sense that a stale press is answered kindly).
const (
	dataKeep = "k:keep"
	dataSkip = "k:skip"
)

// AskKeywords posts the people's turn from the main bot with Keep / Skip
// buttons and waits for a press, a reply with keywords, or the timeout.
func (c *conv) AskKeywords(ctx context.Context, q bot.Question) (bot.Answer, error) {
	a := c.a
	if q.Timeout <= 0 {
		q.Timeout = a.o.PeopleTimeout
	}
	kb := &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{
		{Text: "✅ Keep", CallbackData: dataKeep}, {Text: "⏭ Skip", CallbackData: dataSkip}}}}
	p := &pendingAsk{Pending: bot.NewPending(), ready: make(chan struct{})}
	a.asks.Open(c.chat, p)
	defer a.asks.Close(c.chat, p)
	id, err := a.sendText(ctx, c.chat, askText(q), 0, kb)
	p.msgID = id
	close(p.ready)
	if err != nil {
		p.Close()
		return bot.Answer{}, fmt.Errorf("telegram: ask keywords: %w", err)
	}

	tctx, cancel := context.WithCancel(ctx)
	timer := make(chan error, 1)
	go func() { timer <- a.o.Clock.Sleep(tctx, q.Timeout) }()
	var res bot.Answer
	select {
	case <-p.Done():
		cancel()
		<-timer
		res = *p.Close()
	case err := <-timer:
		cancel()
		if ans := p.Close(); ans != nil { // answered as the clock ran out
			res = *ans
			break
		}
		if err != nil {
			return bot.Answer{}, err
		}
		res = bot.Answer{Action: bot.ActionTimeout, Keywords: q.Keywords}
	case <-ctx.Done():
		cancel()
		<-timer
		p.Close()
		return bot.Answer{}, ctx.Err()
	}
	a.closeAsk(context.WithoutCancel(ctx), c.chat, p.msgID, q, res)
	return res, nil
}

func askText(q bot.Question) string {
	var b strings.Builder
	if q.Text != "" {
		b.WriteString(q.Text + "\n\n")
	}
	b.WriteString("**" + strings.Join(q.Keywords, ", ") + "**\n\n")
	b.WriteString("Reply to this message with your own keywords, comma-separated — or press Keep or Skip.")
	return b.String()
}

// closeAsk edits the question to show the outcome (dropping the buttons).
func (a *Adapter) closeAsk(ctx context.Context, chat int64, msgID int, q bot.Question, ans bot.Answer) {
	var out string
	switch ans.Action {
	case bot.ActionEdit:
		out = fmt.Sprintf("✏️ %s chose: %s", ans.By, strings.Join(ans.Keywords, ", "))
	case bot.ActionKeep:
		out = fmt.Sprintf("✅ %s kept the keywords.", ans.By)
	case bot.ActionSkip:
		out = fmt.Sprintf("⏭ %s skipped; the vote stands.", ans.By)
	default:
		out = "⌛ No answer in time; the vote stands."
	}
	text := body(truncateUTF16(askText(q)+"\n\n"+out, maxText))
	err := a.pace.call(ctx, a.main, chat, "editMessageText", func(ctx context.Context) error {
		_, err := a.main.b.EditMessageText(ctx, &tgbot.EditMessageTextParams{ChatID: chat, MessageID: msgID, Text: text,
			ParseMode: models.ParseModeHTML, LinkPreviewOptions: noPreview})
		return err
	})
	if err != nil {
		a.log.Warn("close people's turn", "chat", chat, "err", err)
	}
}

// submitAnswer gives an answer to the people's-turn question msgID of a
// chat: to the open question here, or, when this replica has none, to the
// handler, which relays it to the replica running the session.
func (a *Adapter) submitAnswer(ctx context.Context, chat int64, msgID int, u bot.User, ans bot.Answer) bool {
	if p := a.asks.Get(chat); p != nil && p.messageID(ctx) == msgID {
		return p.Submit(ans)
	}
	_, err := a.h.Handle(ctx, bot.Request{Command: bot.CmdAnswer, Channel: channel(chat), User: u,
		Answer: &ans, Ref: strconv.Itoa(msgID)})
	if err != nil && !errors.Is(err, bot.ErrNoQuestion) {
		a.log.Warn("relay an answer", "chat", chat, "err", err)
	}
	return err == nil
}

// SubmitAnswer takes an answer relayed from another replica (bot.Answerable).
func (c *conv) SubmitAnswer(ref string, ans bot.Answer) bool {
	p := c.a.asks.Get(c.chat)
	id, err := strconv.Atoi(ref)
	if p == nil || err != nil || p.messageID(context.Background()) != id {
		return false
	}
	return p.Submit(ans)
}

// isQuestion reports whether m is a people's-turn question still open:
// it carries our Keep button (closing a question removes its buttons).
// Telegram sends the replied-to message with its reply_markup, so any
// replica can tell, not only the one that asked.
func isQuestion(m *models.Message) bool {
	if m == nil || m.ReplyMarkup == nil {
		return false
	}
	for _, row := range m.ReplyMarkup.InlineKeyboard {
		for _, b := range row {
			if b.CallbackData == dataKeep {
				return true
			}
		}
	}
	return false
}

// parseKeywords splits a person's list on commas (ASCII and CJK),
// semicolons and new lines.
func parseKeywords(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == '，' || r == '、' || r == ';' || r == '；' || r == '\n'
	})
	seen := map[string]bool{}
	var out []string
	for _, k := range f {
		k = strings.TrimSpace(k)
		if k == "" || seen[strings.ToLower(k)] {
			continue
		}
		seen[strings.ToLower(k)] = true
		out = append(out, truncateUTF16(k, 64))
	}
	return out
}

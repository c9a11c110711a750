package telegram

import (
	"context"
	"strings"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/tableround/tableround/bot"
)

const (
	dataPhoto   = "p" // "start a roundtable on this photo" (the photo is the message it replies to)
	albumMemory = 10 * time.Minute
)

// onCallback serves a button press; every press is answered.
func (a *Adapter) onCallback(ctx context.Context, cq *models.CallbackQuery) {
	msg := cq.Message.Message
	if msg == nil {
		a.answerCallback(ctx, cq.ID, "This message is too old.")
		return
	}
	chat := msg.Chat.ID
	user := a.user(ctx, msg.Chat, &cq.From)
	switch data := cq.Data; {
	case data == dataKeep || data == dataSkip:
		ans := bot.Answer{Action: bot.ActionKeep, By: user.Name}
		if data == dataSkip {
			ans.Action = bot.ActionSkip
		}
		if a.submitAnswer(ctx, chat, msg.ID, user, ans) {
			a.answerCallback(ctx, cq.ID, "Thanks!")
		} else {
			a.answerCallback(ctx, cq.ID, "This question is closed.")
		}
	case data == dataPhoto:
		a.answerCallback(ctx, cq.ID, "")
		ph := msg.ReplyToMessage
		var img *fileRef
		if ph != nil {
			img = imageOf(ph)
		}
		if img == nil {
			a.reply(ctx, chat, msg.ID, bot.Reply{Text: "I can't find that photo any more; please send it again."})
			return
		}
		att, problem := a.download(ctx, img)
		if problem != "" {
			a.reply(ctx, chat, msg.ID, bot.Reply{Text: problem})
			return
		}
		a.handle(ctx, chat, ph.ID, bot.Request{Command: bot.CmdStart, Channel: channel(chat), User: user, Image: att,
			Open: bot.OpenIn(a.conv(chat), channel(chat))})
	case strings.HasPrefix(data, "b:"):
		cmd := bot.Command(strings.TrimPrefix(data, "b:"))
		if cmd != bot.CmdStop {
			a.answerCallback(ctx, cq.ID, "")
			return
		}
		rep, err := a.h.Handle(ctx, bot.Request{Command: cmd, Channel: channel(chat), User: user})
		if err != nil {
			a.log.Warn("handler failed", "chat", chat, "command", cmd, "err", err)
			rep.Text = "Sorry, something went wrong."
		}
		a.answerCallback(ctx, cq.ID, rep.Text)
	default:
		a.answerCallback(ctx, cq.ID, "")
	}
}

// answerCallback stops the button's spinner, with an optional toast.
func (a *Adapter) answerCallback(ctx context.Context, id, text string) {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if _, err := a.main.b.AnswerCallbackQuery(cctx, &tgbot.AnswerCallbackQueryParams{CallbackQueryID: id,
		Text: truncateUTF16(text, 190)}); err != nil {
		a.log.Warn("answerCallbackQuery failed", "err", a.red.redact(err))
	}
}

// answerAsk takes a reply to the people's-turn message as a keyword edit.
func (a *Adapter) answerAsk(ctx context.Context, m *models.Message) {
	kws := parseKeywords(m.Text)
	if len(kws) == 0 {
		a.reply(ctx, m.Chat.ID, m.ID, bot.Reply{Text: "I found no keywords there; separate them with commas."})
		return
	}
	u := a.user(ctx, m.Chat, m.From)
	if !a.submitAnswer(ctx, m.Chat.ID, m.ReplyToMessage.ID, u, bot.Answer{Action: bot.ActionEdit, Keywords: kws, By: u.Name}) {
		a.reply(ctx, m.Chat.ID, m.ID, bot.Reply{Text: "Too late — the table has moved on."})
	}
}

// offerPhoto asks, in a private chat, whether to start on a photo sent
// without a caption.
func (a *Adapter) offerPhoto(ctx context.Context, m *models.Message) {
	kb := &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "▶️ Start", CallbackData: dataPhoto}}}}
	if _, err := a.sendText(ctx, m.Chat.ID, "Start a roundtable on this photo? (Or send it again with a caption: the caption becomes the topic.)", m.ID, kb); err != nil {
		a.log.Warn("offer photo", "chat", m.Chat.ID, "err", err)
	}
}

// botCommands are registered for private chats and groups.
var botCommands = []models.BotCommand{
	{Command: "roundtable", Description: "Start a roundtable: /roundtable <topic> (or send a photo)"},
	{Command: "say", Description: "Speak to the running table: /say <text>"},
	{Command: "stop", Description: "Stop the running roundtable"},
	{Command: "status", Description: "Where the roundtable is"},
	{Command: "export", Description: "Export a session: /export [md|json|html] [session]"},
	{Command: "personas", Description: "Who sits at the table"},
	{Command: "forget", Description: "Forget this chat's sessions (admins)"},
	{Command: "help", Description: "How to use the bot"},
}

// registerCommands sets the command menu for private chats and groups.
func (a *Adapter) registerCommands(ctx context.Context) {
	for _, scope := range []models.BotCommandScope{&models.BotCommandScopeAllPrivateChats{}, &models.BotCommandScopeAllGroupChats{}} {
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		_, err := a.main.b.SetMyCommands(cctx, &tgbot.SetMyCommandsParams{Commands: botCommands, Scope: scope})
		cancel()
		if err != nil {
			a.log.Warn("setMyCommands failed", "err", a.red.redact(err))
		}
	}
}

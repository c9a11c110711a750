package telegram

import (
	"context"
	"strconv"
	"strings"
	"unicode/utf16"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/tableround/tableround/bot"
)

// commands maps /command (without @botname) to a bot.Command.
var commands = map[string]bot.Command{
	"roundtable": bot.CmdStart, "say": bot.CmdSay, "stop": bot.CmdStop, "status": bot.CmdStatus,
	"export": bot.CmdExport, "personas": bot.CmdPersonas, "forget": bot.CmdForget, "help": bot.CmdHelp,
	"start": bot.CmdHelp,
}

// route handles one update inside its chat's queue.
func (a *Adapter) route(ctx context.Context, u *models.Update) {
	switch {
	case u.CallbackQuery != nil:
		a.onCallback(ctx, u.CallbackQuery)
	case u.Message != nil:
		a.onMessage(ctx, u.Message)
	}
}

// trigger is what a message asks of the bot.
type trigger struct {
	cmd       bot.Command
	text      string
	addressed bool // a command, mention or reply meant for us
	unknown   bool // a command we do not have, without @botname
}

// onMessage turns a message into a Request: commands (also /cmd@botname),
// a mention or a reply to the bot, a photo or image document with its
// caption (CmdMention: the manager decides between a start and an
// interjection); in a private chat everything is addressed to the bot.
func (a *Adapter) onMessage(ctx context.Context, m *models.Message) {
	if m.From == nil || m.From.IsBot {
		return
	}
	private := m.Chat.Type == models.ChatTypePrivate
	text, ents := m.Text, m.Entities
	if text == "" {
		text, ents = m.Caption, m.CaptionEntities
	}
	t, forOther := parse(a.who.main(), text, ents)
	if forOther || t.unknown && !private {
		return // /cmd@another_bot, or a command of some other bot in the group
	}
	replyToUs := m.ReplyToMessage != nil && m.ReplyToMessage.From != nil && a.who.ours(m.ReplyToMessage.From.ID)
	if replyToUs {
		if t.cmd == "" && isQuestion(m.ReplyToMessage) {
			a.answerAsk(ctx, m)
			return
		}
		t.addressed = true
	}
	img := imageOf(m)
	if !t.addressed && !private {
		return // plain group chatter (seen only with privacy mode off)
	}
	if img != nil && m.MediaGroupID != "" && !a.albums.first(m.MediaGroupID, a.o.Clock.Now()) {
		return // the album's first picture started the session
	}
	if t.cmd == "" {
		switch {
		case img != nil && strings.TrimSpace(t.text) == "" && private:
			a.offerPhoto(ctx, m)
			return
		case img == nil && private && strings.TrimSpace(t.text) == "":
			return
		}
		// A mention, a reply, a photo with a caption or private text: the
		// manager decides whether it starts a session or speaks to the one
		// running here.
		t.cmd = bot.CmdMention
	}
	req := bot.Request{Command: t.cmd, Channel: channel(m.Chat.ID), User: a.user(ctx, m.Chat, m.From), Text: t.text}
	if t.cmd == bot.CmdExport {
		req.Options, req.Text = exportArgs(t.text)
	}
	if t.cmd == bot.CmdStart || t.cmd == bot.CmdMention {
		if img != nil {
			att, msg := a.download(ctx, img)
			if msg != "" {
				a.reply(ctx, m.Chat.ID, m.ID, bot.Reply{Text: msg})
				return
			}
			req.Image = att
		}
		req.Open = bot.OpenIn(a.conv(m.Chat.ID), req.Channel)
	}
	a.handle(ctx, m.Chat.ID, m.ID, req)
}

// handle calls the Handler and posts its Reply.
func (a *Adapter) handle(ctx context.Context, chat int64, replyTo int, req bot.Request) {
	rep, err := a.h.Handle(ctx, req)
	if err != nil {
		a.log.Warn("handler failed", "chat", chat, "command", req.Command, "err", err)
		rep = bot.Reply{Text: "Sorry, something went wrong. Please try again."}
	}
	a.reply(ctx, chat, replyTo, rep)
}

// reply posts a Reply as the main bot (a file via sendDocument, then its
// pictures as photos).
func (a *Adapter) reply(ctx context.Context, chat int64, replyTo int, rep bot.Reply) {
	if len(rep.Images) > 0 {
		defer func() {
			for _, img := range rep.Images {
				if err := a.sendPhoto(ctx, a.main, chat, img, "", replyTo); err != nil {
					a.log.Warn("send reply picture", "chat", chat, "err", err)
				}
			}
		}()
	}
	if rep.File != nil {
		capt := body(truncateUTF16(rep.Text, maxCaption))
		if err := a.sendDocument(ctx, a.main, chat, *rep.File, capt, replyTo); err != nil {
			a.log.Warn("send reply file", "chat", chat, "err", err)
		}
		return
	}
	if strings.TrimSpace(rep.Text) == "" {
		return
	}
	if _, err := a.sendText(ctx, chat, rep.Text, replyTo, nil); err != nil {
		a.log.Warn("send reply", "chat", chat, "err", err)
	}
}

// parse reads a leading bot_command entity (with or without @botname) and
// mentions of our bot (me). forOther is a command addressed to another bot.
func parse(me models.User, text string, ents []models.MessageEntity) (t trigger, forOther bool) {
	u16 := utf16.Encode([]rune(text))
	sub := func(off, n int) string {
		if off < 0 || off+n > len(u16) {
			return ""
		}
		return string(utf16.Decode(u16[off : off+n]))
	}
	var cut [][2]int // UTF-16 ranges to remove from the text
	for _, e := range ents {
		switch e.Type {
		case models.MessageEntityTypeBotCommand:
			if e.Offset != 0 {
				continue
			}
			name, target, _ := strings.Cut(strings.TrimPrefix(sub(e.Offset, e.Length), "/"), "@")
			if target != "" && !strings.EqualFold(target, me.Username) {
				return t, true
			}
			cmd, ok := commands[strings.ToLower(name)]
			if !ok {
				cmd = bot.Command(strings.ToLower(name))
				t.unknown = target == ""
			}
			t.cmd, t.addressed = cmd, true
			cut = append(cut, [2]int{e.Offset, e.Length})
		case models.MessageEntityTypeMention:
			if strings.EqualFold(strings.TrimPrefix(sub(e.Offset, e.Length), "@"), me.Username) && me.Username != "" {
				t.addressed = true
				cut = append(cut, [2]int{e.Offset, e.Length})
			}
		case models.MessageEntityTypeTextMention:
			if e.User != nil && e.User.ID == me.ID {
				t.addressed = true
				cut = append(cut, [2]int{e.Offset, e.Length})
			}
		}
	}
	var out []uint16
	pos := 0
	for _, c := range cut {
		if c[0] < pos || c[0]+c[1] > len(u16) {
			continue
		}
		out = append(out, u16[pos:c[0]]...)
		pos = c[0] + c[1]
	}
	out = append(out, u16[min(pos, len(u16)):]...)
	t.text = strings.Join(strings.Fields(string(utf16.Decode(out))), " ")
	return t, false
}

// user is the Request user; Admin comes from getChatMember (cached).
func (a *Adapter) user(ctx context.Context, chat models.Chat, u *models.User) bot.User {
	name := strings.TrimSpace(u.FirstName + " " + u.LastName)
	if name == "" {
		name = u.Username
	}
	out := bot.User{ID: strconv.FormatInt(u.ID, 10), Name: name}
	if chat.Type == models.ChatTypePrivate {
		out.Admin = true // their own chat
		return out
	}
	key := [2]int64{chat.ID, u.ID}
	now := a.o.Clock.Now()
	if admin, ok := a.admins.get(key, now); ok {
		out.Admin = admin
		return out
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	m, err := a.main.b.GetChatMember(cctx, &tgbot.GetChatMemberParams{ChatID: chat.ID, UserID: u.ID})
	if err != nil {
		a.log.Warn("getChatMember failed", "chat", chat.ID, "err", a.red.redact(err))
		return out
	}
	out.Admin = m.Type == models.ChatMemberTypeOwner || m.Type == models.ChatMemberTypeAdministrator
	a.admins.put(key, out.Admin, now)
	return out
}

// exportArgs reads "/export [md|json|html] [session]", in either order: a
// word that is a format is the format, the other is the session ID.
func exportArgs(text string) (opts map[string]string, session string) {
	var rest []string
	for _, w := range strings.Fields(text) {
		if f := strings.ToLower(w); (f == "md" || f == "json" || f == "html") && opts == nil {
			opts = map[string]string{"format": f}
			continue
		}
		rest = append(rest, w)
	}
	return opts, strings.Join(rest, " ")
}

package discord

import (
	"context"
	"net/http"
	"regexp"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/tableround/tableround/bot"
)

var mentionRe = regexp.MustCompile(`<@!?(\d+)>`)

// onMessage turns a mention of the bot into CmdMention (the manager
// decides whether it starts a session or speaks to the one running here),
// and with DISCORD_MESSAGE_CONTENT a plain message in a session thread into
// an unaddressed one. Bots and webhooks (our personas) are ignored. The
// mention is checked first: a message that does not concern the bot costs
// no call to the manager, the store or Discord.
func (a *Adapter) onMessage(ctx context.Context, m *discordgo.Message) {
	if m.Author == nil || m.Author.Bot || m.WebhookID != "" {
		return
	}
	me := a.who.bot()
	mentioned := false
	for _, u := range m.Mentions {
		mentioned = mentioned || u.ID == me
	}
	if !mentioned && !(a.cfg.MessageContent && a.ownThread(ctx, m.ChannelID)) {
		return
	}
	text := strings.TrimSpace(mentionRe.ReplaceAllStringFunc(m.Content, func(s string) string {
		if mentionRe.FindStringSubmatch(s)[1] == me {
			return ""
		}
		return s
	}))
	user := bot.User{ID: m.Author.ID, Name: userName(m.Author)}
	log := a.log.With("channel", m.ChannelID, "user", user.ID)
	if text == "" && len(m.Attachments) == 0 {
		if mentioned && !a.threads.has(m.ChannelID) {
			reply, err := a.h.Handle(ctx, bot.Request{Command: bot.CmdHelp, Channel: chanKey(m.ChannelID), User: user})
			a.answerMessage(ctx, log, m, "", reply, err)
		}
		return
	}
	img, err := a.fetch.firstImage(ctx, m.Attachments)
	if err != nil {
		log.Warn("attachment download failed", "err", err)
		a.replyTo(ctx, m, "I couldn't download that picture; try again, or send a smaller image.")
		return
	}
	if text == "" && img == nil {
		return
	}
	var opened *conv // set when the manager starts a session
	req := bot.Request{Command: bot.CmdMention, Channel: chanKey(m.ChannelID), User: user, Text: text, Image: img,
		Unaddressed: !mentioned,
		Open: func(ctx context.Context) (bot.Conversation, string, error) {
			c, err := a.openPlace(ctx, m.ChannelID, m.ID, text)
			if err != nil {
				return nil, "", &placeError{err: err}
			}
			opened = c
			return c, chanKey(c.channel), nil
		}}
	reply, err := a.h.Handle(ctx, req)
	home := ""
	if opened != nil && opened.thread != "" && opened.thread != m.ChannelID {
		home = opened.thread
	}
	a.answerMessage(ctx, log, m, home, reply, err)
}

// placeError is a session place that could not be made (no permission to
// open a thread or send messages); its UserMessage is what the person sees.
type placeError struct{ err error }

func (e *placeError) Error() string { return "open session place: " + e.err.Error() }
func (e *placeError) Unwrap() error { return e.err }

// UserMessage says what to fix.
func (e *placeError) UserMessage() string {
	return "I couldn't set up the table here. Check that I may send messages and manage webhooks in this channel."
}

// ownThread reports whether a channel is a session thread: one this
// process opened or resumed, or a thread our bot opened (on any replica),
// by the channel cache. Only asked with DISCORD_MESSAGE_CONTENT.
func (a *Adapter) ownThread(ctx context.Context, id string) bool {
	if a.threads.has(id) {
		return true
	}
	ch, err := a.channel(ctx, id)
	return err == nil && ch.IsThread() && ch.OwnerID != "" && ch.OwnerID == a.who.bot()
}

// answerMessage posts a Reply in the session thread (home) or as a reply to
// the trigger message.
func (a *Adapter) answerMessage(ctx context.Context, log interface{ Warn(string, ...any) }, m *discordgo.Message, home string, reply bot.Reply, err error) {
	if err != nil {
		log.Warn("handler failed", "err", err)
		reply = bot.Reply{Text: "Sorry, something went wrong. Please try again."}
	}
	if reply.Text == "" && reply.File == nil && len(reply.Images) == 0 {
		return
	}
	var files []*discordgo.File
	if reply.File != nil {
		files = splitUpload(*reply.File, int(a.replies.upload.Load()))[:1]
	}
	files = append(files, imageFiles(reply.Images, a.log)...)
	msg := botMessage{Content: truncate(reply.Text, maxContent)}
	ch := home
	if ch == "" {
		ch = m.ChannelID
		msg.Reference = &discordgo.MessageReference{MessageID: m.ID, ChannelID: m.ChannelID, FailIfNotExists: new(bool)}
	}
	if _, err := a.botMsgs.send(ctx, ch, msg, files); err != nil {
		log.Warn("reply failed", "err", err)
	}
}

func (a *Adapter) replyTo(ctx context.Context, m *discordgo.Message, text string) {
	a.answerMessage(ctx, a.log, m, "", bot.Reply{Text: text}, nil)
}

// openPlace makes the place of a new session: a thread started from the
// trigger message when permitted, the thread itself when triggered in one,
// else the channel.
func (a *Adapter) openPlace(ctx context.Context, channelID, messageID, topic string) (*conv, error) {
	ch, err := a.channel(ctx, channelID)
	if err != nil {
		return nil, err
	}
	switch {
	case ch.Type == discordgo.ChannelTypeDM || ch.Type == discordgo.ChannelTypeGroupDM:
		return a.newConv(ctx, channelID, "", "")
	case ch.IsThread():
		a.threads.remember(channelID, ch.ParentID)
		return a.newConv(ctx, channelID, ch.ParentID, channelID)
	}
	name := truncate(strings.Join(strings.Fields(topic), " "), 100)
	if name == "" {
		name = "Roundtable"
	}
	body, _ := jsonOf(map[string]any{"name": name, "auto_archive_duration": 1440})
	th := &discordgo.Channel{}
	if err := a.rest.setupCall(ctx, http.MethodPost, discordgo.EndpointChannelMessageThread(channelID, messageID), body, th); err != nil {
		a.log.Info("cannot open a thread, the session runs in the channel", "channel", channelID, "err", err)
		return a.newConv(ctx, channelID, channelID, "")
	}
	a.threads.remember(th.ID, channelID)
	return a.newConv(ctx, th.ID, channelID, th.ID)
}

// placeIn is the conversation of an existing session thread or channel.
func (a *Adapter) placeIn(ctx context.Context, channelID string) (*conv, error) {
	ch, err := a.channel(ctx, channelID)
	if err != nil {
		return nil, err
	}
	switch {
	case ch.Type == discordgo.ChannelTypeDM || ch.Type == discordgo.ChannelTypeGroupDM:
		return a.newConv(ctx, channelID, "", "")
	case ch.IsThread():
		return a.newConv(ctx, channelID, ch.ParentID, channelID)
	}
	return a.newConv(ctx, channelID, channelID, "")
}

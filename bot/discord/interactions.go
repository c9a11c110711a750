package discord

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/tableround/tableround/bot"
)

// Interaction callback types (Discord's numbers).
const (
	respondDeferred       = discordgo.InteractionResponseDeferredChannelMessageWithSource
	respondUpdateMessage  = discordgo.InteractionResponseUpdateMessage
	respondModal          = discordgo.InteractionResponseModal
	interactionDeadline   = 3 * time.Second
	customPrefix          = "tr"
	customSep             = ":"
	maxCustomID           = 100
	actKeep, actEdit      = "keep", "edit"
	actSkip, actKeywords  = "skip", "kw"
	keywordsInput         = "keywords"
	ephemeral             = discordgo.MessageFlagsEphemeral
	sorry                 = "Sorry, something went wrong. Please try again."
	questionClosedMessage = "This question is closed: the table has moved on."
)

// customID is a compact button ID that survives restarts:
// "tr:<action>:<channel id>".
func customID(action, channel string) string {
	id := customPrefix + customSep + action + customSep + channel
	if len(id) > maxCustomID {
		id = id[:maxCustomID]
	}
	return id
}

func parseCustomID(id string) (action, channel string, ok bool) {
	parts := strings.SplitN(id, customSep, 3)
	if len(parts) != 3 || parts[0] != customPrefix {
		return "", "", false
	}
	return parts[1], parts[2], true
}

func (a *Adapter) onInteraction(ctx context.Context, i *discordgo.Interaction) {
	switch i.Type {
	case discordgo.InteractionApplicationCommand:
		a.onCommand(ctx, i)
	case discordgo.InteractionMessageComponent:
		a.onComponent(ctx, i)
	case discordgo.InteractionModalSubmit:
		a.onModal(ctx, i)
	}
}

// responder answers interactions: the first response within Discord's
// 3 s, and the edits and followups of a deferred one through the
// interaction's webhook.
type responder struct {
	rest   *rest
	who    *identity
	log    *slog.Logger
	upload atomic.Int64 // the upload cap a file is zipped or split under (maxUpload)
}

// respond sends the interaction's first response within Discord's 3 s.
func (a *responder) respond(ctx context.Context, i *discordgo.Interaction, r *discordgo.InteractionResponse) error {
	if r.Data != nil && r.Type != respondModal {
		r.Data.AllowedMentions = noMentions()
	}
	ctx, cancel := context.WithTimeout(ctx, interactionDeadline)
	defer cancel()
	body, err := jsonOf(r)
	if err != nil {
		return fmt.Errorf("encode interaction response: %w", err)
	}
	if err := a.rest.setupCall(ctx, http.MethodPost, discordgo.EndpointInteractionResponse(i.ID, i.Token), body, nil); err != nil {
		return fmt.Errorf("respond to interaction: %w", err)
	}
	return nil
}

func (a *responder) deferReply(ctx context.Context, i *discordgo.Interaction, public bool) error {
	data := &discordgo.InteractionResponseData{}
	if !public {
		data.Flags = ephemeral
	}
	return a.respond(ctx, i, &discordgo.InteractionResponse{Type: respondDeferred, Data: data})
}

// onCommand serves /roundtable <sub>: defer at once, run the handler, then
// edit the deferred response with the Reply.
func (a *Adapter) onCommand(ctx context.Context, i *discordgo.Interaction) {
	req, attachment, ok := parseCommand(i.ApplicationCommandData())
	if !ok {
		return
	}
	log := a.log.With("channel", i.ChannelID, "command", string(req.Command))
	if err := a.replies.deferReply(ctx, i, publicReply(req.Command)); err != nil {
		log.Warn("defer failed", "err", err)
		return
	}
	req.User = interactionUser(i)
	req.Channel = chanKey(a.threads.home(i.ChannelID))
	suffix := ""
	if req.Command == bot.CmdStart {
		req.Channel = chanKey(i.ChannelID) // a new session: where it was asked for
		if attachment != "" {
			if at := i.ApplicationCommandData().Resolved; at != nil && at.Attachments[attachment] != nil {
				img, err := a.fetch.download(ctx, at.Attachments[attachment])
				if err != nil {
					log.Warn("attachment download failed", "err", err)
					a.replies.editOriginal(ctx, i, bot.Reply{Text: "I couldn't download that picture; try a smaller image."})
					return
				}
				req.Image = img
			}
		}
		topic := req.Text
		req.Open = func(ctx context.Context) (bot.Conversation, string, error) {
			c, err := a.startPlace(ctx, i.ChannelID, topic)
			if err != nil {
				return nil, "", &placeError{err: err}
			}
			if c.channel != i.ChannelID {
				suffix = "\n<#" + c.channel + ">"
			}
			return c, chanKey(c.channel), nil
		}
	}
	reply, err := a.h.Handle(ctx, req)
	if err != nil {
		log.Warn("handler failed", "err", err)
		reply = bot.Reply{Text: sorry}
	}
	if reply.Text != "" {
		reply.Text += suffix
	}
	a.replies.editOriginal(ctx, i, reply)
}

// startPlace opens a session's place for a slash command: in a thread the
// command ran in, else a thread from a starter message, else the channel.
func (a *Adapter) startPlace(ctx context.Context, channelID, topic string) (*conv, error) {
	ch, err := a.channel(ctx, channelID)
	if err != nil {
		return nil, err
	}
	if ch.IsThread() || ch.Type == discordgo.ChannelTypeDM || ch.Type == discordgo.ChannelTypeGroupDM {
		return a.openPlace(ctx, channelID, "", topic)
	}
	starter, err := a.botMsgs.send(ctx, channelID, botMessage{Content: truncate("🪑 **Roundtable** — "+topic, maxContent)}, nil)
	if err != nil {
		return nil, fmt.Errorf("post starter message: %w", err)
	}
	return a.openPlace(ctx, channelID, starter.ID, topic)
}

// editOriginal replaces the deferred response with the reply; a file goes
// with it (zipped or split to stay under 10 MiB, extra parts as followups),
// and so do its images (the export's diagram).
func (a *responder) editOriginal(ctx context.Context, i *discordgo.Interaction, r bot.Reply) {
	text := truncate(r.Text, maxContent)
	if text == "" && r.File == nil && len(r.Images) == 0 {
		text = "Done."
	}
	var files []*discordgo.File
	if r.File != nil {
		files = splitUpload(*r.File, int(a.upload.Load()))
	}
	var first []*discordgo.File // the export's first part and the images
	if len(files) > 0 {
		first = append(first, files[0])
	}
	first = append(first, imageFiles(r.Images, a.log)...)
	m := webhookMessage{Content: text}
	url := discordgo.EndpointWebhookMessage(a.who.app(), i.Token, "@original")
	if err := a.sendInteraction(ctx, http.MethodPatch, url, m, first); err != nil {
		a.log.Warn("edit interaction response", "err", err)
		return
	}
	for _, f := range files[min(1, len(files)):] {
		u := discordgo.EndpointWebhookToken(a.who.app(), i.Token) + "?wait=true"
		if err := a.sendInteraction(ctx, http.MethodPost, u, webhookMessage{}, []*discordgo.File{f}); err != nil {
			a.log.Warn("send interaction followup", "err", err)
			return
		}
	}
}

func (a *responder) sendInteraction(ctx context.Context, method, url string, m webhookMessage, files []*discordgo.File) error {
	m.AllowedMentions = noMentions()
	body, err := bodyOf(m, files)
	if err != nil {
		return fmt.Errorf("encode interaction message: %w", err)
	}
	return a.rest.setupCall(ctx, method, url, body, nil)
}

// maxFiles is how many attachments Discord takes in one message.
const maxFiles = 10

// imageFiles are a reply's images as attachments of its first message:
// those over the upload cap, or beyond Discord's ten files per message
// (the export's first part counted), are left out and logged.
func imageFiles(imgs []bot.Attachment, log *slog.Logger) []*discordgo.File {
	var out []*discordgo.File
	for _, img := range imgs {
		if len(img.Data) > maxUpload || len(out) >= maxFiles-1 {
			log.Warn("reply image left out", "image", img.Name, "bytes", len(img.Data))
			continue
		}
		out = append(out, &discordgo.File{Name: img.Name, ContentType: img.MIME, Reader: bytes.NewReader(img.Data)})
	}
	return out
}

// splitUpload keeps a file under the upload cap (Discord's 10 MiB): as
// is, zipped, or the zip split into numbered parts.
func splitUpload(f bot.Attachment, maxUpload int) []*discordgo.File {
	one := func(name, mime string, data []byte) *discordgo.File {
		return &discordgo.File{Name: name, ContentType: mime, Reader: bytes.NewReader(data)}
	}
	if len(f.Data) <= maxUpload {
		return []*discordgo.File{one(f.Name, f.MIME, f.Data)}
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	if w, err := zw.Create(f.Name); err == nil {
		_, _ = w.Write(f.Data)
	}
	_ = zw.Close()
	data := buf.Bytes()
	if len(data) <= maxUpload {
		return []*discordgo.File{one(f.Name+".zip", "application/zip", data)}
	}
	var parts []*discordgo.File
	for n := 1; len(data) > 0; n++ {
		k := min(maxUpload, len(data))
		parts = append(parts, one(fmt.Sprintf("%s.zip.%03d", f.Name, n), "application/octet-stream", data[:k]))
		data = data[k:]
	}
	return parts
}

// onComponent serves buttons: Stop (and other commands) on the board, Keep,
// Edit and Skip on the people's turn.
func (a *Adapter) onComponent(ctx context.Context, i *discordgo.Interaction) {
	act, channel, ok := parseCustomID(i.MessageComponentData().CustomID)
	if !ok {
		return
	}
	switch act {
	case actKeep, actSkip, actEdit:
		a.onAskButton(ctx, i, act, channel)
		return
	}
	cmd := bot.Command(act)
	switch cmd {
	case bot.CmdStop, bot.CmdStatus, bot.CmdExport, bot.CmdHelp, bot.CmdPersonas:
	default:
		return
	}
	if err := a.replies.deferReply(ctx, i, false); err != nil {
		a.log.Warn("defer failed", "err", err)
		return
	}
	reply, err := a.h.Handle(ctx, bot.Request{Command: cmd, Channel: chanKey(channel), User: interactionUser(i), Options: map[string]string{}})
	if err != nil {
		a.log.Warn("handler failed", "err", err, "command", string(cmd))
		reply = bot.Reply{Text: sorry}
	}
	a.replies.editOriginal(ctx, i, reply)
}

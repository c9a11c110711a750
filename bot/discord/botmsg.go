package discord

import (
	"context"
	"fmt"
	"net/http"

	"github.com/bwmarrin/discordgo"

	"github.com/tableround/tableround/bot"
)

// botMessage is a message sent as the bot itself.
type botMessage struct {
	Content         string                            `json:"content,omitempty"`
	Embeds          []*discordgo.MessageEmbed         `json:"embeds,omitempty"`
	Components      *[]discordgo.MessageComponent     `json:"components,omitempty"`
	AllowedMentions *discordgo.MessageAllowedMentions `json:"allowed_mentions"`
	Reference       *discordgo.MessageReference       `json:"message_reference,omitempty"`
}

// botPoster sends messages as the bot itself (replies, notices, the
// people's turn, persona messages in the fallback) under the channel's
// and the token's budgets.
type botPoster struct {
	rest   *rest
	pace   *pacer
	scheds *schedBook
}

// send posts a one-off bot message (a reply, the people's turn, a
// notice) under the channel's and the token's budgets, riding out a few
// 429s.
func (a *botPoster) send(ctx context.Context, channel string, m botMessage, files []*discordgo.File) (*discordgo.Message, error) {
	return a.write(ctx, false, bot.PriorityUrgent, channel, m, files)
}

// post posts a bot message of a stream, which its StreamWriter has
// already paced on the place's bot-message scheduler.
func (a *botPoster) post(ctx context.Context, channel string, m botMessage, files []*discordgo.File) (*discordgo.Message, error) {
	return a.write(ctx, true, bot.PriorityFirst, channel, m, files)
}

// edit edits a one-off bot message under the token's budget.
func (a *botPoster) edit(ctx context.Context, channel, id string, m botMessage) error {
	return a.rewrite(ctx, false, bot.PriorityUrgent, channel, id, m)
}

// patch edits a bot message of a stream (already paced) at pri.
func (a *botPoster) patch(ctx context.Context, pri bot.Priority, channel, id string, m botMessage) error {
	return a.rewrite(ctx, true, pri, channel, id, m)
}

// caller is rest.call when the caller paced the request on the place's
// bot-message scheduler (which is taken again when the channel's budget
// made it wait), else rest.setupCall (paced on the token's).
func (a *botPoster) caller(paced bool, channel string, pri bot.Priority) (callFunc, func(context.Context) error) {
	if !paced {
		return a.rest.setupCall, nil
	}
	return a.rest.call, func(ctx context.Context) error { return a.scheds.get("ch:"+channel).WaitPriority(ctx, pri) }
}

// callFunc is rest.call (paced by the caller) or rest.setupCall (paced here).
type callFunc func(ctx context.Context, method, rawURL string, body jsonBody, out any) error

func (a *botPoster) write(ctx context.Context, paced bool, pri bot.Priority, channel string, m botMessage, files []*discordgo.File) (*discordgo.Message, error) {
	do, rewait := a.caller(paced, channel, pri)
	m.AllowedMentions = noMentions()
	body, err := bodyOf(m, files)
	if err != nil {
		return nil, fmt.Errorf("encode message: %w", err)
	}
	msg := &discordgo.Message{}
	err = a.pace.write(ctx, channel, false, pri, rewait, func(ctx context.Context) error {
		return do(ctx, http.MethodPost, discordgo.EndpointChannelMessages(channel), body, msg)
	})
	if err != nil {
		return nil, err
	}
	return msg, nil
}

func (a *botPoster) rewrite(ctx context.Context, paced bool, pri bot.Priority, channel, id string, m botMessage) error {
	do, rewait := a.caller(paced, channel, pri)
	m.AllowedMentions = noMentions()
	body, err := jsonOf(m)
	if err != nil {
		return fmt.Errorf("encode message edit: %w", err)
	}
	return a.pace.write(ctx, channel, true, pri, rewait, func(ctx context.Context) error {
		return do(ctx, http.MethodPatch, discordgo.EndpointChannelMessage(channel, id), body, nil)
	})
}

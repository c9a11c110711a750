package web

import (
	"context"

	"github.com/tableround/tableround/bot"
)

// startInput is what the start form asked for.
type startInput struct {
	Topic string
	Lang  string
	Pack  string
	Photo *bot.Attachment
}

// startSession is the one place the web adapter asks the session manager to
// start a session: one neutral request whose Opener hands over the table's
// conversation, which exists already (the table is made before the start,
// so the manager only decides whether it starts).
func startSession(ctx context.Context, h bot.Handler, t *Table, in startInput) (bot.Reply, error) {
	req := bot.Request{
		Command: bot.CmdStart,
		Channel: t.Channel(),
		User:    starter(t),
		Text:    in.Topic,
		Image:   in.Photo,
		Options: map[string]string{},
		Open:    bot.OpenIn(t.Conv, t.Channel()),
	}
	if in.Lang != "" {
		req.Options["language"] = in.Lang
	}
	if in.Pack != "" {
		req.Options["pack"] = in.Pack
	}
	return h.Handle(ctx, req)
}

// starter is the person behind a table's participant key. The manager
// checks who may stop a session against the starter, so every participant
// action uses this user.
func starter(t *Table) bot.User { return bot.User{ID: "web-" + t.ID, Name: "web"} }

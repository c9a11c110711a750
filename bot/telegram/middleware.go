package telegram

import (
	"context"
	"strconv"
	"strings"

	"github.com/go-telegram/bot/models"

	"github.com/tableround/tableround/bot"
)

// updateFunc handles one update.
type updateFunc func(ctx context.Context, u *models.Update)

// middleware wraps an updateFunc.
type middleware func(next updateFunc) updateFunc

// chain composes the pipeline: the last middleware runs first.
func chain(h updateFunc, mws ...middleware) updateFunc {
	for _, mw := range mws {
		h = mw(h)
	}
	return h
}

// dedup drops an update_id seen recently (webhook redeliveries, a
// duplicate in a poll batch).
func (a *Adapter) dedup(next updateFunc) updateFunc {
	return func(ctx context.Context, u *models.Update) {
		dup := !a.seen.first(u.ID)
		if !dup && a.o.FirstSeen != nil {
			bot, _, _ := strings.Cut(a.cfg.Token, ":")
			first, err := a.o.FirstSeen(ctx, "telegram:update:"+bot+":"+strconv.FormatInt(u.ID, 10))
			if err != nil {
				a.log.Warn("cross-replica de-duplication unavailable", "update_id", u.ID, "err", err)
			}
			dup = err == nil && !first
		}
		if dup {
			a.log.Debug("duplicate update ignored", "update_id", u.ID)
			return
		}
		next(ctx, u)
	}
}

// allowList drops updates from chats outside TELEGRAM_ALLOWED_CHATS.
func (a *Adapter) allowList(next updateFunc) updateFunc {
	return func(ctx context.Context, u *models.Update) {
		chat, ok := chatOf(u)
		if !ok {
			return
		}
		if len(a.allowed) > 0 && !a.allowed[chat] {
			a.log.Info("update from a chat not allowed", "chat", chat)
			if cq := u.CallbackQuery; cq != nil {
				a.answerCallback(ctx, cq.ID, "")
			}
			return
		}
		next(ctx, u)
	}
}

// fifo hands the update to its chat's queue (bot.Queues): updates of one
// chat are handled in arrival order, chats in parallel, and a panic is
// recovered there. Control (see control) does not queue: it is handled at
// once in its own goroutine, so a /stop is never stuck behind a slow start
// or interjection of the same chat. The dispatcher never waits.
func (a *Adapter) fifo(next updateFunc) updateFunc {
	return func(ctx context.Context, u *models.Update) {
		chat, _ := chatOf(u)
		key := strconv.FormatInt(chat, 10)
		handle := func(ctx context.Context) { next(ctx, u) }
		if a.control(u) {
			a.queues.Urgent(ctx, key, handle)
			return
		}
		a.queues.Add(ctx, key, handle)
	}
}

// control reports whether an update steers a session rather than adds to
// it: a button, /stop, /status, /export, /personas, /help, or an answer to
// the people's turn. Control keeps no order with the chat's speech;
// starts, interjections and /forget stay in the chat's FIFO.
func (a *Adapter) control(u *models.Update) bool {
	if cq := u.CallbackQuery; cq != nil {
		return cq.Data != dataPhoto // a start on a photo is ordered like any start
	}
	m := u.Message
	if m == nil || m.From == nil || m.From.IsBot {
		return false
	}
	text, ents := m.Text, m.Entities
	if text == "" {
		text, ents = m.Caption, m.CaptionEntities
	}
	t, forOther := parse(a.who.main(), text, ents)
	if forOther {
		return false
	}
	switch t.cmd {
	case bot.CmdStop, bot.CmdStatus, bot.CmdExport, bot.CmdPersonas, bot.CmdHelp:
		return true
	case "":
		r := m.ReplyToMessage
		return r != nil && r.From != nil && a.who.ours(r.From.ID) && isQuestion(r)
	}
	return false
}

// chatOf is the chat an update belongs to.
func chatOf(u *models.Update) (int64, bool) {
	switch {
	case u.Message != nil:
		return u.Message.Chat.ID, true
	case u.CallbackQuery != nil:
		m := u.CallbackQuery.Message
		if m.Message != nil {
			return m.Message.Chat.ID, true
		}
		if m.InaccessibleMessage != nil {
			return m.InaccessibleMessage.Chat.ID, true
		}
	}
	return 0, false
}

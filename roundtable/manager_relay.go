package roundtable

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/store"
)

// Relay carries commands between replicas that share a store: a command
// for a channel whose session runs on another replica is handed to the
// replica holding the channel's lease (replica.Relay implements it). With
// one process (the embedded store) there is no relay and none is needed.
type Relay interface {
	// Holder returns the channel's unexpired lease (store.ErrNotFound
	// when nobody holds it).
	Holder(ctx context.Context, channel string) (store.Lease, error)
	// Call hands body to owner and waits for its reply until ctx ends.
	Call(ctx context.Context, owner string, body []byte) ([]byte, error)
	// ServeRelay answers requests handed to owner until ctx ends.
	ServeRelay(ctx context.Context, owner string, h func(ctx context.Context, body []byte) []byte) error
}

// relayTimeout bounds a relayed command (a Discord interaction must be
// answered within 3 s, and the adapters defer before calling us).
const relayTimeout = 4 * time.Second

// relayed is a Request on the wire (no conversation, no image: only the
// commands that act on a running session are relayed).
type relayed struct {
	Command bot.Command       `json:"command"`
	Channel string            `json:"channel"`
	User    bot.User          `json:"user"`
	Text    string            `json:"text,omitempty"`
	Options map[string]string `json:"options,omitempty"`
	Answer  *bot.Answer       `json:"answer,omitempty"`
	Ref     string            `json:"ref,omitempty"`
}

type relayedReply struct {
	Text       string `json:"text,omitempty"`
	NoQuestion bool   `json:"no_question,omitempty"`
}

// relayable are the commands that act on the running session itself.
func relayable(c bot.Command) bool {
	return c == bot.CmdStop || c == bot.CmdSay || c == bot.CmdStatus || c == bot.CmdAnswer
}

type relayedKey struct{}

// remoteOwner names the other replica running channel's session, if any.
func (m *Manager) remoteOwner(ctx context.Context, channel string) (string, bool) {
	if m.o.Relay == nil || m.live(channel) != nil {
		return "", false
	}
	l, err := m.o.Relay.Holder(ctx, channel)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			m.log.Warn("find the replica running a session", "channel", channel, "err", err)
		}
		return "", false
	}
	if l.Owner == m.o.Owner {
		return "", false // ours, being resumed or wound down
	}
	return l.Owner, true
}

// forward relays req to owner and returns its reply.
func (m *Manager) forward(ctx context.Context, owner string, req bot.Request) (bot.Reply, error) {
	body, err := json.Marshal(relayed{Command: req.Command, Channel: req.Channel, User: req.User, Text: req.Text,
		Options: req.Options, Answer: req.Answer, Ref: req.Ref})
	if err != nil {
		return bot.Reply{}, err
	}
	cctx, cancel := context.WithTimeout(ctx, relayTimeout)
	defer cancel()
	out, err := m.o.Relay.Call(cctx, owner, body)
	var rep relayedReply
	if err == nil {
		err = json.Unmarshal(out, &rep)
	}
	if err != nil {
		m.log.Warn("relay a command to the replica running the session", "channel", req.Channel,
			"command", req.Command, "owner", owner, "err", err)
		return bot.Reply{Text: m.text(req, "relay_failed")}, nil
	}
	if rep.NoQuestion {
		return bot.Reply{}, bot.ErrNoQuestion
	}
	return bot.Reply{Text: rep.Text}, nil
}

// serveRelayed answers a command relayed by another replica. It never
// relays again: a session that moved on meanwhile gets the local answer.
func (m *Manager) serveRelayed(ctx context.Context, body []byte) []byte {
	var in relayed
	var rep relayedReply
	if err := json.Unmarshal(body, &in); err != nil || !relayable(in.Command) {
		rep.Text = m.text(bot.Request{}, "unknown")
	} else {
		req := bot.Request{Command: in.Command, Channel: in.Channel, User: in.User, Text: in.Text,
			Options: in.Options, Answer: in.Answer, Ref: in.Ref}
		r, err := m.Handle(context.WithValue(ctx, relayedKey{}, true), req)
		rep.Text = r.Text
		rep.NoQuestion = errors.Is(err, bot.ErrNoQuestion)
	}
	out, _ := json.Marshal(rep)
	return out
}

// answer hands a relayed answer to the open people's turn of the session.
func (m *Manager) answer(req bot.Request) (bot.Reply, error) {
	l := m.live(req.Channel)
	if l == nil || req.Answer == nil {
		return bot.Reply{}, bot.ErrNoQuestion
	}
	a, ok := l.sess.conv.(bot.Answerable)
	if !ok || !a.SubmitAnswer(req.Ref, *req.Answer) {
		return bot.Reply{}, bot.ErrNoQuestion
	}
	return bot.Reply{}, nil
}

package roundtable

import (
	"context"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/store"
)

// Watch shows sessions somewhere besides their chat (the live web table):
// the manager hands it the conversation of each session it is about to
// create (s carries only the Channel) or resume (s is the session's
// record), and the session posts into the conversation it returns (conv
// itself, or conv teed elsewhere).
type Watch func(ctx context.Context, s store.Session, conv bot.Conversation) bot.Conversation

// watch passes a session's conversation through ManagerOptions.Watch.
func (m *Manager) watch(ctx context.Context, s store.Session, conv bot.Conversation) bot.Conversation {
	if m.o.Watch == nil {
		return conv
	}
	return m.o.Watch(ctx, s, conv)
}

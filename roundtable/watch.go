package roundtable

import (
	"context"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/store"
)

// Watch shows sessions somewhere besides their chat (the live web table):
// the manager calls it with each session it starts or resumes, before the
// session posts anything, and the session posts into the conversation it
// returns (conv itself, or conv teed elsewhere).
type Watch func(ctx context.Context, s store.Session, conv bot.Conversation) bot.Conversation

// watch hands a session that is about to run to ManagerOptions.Watch.
func (m *Manager) watch(ctx context.Context, sess *Session) {
	if m.o.Watch != nil {
		sess.conv = m.o.Watch(ctx, sess.Meta(), sess.conv)
	}
}

package roundtable

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tableround/tableround/bot"
)

// This file holds the manager's commands on a running or finished session:
// stop, say, status, export, personas, forget.

// live returns the running session of a channel (nil while it is only
// reserved for a resume).
func (m *Manager) live(channel string) *live {
	m.mu.Lock()
	defer m.mu.Unlock()
	if l := m.running[channel]; l != nil && l.sess != nil {
		return l
	}
	return nil
}

func (m *Manager) unreserve(channel string, l *live) {
	m.mu.Lock()
	if m.running[channel] == l {
		delete(m.running, channel)
	}
	m.mu.Unlock()
}

func (m *Manager) stop(req bot.Request) (bot.Reply, error) {
	l := m.live(req.Channel)
	if l == nil {
		return bot.Reply{Text: m.text(req, "none")}, nil
	}
	if req.User.ID != l.starter.ID && !req.User.Admin {
		return bot.Reply{Text: m.text(req, "not_yours", l.starter.Name)}, nil
	}
	l.sess.Stop()
	m.mu.Lock()
	l.cancel()
	m.mu.Unlock()
	return bot.Reply{Text: m.text(req, "stopping", l.sess.ID())}, nil
}

func (m *Manager) say(req bot.Request) (bot.Reply, error) {
	l := m.live(req.Channel)
	if l == nil {
		return bot.Reply{Text: m.text(req, "none")}, nil
	}
	name := req.User.Name
	if name == "" {
		name = "someone"
	}
	l.sess.Interject(name, req.Text)
	return bot.Reply{Text: m.text(req, "heard")}, nil
}

func (m *Manager) status(ctx context.Context, req bot.Request) (bot.Reply, error) {
	if l := m.live(req.Channel); l != nil {
		st := l.sess.Status()
		who := st.Speaker
		if who == "" {
			who = "—"
		}
		return m.withAlerts(req, m.text(req, "status", l.sess.ID(), l.sess.t.stageTitle(st.Stage), who,
			st.Elapsed.Round(time.Second), st.Usage.InputTokens+st.Usage.OutputTokens)), nil
	}
	list, err := m.store.ListSessions(ctx, req.Channel, 1)
	if err != nil || len(list) == 0 {
		return m.withAlerts(req, m.text(req, "none")), nil
	}
	s := list[0]
	return m.withAlerts(req, m.text(req, "last", s.ID, s.Topic, s.Status)), nil
}

// withAlerts adds the process's recent warnings to a status reply for a
// chat admin (ManagerOptions.Alerts).
func (m *Manager) withAlerts(req bot.Request, text string) bot.Reply {
	if !req.User.Admin || m.o.Alerts == nil {
		return bot.Reply{Text: text}
	}
	lines := m.o.Alerts()
	if lines == "" {
		return bot.Reply{Text: text + "\n\n" + m.text(req, "no_alerts")}
	}
	return bot.Reply{Text: text + "\n\n" + m.text(req, "alerts") + "\n" + lines}
}

// StageAges reports, by stage, the longest time a session running in this
// process has spent in its current stage (the stuck-stage metric).
func (m *Manager) StageAges() map[string]time.Duration {
	m.mu.Lock()
	var sessions []*Session
	for _, l := range m.running {
		if l != nil && l.sess != nil {
			sessions = append(sessions, l.sess)
		}
	}
	m.mu.Unlock()
	out := map[string]time.Duration{}
	for _, s := range sessions {
		st := s.Status()
		if st.Stage != "" && st.InStage > out[st.Stage] {
			out[st.Stage] = st.InStage
		}
	}
	return out
}

func (m *Manager) personas(req bot.Request) (bot.Reply, error) {
	name := req.Options["pack"]
	if name == "" {
		name = m.cfg.Pack
	}
	p, err := LoadPack(name)
	if err != nil {
		return bot.Reply{Text: m.text(req, "bad_pack", strings.Join(BuiltinPacks(), ", "))}, nil
	}
	lang := m.lang(req)
	var b strings.Builder
	b.WriteString("**" + p.Title.In(lang) + "**")
	for _, s := range p.Seats {
		fmt.Fprintf(&b, "\n%s **%s** (%s) — %s", s.Emoji, s.Name.In(lang), p.RoleLabel(s.Role, lang), s.Bio.In(lang))
	}
	return bot.Reply{Text: b.String()}, nil
}

func (m *Manager) forget(ctx context.Context, req bot.Request) (bot.Reply, error) {
	if !req.User.Admin {
		return bot.Reply{Text: m.text(req, "admins_only")}, nil
	}
	if err := m.store.Forget(ctx, req.Channel); err != nil {
		m.log.Error("forget", "channel", req.Channel, "err", err)
		return bot.Reply{Text: m.text(req, "start_failed")}, nil
	}
	return bot.Reply{Text: m.text(req, "forgot")}, nil
}

package roundtable

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/store"
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
		return m.withAlerts(req, m.text(req, "status", l.sess.ID(), l.sess.stageTitle(st.Stage), who,
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

func (m *Manager) export(ctx context.Context, req bot.Request) (bot.Reply, error) {
	format := req.Options["format"]
	if format == "" {
		format = "md"
	}
	if format != "md" && format != "json" && format != "html" {
		return bot.Reply{Text: m.text(req, "bad_format")}, nil
	}
	id := strings.TrimSpace(req.Text)
	var s store.Session
	var err error
	if id == "" {
		list, lerr := m.store.ListSessions(ctx, req.Channel, 1)
		if lerr != nil || len(list) == 0 {
			return bot.Reply{Text: m.text(req, "none_to_export")}, nil
		}
		s = list[0]
	} else if s, err = m.store.GetSession(ctx, id); err != nil || s.Channel != req.Channel {
		// Sessions of other channels are not found from here.
		return bot.Reply{Text: m.text(req, "not_found", id)}, nil
	}
	if m.o.Render == nil {
		return bot.Reply{Text: m.text(req, "start_failed")}, nil
	}
	evs, err := m.store.Events(ctx, s.ID)
	if err != nil {
		m.log.Error("export: events", "session", s.ID, "err", err)
		return bot.Reply{Text: m.text(req, "export_failed", s.ID)}, nil
	}
	var buf bytes.Buffer
	blob := func(name string) ([]byte, error) { return m.store.GetBlob(ctx, s.ID, name) }
	if err := m.o.Render(&buf, format, s, evs, blob); err != nil {
		m.log.Error("export: render", "session", s.ID, "err", err)
		return bot.Reply{Text: m.text(req, "export_failed", s.ID)}, nil
	}
	mime := map[string]string{"md": "text/markdown", "json": "application/json", "html": "text/html"}[format]
	return bot.Reply{Text: m.text(req, "exported", s.ID),
		File:    &bot.Attachment{Name: "tableround-" + s.ID + "." + format, MIME: mime, Data: buf.Bytes()},
		Picture: m.diagram(s, evs)}, nil
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

package roundtable

import (
	"context"
	"log/slog"
	"sync"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/store"
)

// A session is made of small parts, each owning its job and its own state:
//
//   - Session (session.go, run.go): the orchestration — the plan of steps,
//     the run loop, checkpoints, stop/suspend, /status;
//   - talks, decisions, design (stages.go, photo.go, decide.go, final.go):
//     the stage runners;
//   - speaker (speak.go, layout.go): streams one persona's speech and lays
//     out its prompt;
//   - host (host.go): the moderator's lines and banners;
//   - board (board.go): the live status message and what it shows;
//   - delivery (delivery.go, settle.go): what the chat still owes, the
//     backpressure, and settling the outbox on resume;
//   - outbox (outbox.go): numbering the messages and logging their life.
//
// What they share is the table: the session's configuration, its
// dependencies and its State. Each part is handed the table and the few
// sibling parts it calls when the Session is wired (wire), never the
// Session itself.

// table is what the parts of one session share.
type table struct {
	cfg  Config
	deps Deps
	log  *slog.Logger

	// mu guards st where goroutines meet: concurrent speakers append to
	// the transcript and add usage and overruns, and /status, Meta and the
	// board read it from other goroutines. The session's goroutine writes
	// the rest of st between steps, when no speaker runs.
	mu sync.Mutex
	st State
}

// id is the session ID.
func (t *table) id() string { return t.st.Meta.ID }

// lang is the session's language.
func (t *table) lang() string { return t.st.Meta.Language }

// ui is a moderator line in the session's language.
func (t *table) ui(key string) string {
	if v, ok := ui[t.lang()][key]; ok {
		return v
	}
	return ui["en"][key]
}

// stageTitle is a stage's name as people read it.
func (t *table) stageTitle(stage string) string {
	if title, ok := stageTitles[t.lang()][stage]; ok {
		return title
	}
	return stage
}

// persona returns how seat i appears in chat.
func (t *table) persona(i int) bot.Persona {
	seat := t.st.Pack.Seats[i]
	return bot.Persona{ID: seat.ID, Name: seat.Name.In(t.lang()), Emoji: seat.Emoji, Color: seat.Color,
		AvatarURL: seat.AvatarURL, Role: t.st.Pack.RoleLabel(t.st.Roles[i], t.lang())}
}

// moderator is how the moderator appears in chat.
func (t *table) moderator() bot.Persona {
	m := t.st.Pack.Moderator
	name := m.Name.In(t.lang())
	if name == "" {
		name = "Moderator"
	}
	return bot.Persona{ID: "moderator", Name: name, Emoji: m.Emoji, Color: m.Color, Moderator: true}
}

// personaOf is how the speaker of a seat ID (or the moderator) looks now.
func (t *table) personaOf(seat string) bot.Persona {
	for i, st := range t.st.Pack.Seats {
		if st.ID == seat {
			return t.persona(i)
		}
	}
	return t.moderator()
}

// origRoles are the seats' own roles, as the pack deals them.
func (t *table) origRoles() []string {
	var r []string
	for _, seat := range t.st.Pack.Seats {
		r = append(r, seat.Role)
	}
	return r
}

// model returns the chat model of a seat and its display name.
func (t *table) model(seat string) (providers.ChatModel, string) {
	if t.deps.SeatModel != nil {
		if m, name := t.deps.SeatModel(seat); m != nil {
			return m, name
		}
	}
	return t.deps.Chat, t.deps.ModelName
}

// event appends to the session's log. A failing store is logged; the
// checkpoint after the step reports it as the session's error.
func (t *table) event(ctx context.Context, ev store.Event) {
	ev.Time = t.deps.Now()
	if _, err := t.deps.Store.Append(ctx, t.st.Meta.ID, ev); err != nil {
		t.log.Error("append event failed", "type", ev.Type, "err", err)
	}
}

// addUsage adds a call's usage to the session's and tells an Observer
// that counts usage (UsageObserver).
func (t *table) addUsage(provider string, u providers.Usage) {
	t.mu.Lock()
	t.st.Usage = t.st.Usage.Add(u)
	t.mu.Unlock()
	if o, ok := t.deps.Observer.(UsageObserver); ok {
		o.ModelUsage(provider, u)
	}
}

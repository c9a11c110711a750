package roundtable

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/store"
)

// Renderer writes a session export (export.Render fits).
type Renderer func(w io.Writer, format string, s store.Session, events []store.Event, blob func(name string) ([]byte, error)) error

// Resumer builds the conversation of a channel for a resumed session.
type Resumer func(ctx context.Context, channel string) (bot.Conversation, error)

// ManagerOptions tune the manager.
type ManagerOptions struct {
	Owner            string // this process, for leases
	MaxSessions      int    // MAX_SESSIONS
	UserSessionLimit int    // USER_SESSION_LIMIT per person per hour
	UserCallLimit    int    // USER_CALL_LIMIT model calls per person per hour
	// Operators are the people the per-person limits do not apply to
	// (OPERATOR_IDS), by PersonKey ("discord:123", "telegram:456").
	Operators map[string]bool
	LeaseTTL  time.Duration // default 30s, renewed every third
	ScanEvery time.Duration // orphan scan period, default 10s
	Render    Renderer
	// Diagram, when set, draws the KJ diagram and the vote chart that an
	// export sends beside its file (export_diagram.go).
	Diagram  Diagrammer
	Resumers map[string]Resumer // by platform ("discord", "telegram")
	// Relay, when set, carries commands for sessions that run on another
	// replica to it, and serves the ones relayed to this process.
	Relay Relay
	// HandOff lets another replica resume a suspended session at once on
	// shutdown (its lease is set to expire now) instead of after LeaseTTL.
	HandOff bool
	// ShutdownGrace is how long a session may take to finish its current
	// step on shutdown before it is interrupted (default 20s).
	ShutdownGrace time.Duration
	Logger        *slog.Logger
	// OnSession is told "started", "suspended" and each final status
	// ("finished", "stopped", "failed", "interrupted"), for metrics.
	OnSession func(event string)
	// Alerts, when set, returns the process's recent warnings, one per
	// line ("" for none); /status shows them to chat admins.
	Alerts func() string
	// Watch, when set, is handed every session before it runs (watch.go).
	Watch Watch
}

// Manager runs the sessions of chat platforms: it is the bot.Handler the
// adapters call, holds one lease per running channel, and resumes sessions
// whose process died.
type Manager struct {
	cfg   Config
	deps  Deps
	store ManagerStore
	o     ManagerOptions
	log   *slog.Logger
	work  chan func(ctx context.Context)
	// quotas and leases own the per-person limits and the renewal of
	// running sessions' leases; neither shares the manager's lock.
	quotas *startQuota
	leases *leaseKeeper

	mu       sync.Mutex
	running  map[string]*live // by channel
	starting int              // starts reserved by reserveStart, not running yet
	resumers resumerBook      // its own lock (manager_resume.go)
}

type live struct {
	sess    *Session
	cancel  context.CancelFunc
	starter bot.User
	lease   *heldLease
}

var _ bot.Handler = (*Manager)(nil)

// NewManager returns a manager; call Run to serve.
func NewManager(cfg Config, deps Deps, store ManagerStore, o ManagerOptions) *Manager {
	deps = withDefaults(deps)
	deps.Store = store
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 30 * time.Second
	}
	if o.ShutdownGrace <= 0 {
		o.ShutdownGrace = 20 * time.Second
	}
	if o.ScanEvery <= 0 {
		o.ScanEvery = 10 * time.Second
	}
	if o.MaxSessions <= 0 {
		o.MaxSessions = 50
	}
	if o.Owner == "" {
		o.Owner = "tableround-" + NewID()
	}
	if o.Logger == nil {
		o.Logger = deps.Logger
	}
	if o.OnSession == nil {
		o.OnSession = func(string) {}
	}
	m := &Manager{cfg: cfg, deps: deps, store: store, o: o, log: o.Logger.With("component", "manager"),
		work: make(chan func(context.Context)), running: map[string]*live{}}
	m.quotas = &startQuota{store: store, sessions: o.UserSessionLimit, calls: o.UserCallLimit, operators: o.Operators,
		now: deps.Now, log: m.log, text: m.text}
	m.leases = &leaseKeeper{store: store, ttl: o.LeaseTTL, now: deps.Now, log: m.log}
	for p, r := range o.Resumers {
		m.resumers.add(p, r)
	}
	return m
}

// AddResumer tells the manager how to rebuild the conversation of a
// platform's channel for a resumed session (the adapter's Resume). Adapters
// are built with the manager as their Handler, so cmd adds them here, before
// Run.
func (m *Manager) AddResumer(platform string, r Resumer) {
	m.resumers.add(platform, r)
}

// Run serves until ctx ends: it runs started sessions, resumes orphans, and
// on shutdown suspends every session (checkpointed, lease left to expire)
// so another process resumes it.
func (m *Manager) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	scan := time.NewTicker(m.o.ScanEvery)
	defer scan.Stop()
	if m.o.Relay != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := m.o.Relay.ServeRelay(ctx, m.o.Owner, m.serveRelayed); err != nil {
				m.log.Error("relay between replicas stopped", "err", err)
			}
		}()
	}
	m.resumeOrphans(ctx, &wg)
	for {
		select {
		case <-ctx.Done():
			m.suspendAll()
			return nil
		case fn := <-m.work:
			wg.Add(1)
			go func() {
				defer wg.Done()
				fn(ctx)
			}()
		case <-scan.C:
			m.resumeOrphans(ctx, &wg)
		}
	}
}

// suspendAll asks every session to stop after its current step; those
// still inside a step after ShutdownGrace are interrupted (that step is
// redone on resume).
func (m *Manager) suspendAll() {
	m.mu.Lock()
	defer m.mu.Unlock()
	var cancels []context.CancelFunc
	for _, l := range m.running {
		if l.sess != nil {
			l.sess.Suspend()
			cancels = append(cancels, func() {
				m.mu.Lock()
				cancel := l.cancel
				m.mu.Unlock()
				cancel()
			})
		} else {
			l.cancel() // reserved for a resume that has not started
		}
	}
	if len(cancels) > 0 {
		time.AfterFunc(m.o.ShutdownGrace, func() {
			for _, c := range cancels {
				c()
			}
		})
	}
}

// Running reports how many sessions this process runs.
func (m *Manager) Running() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.running)
}

// Handle serves one request from an adapter. It alone decides what a
// request means for the table: a mention starts a session or interjects
// into the one running in its channel, and a command on a session another
// replica runs is relayed there. It never blocks on a session (sessions run
// in Run's goroutines) nor on a photo's decode (the session prepares it).
func (m *Manager) Handle(ctx context.Context, req bot.Request) (bot.Reply, error) {
	decides := req.Command == bot.CmdMention || req.Unaddressed
	if decides || relayable(req.Command) {
		owner, remote := "", false
		if m.live(req.Channel) == nil && ctx.Value(relayedKey{}) == nil {
			owner, remote = m.remoteOwner(ctx, req.Channel)
		}
		if decides {
			switch {
			case m.live(req.Channel) != nil || remote:
				req.Command = bot.CmdSay
			case req.Unaddressed:
				return bot.Reply{}, nil // chatter where no session runs
			default:
				req.Command = bot.CmdStart
			}
		}
		if remote && relayable(req.Command) {
			return m.forward(ctx, owner, req)
		}
	}
	switch req.Command {
	case bot.CmdStart:
		return m.start(ctx, req)
	case bot.CmdStop:
		return m.stop(req)
	case bot.CmdStatus:
		return m.status(ctx, req)
	case bot.CmdSay:
		return m.say(req)
	case bot.CmdExport:
		return exporter{store: m.store, render: m.o.Render, draw: m.o.Diagram, log: m.log, text: m.text}.export(ctx, req)
	case bot.CmdPersonas:
		return m.personas(req)
	case bot.CmdForget:
		return m.forget(ctx, req)
	case bot.CmdHelp:
		return bot.Reply{Text: m.text(req, "help")}, nil
	case bot.CmdAnswer:
		return m.answer(req)
	}
	return bot.Reply{Text: m.text(req, "unknown")}, nil
}

func (m *Manager) lang(req bot.Request) string {
	if l := req.Options["language"]; l == "zh" || l == "en" {
		return l
	}
	return m.cfg.Language
}

func (m *Manager) text(req bot.Request, key string, args ...any) string {
	t, ok := managerText[m.lang(req)][key]
	if !ok {
		t = managerText["en"][key]
	}
	return fmt.Sprintf(t, args...)
}

// start decides whether a session may start (topic, photo header, one
// session per channel, MAX_SESSIONS, the person's hourly limits) and only
// then has the adapter open its place (req.Open) and launches it. A refused
// start leaves nothing behind in the chat but the reply.
func (m *Manager) start(ctx context.Context, req bot.Request) (bot.Reply, error) {
	if strings.TrimSpace(req.Text) == "" && req.Image == nil {
		return bot.Reply{Text: m.text(req, "need_topic")}, nil
	}
	if req.Open == nil {
		return bot.Reply{}, errors.New("start: request has no conversation to open")
	}
	in := Start{Topic: req.Text, Language: req.Options["language"], StarterID: req.User.ID, StarterName: req.User.Name}
	if req.Image != nil {
		if m.deps.Inspect != nil {
			if err := m.deps.Inspect(req.Image.Data); err != nil {
				m.log.Info("photo refused", "channel", req.Channel, "err", err)
				return bot.Reply{Text: "⚠️ " + userMessage(err, m.text(req, "start_failed"))}, nil
			}
		}
		in.Image = req.Image.Data
		if in.Topic == "" {
			in.Topic = m.text(req, "photo_topic")
		}
	}
	if t, err := strconv.Atoi(req.Options["turns"]); err == nil {
		in.Turns = t
	}
	if name := req.Options["pack"]; name != "" {
		p, err := LoadPack(name)
		if err != nil {
			return bot.Reply{Text: m.text(req, "bad_pack", strings.Join(BuiltinPacks(), ", "))}, nil
		}
		in.Pack = p
	}
	if refusal := m.reserveStart(req, req.Channel); refusal != "" {
		return bot.Reply{Text: refusal}, nil
	}
	defer m.endStart()
	use, refusal := m.quotas.takeStart(ctx, req)
	if refusal != "" {
		return bot.Reply{Text: refusal}, nil
	}
	started := false
	defer func() {
		if !started {
			m.quotas.giveBack(ctx, req, use)
		}
	}()
	conv, channel, err := req.Open(ctx)
	if err != nil {
		m.log.Warn("open the session's place", "channel", req.Channel, "err", err)
		return bot.Reply{Text: userMessage(err, m.text(req, "start_failed"))}, nil
	}
	if channel != req.Channel {
		if refusal := m.refuseChannel(req, channel); refusal != "" {
			return bot.Reply{Text: refusal}, nil
		}
	}
	in.Channel = channel
	conv = m.watch(ctx, store.Session{Channel: channel}, conv)
	sess, err := New(ctx, m.cfg, m.sessionDeps(PersonKey(req.Channel, req.User.ID)), conv, in)
	if err != nil {
		m.log.Warn("session did not start", "channel", channel, "err", err)
		return bot.Reply{Text: userMessage(err, m.text(req, "start_failed"))}, nil
	}
	lease, err := m.store.AcquireLease(ctx, channel, sess.ID(), m.o.Owner, m.o.LeaseTTL)
	if err != nil {
		m.markAbandoned(ctx, sess)
		if errors.Is(err, store.ErrLocked) {
			return bot.Reply{Text: m.text(req, "already", "")}, nil
		}
		m.log.Error("acquire lease", "channel", channel, "err", err)
		return bot.Reply{Text: m.text(req, "start_failed")}, nil
	}
	if !m.launch(ctx, channel, sess, req.User, lease) {
		_ = m.store.ReleaseLease(ctx, lease)
		m.markAbandoned(ctx, sess)
		return bot.Reply{Text: m.text(req, "already", "")}, nil
	}
	started = true
	return bot.Reply{Text: m.text(req, "started", sess.ID())}, nil
}

// reserveStart is the refusal of a start in channel when one runs there or
// this process runs (or is starting) MAX_SESSIONS; "" when it may start,
// and then a slot is held until endStart, so that starts running at once
// (each opening its place meanwhile) never exceed MAX_SESSIONS.
func (m *Manager) reserveStart(req bot.Request, channel string) string {
	if refusal := m.refuseChannel(req, channel); refusal != "" {
		return refusal
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.running)+m.starting >= m.o.MaxSessions {
		return m.text(req, "busy")
	}
	m.starting++
	return ""
}

// endStart frees the slot reserveStart held (the session is in running by
// now, or did not start).
func (m *Manager) endStart() {
	m.mu.Lock()
	m.starting--
	m.mu.Unlock()
}

// refuseChannel is the refusal of a start in channel when a session runs
// (or is being resumed) there; "" when none does.
func (m *Manager) refuseChannel(req bot.Request, channel string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if l, ok := m.running[channel]; ok {
		id := ""
		if l.sess != nil {
			id = "(" + l.sess.ID() + ")"
		}
		return m.text(req, "already", id)
	}
	return ""
}

// userMessage is the kind sentence an error carries for a chat user
// (UserMessage), else fallback.
func userMessage(err error, fallback string) string {
	var um interface{ UserMessage() string }
	if errors.As(err, &um) && um.UserMessage() != "" {
		return um.UserMessage()
	}
	return fallback
}

// markAbandoned closes the record of a session that never ran.
func (m *Manager) markAbandoned(ctx context.Context, s *Session) {
	meta := s.Meta()
	meta.Status, meta.Error = store.StatusFailed, "not started"
	if err := m.store.UpdateSession(ctx, meta); err != nil {
		m.log.Warn("mark abandoned session", "session", meta.ID, "err", err)
	}
}

// launch hands a session to Run; false when the channel got one meanwhile.
func (m *Manager) launch(ctx context.Context, channel string, sess *Session, starter bot.User, lease store.Lease) bool {
	m.mu.Lock()
	if _, ok := m.running[channel]; ok {
		m.mu.Unlock()
		return false
	}
	l := &live{sess: sess, starter: starter, lease: &heldLease{l: lease}, cancel: func() {}}
	m.running[channel] = l
	m.mu.Unlock()
	sess.SetFence(lease.Token)
	select {
	case m.work <- func(ctx context.Context) { m.runSession(ctx, channel, l) }:
		return true
	case <-ctx.Done(): // Run is not serving
		m.mu.Lock()
		delete(m.running, channel)
		m.mu.Unlock()
		return false
	}
}

func (m *Manager) runSession(ctx context.Context, channel string, l *live) {
	// Only the manager ends a session (stop, or suspend on shutdown), never
	// the serving context directly: suspension must be marked first.
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m.mu.Lock()
	l.cancel = cancel
	m.mu.Unlock()
	defer cancel()
	// The lease is renewed until Run has returned, not until the session is
	// told to end: a stopped or suspended session still writes its last
	// checkpoint and final messages, and another replica must not resume it
	// meanwhile.
	rctx, endRenewal := context.WithCancel(context.WithoutCancel(ctx))
	defer endRenewal()
	renewDone := make(chan struct{})
	go func() {
		defer close(renewDone)
		m.leases.keep(rctx, l.lease, l.sess.ID(), func() {
			l.sess.Suspend()
			cancel()
		})
	}()
	m.o.OnSession("started")
	err := l.sess.Run(sctx)
	cancel()
	endRenewal()
	<-renewDone
	if l.sess.isSuspended() {
		m.o.OnSession("suspended")
	} else {
		m.o.OnSession(string(l.sess.Meta().Status))
	}
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, ErrSuspended) {
		m.log.Info("session ended", "session", l.sess.ID(), "reason", err)
	}
	m.mu.Lock()
	delete(m.running, channel)
	m.mu.Unlock()
	out := context.WithoutCancel(ctx)
	switch {
	case !l.sess.isSuspended():
		m.leases.release(out, l.lease, l.sess.ID())
	case m.o.HandOff:
		// A suspended session stays "running" with its checkpoint.
		m.leases.handOff(out, l.lease, l.sess.ID())
	} // else the suspended session keeps its lease until it expires, then is resumed
}

// Package roundtable is the domain: a session of six personas moving through
// the stages of DESIGN §2, the persona packs, prompts, keyword parsing,
// voting, the role switch and the KJ grouping.
//
// Its Manager is the bot.Handler of the chat adapters: it alone decides
// what a request means (start, interjection, relay to another replica,
// refusal) and asks an adapter to open a place for a session only once it
// starts one. A photo is prepared by the session as its first step, never
// inside Handle.
//
// A Session is not one large type: it keeps the orchestration (the plan
// of steps, the run loop, checkpoints, stop and suspend) and wires small
// parts, each with its own job, file and lock — the stage runners (talks,
// decisions, design), the speaker, the moderator's host, the live board,
// the delivery bookkeeping and the outbox. They share the table (the
// configuration, dependencies and checkpointed State), handed to each when
// the session is wired; none holds the Session. table.go lists them.
//
// It declares the small interfaces it needs (a Store, a model, an image
// preparer) and talks to chats only through bot.Conversation. It must not
// know any platform, provider or storage technology.
package roundtable

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/transcript"
)

// Config holds the session knobs of DESIGN §4.
type Config struct {
	MaxTurns           int           `env:"MAX_TURNS, default=2"`
	MaxKeywords        int           `env:"MAX_KEYWORDS, default=10"`
	VotingThreshold    float64       `env:"VOTING_THRESHOLD, default=0.6"`
	UserInputTimeout   time.Duration `env:"USER_INPUT_TIMEOUT, default=2m"`
	Language           string        `env:"LANGUAGE, default=en"`
	Pack               string        `env:"PERSONA_PACK, default=papercut"`
	MaxSessionTokens   int           `env:"MAX_SESSION_TOKENS, default=200000"`
	MaxSessionDuration time.Duration `env:"MAX_SESSION_DURATION, default=30m"`
	// ContextBudget is how many tokens of transcript a prompt may carry
	// before earlier turns are summarised.
	ContextBudget int `env:"CONTEXT_BUDGET, default=6000"`
	// StaggerMinTokens: a concurrent stage whose shared prompt prefix has
	// at least this many tokens sends one seat's call first and the other
	// five when it has been answered (its first token), so that they read
	// the prefix from the provider's prompt cache instead of all six
	// missing it; 0 sends all six at once. 1024 is OpenAI's cache minimum.
	StaggerMinTokens int `env:"STAGGER_MIN_TOKENS, default=1024"`
	// DeliveryWindow is how many finished messages the chat may still owe
	// when the session takes its next step within a stage; a new stage
	// always waits for the previous one to be shown in full.
	DeliveryWindow int `env:"DELIVERY_WINDOW, default=1"`
}

// PreparedImage is a photo ready for the vision model.
type PreparedImage struct {
	MIME          string
	Data          []byte
	Width, Height int
}

// Deps are the parts a session runs on.
type Deps struct {
	Chat providers.ChatModel
	// SeatModel returns a seat's model (AGENT_MODELS) and its display name;
	// nil, or a nil model, means Chat.
	SeatModel func(seat string) (providers.ChatModel, string)
	Vision    providers.ChatModel      // nil: Chat
	Images    providers.ImageGenerator // nil: no image generation
	// Prepare decodes, orients, resizes and encodes a photo for the vision
	// model: the session's first step, never run inside Handle.
	Prepare func(ctx context.Context, data []byte) (PreparedImage, error)
	// Inspect checks a photo's header (format, dimensions, size caps)
	// without decoding it, so a bad photo is refused before a session
	// starts; its errors may carry a UserMessage. nil: no check.
	Inspect   func(data []byte) error
	Store     Store
	ModelName string // shown on the board
	Demo      bool   // running on the demo model: labelled everywhere
	Now       func() time.Time
	Logger    *slog.Logger
	Observer  Observer // metrics; nil means none
	// Calls, when set, counts every model call of the session against its
	// starter's hourly limit (set per session by the Manager).
	Calls *CallLimit
}

// Observer is told what the engine did, for metrics.
type Observer interface {
	StageDone(stage string, d time.Duration)
	ModelCall(provider string, firstToken time.Duration, outputTokens int, d time.Duration, err error)
}

// UsageObserver is an Observer that also counts what the model calls
// consumed: tokens in, of which cached by the provider, out, and cost.
type UsageObserver interface {
	ModelUsage(provider string, u providers.Usage)
}

type nopObserver struct{}

func (nopObserver) StageDone(string, time.Duration)                            {}
func (nopObserver) ModelCall(string, time.Duration, int, time.Duration, error) {}

// Start describes a new session.
type Start struct {
	Channel     string
	Topic       string
	Image       []byte // raw photo bytes, optional
	Language    string // "" → Config.Language
	Turns       int    // 0 → Config.MaxTurns
	Pack        *Pack  // nil → Config.Pack
	StarterID   string
	StarterName string
}

// Turn is one utterance in the transcript the speakers see.
type Turn struct {
	Stage string `json:"stage"`
	Seat  string `json:"seat,omitempty"` // empty for a person in the chat
	Name  string `json:"name"`
	Role  string `json:"role,omitempty"`
	Text  string `json:"text"`
	Human bool   `json:"human,omitempty"`
}

// State is everything needed to resume a session after its last completed
// step. It is stored as the checkpoint after every step.
type State struct {
	Version     int                        `json:"version"`
	Meta        store.Session              `json:"meta"`
	Pack        *Pack                      `json:"pack"` // snapshot: a resumed session keeps its table
	Turns       int                        `json:"turns"`
	Roles       []string                   `json:"roles"` // current role type per seat
	Photo       *transcript.ImageRef       `json:"photo,omitempty"`
	PhotoStep   bool                       `json:"photo_step,omitempty"` // the photo is prepared as the first step
	PhotoText   string                     `json:"photo_text,omitempty"`
	Memory      string                     `json:"memory,omitempty"` // what the channel remembers
	Transcript  []Turn                     `json:"transcript"`
	Summary     string                     `json:"summary,omitempty"`
	SummaryUpTo int                        `json:"summary_up_to,omitempty"`
	Unanswered  []Turn                     `json:"unanswered,omitempty"` // interjections the next speaker answers
	ImageKW     []string                   `json:"image_keywords,omitempty"`
	Keywords    map[string][]string        `json:"keywords,omitempty"`
	Candidates  []string                   `json:"candidates,omitempty"`
	KJ          *transcript.KJ             `json:"kj,omitempty"`
	Votes       map[string]transcript.Vote `json:"votes,omitempty"`
	Voted       *transcript.VoteResult     `json:"voted,omitempty"`
	Final       []string                   `json:"final,omitempty"`
	People      *transcript.People         `json:"people,omitempty"`
	Cards       map[string]string          `json:"cards,omitempty"`
	Design      string                     `json:"design,omitempty"`
	ImagePrompt string                     `json:"image_prompt,omitempty"`
	Usage       providers.Usage            `json:"usage"`
	Overruns    map[string]int             `json:"overruns,omitempty"` // speeches cut for length, by seat ID
	Elapsed     time.Duration              `json:"elapsed"`            // running time before this process
}

// Session runs one roundtable. It keeps the orchestration (the plan of
// steps, the run loop, checkpoints, stop and suspend, /status) and wires
// the parts that do the work (see table.go for the layout); what they
// share is the table.
type Session struct {
	t      *table
	conv   bot.Conversation
	out    *outbox
	dl     *delivery
	board  *board
	host   *host
	talks  *talks
	decide *decisions
	design *design
	stopBy time.Time // see stopHere; Run's goroutine only

	mu        sync.Mutex
	pending   []Turn // interjections not taken into the transcript yet
	started   time.Time
	stopped   bool
	suspended bool
	fence     int64
	resumed   bool // made by Resume: the outbox is settled first
}

// wire makes a session's parts around its table.
func wire(t *table, conv bot.Conversation) *Session {
	out := &outbox{table: t, conv: conv}
	b := &board{table: t, out: out}
	dl := &delivery{table: t, out: out, board: b}
	h := &host{table: t, out: out, dl: dl, board: b}
	spk := &speaker{table: t, out: out, dl: dl, board: b}
	c := crew{table: t, spk: spk, host: h, out: out, dl: dl, board: b, conv: conv}
	return &Session{t: t, conv: conv, out: out, dl: dl, board: b, host: h,
		talks: &talks{crew: c}, decide: &decisions{crew: c}, design: &design{crew: c}}
}

// ErrStopped ends a session that was stopped for good (not resumable).
var ErrStopped = errors.New("roundtable: session stopped")

// ErrSuspended is returned by Run when Suspend was called: the step in
// progress was finished and checkpointed, and the session can be resumed
// (by this process or another) from the next step.
var ErrSuspended = errors.New("roundtable: session suspended")

// New makes a session and records it in the store. It decodes nothing: a
// photo (in.Image) is checked by its header (Deps.Inspect, microseconds),
// kept as it came and prepared by the session's first step, so that
// Handle, /stop and /status never wait behind a decode.
func New(ctx context.Context, cfg Config, deps Deps, conv bot.Conversation, in Start) (*Session, error) {
	deps = withCallLimit(withDefaults(deps))
	lang := in.Language
	if lang == "" {
		lang = cfg.Language
	}
	if lang != "zh" {
		lang = "en"
	}
	pack := in.Pack
	if pack == nil {
		p, err := LoadPack(cfg.Pack)
		if err != nil {
			return nil, err
		}
		pack = p
	}
	turns := in.Turns
	if turns <= 0 {
		turns = cfg.MaxTurns
	}
	if turns > 10 {
		turns = 10
	}
	now := deps.Now()
	st := State{Version: 1, Pack: pack, Turns: turns, Meta: store.Session{
		ID: NewID(), Channel: in.Channel, Topic: quote(in.Topic, 300), Language: lang, Pack: pack.Name,
		StarterID: in.StarterID, StarterName: in.StarterName, Status: store.StatusRunning,
		Demo: deps.Demo, Model: deps.ModelName, CreatedAt: now, UpdatedAt: now,
	}}
	for _, seat := range pack.Seats {
		st.Roles = append(st.Roles, seat.Role)
	}
	s := wire(&table{st: st, cfg: cfg, deps: deps, log: deps.Logger.With("session", st.Meta.ID, "channel", st.Meta.Channel)}, conv)
	if len(in.Image) > 0 {
		if deps.Prepare == nil {
			return nil, errors.New("prepare photo: no image pipeline configured")
		}
		if deps.Inspect != nil {
			if err := deps.Inspect(in.Image); err != nil {
				return nil, fmt.Errorf("inspect photo: %w", err)
			}
		}
		s.t.st.PhotoStep, s.talks.upload = true, in.Image
	}
	if err := deps.Store.CreateSession(ctx, st.Meta); err != nil {
		return nil, fmt.Errorf("create session: %w", err)
	}
	return s, nil
}

// Resume loads an interrupted session from its last checkpoint.
func Resume(ctx context.Context, cfg Config, deps Deps, conv bot.Conversation, id string) (*Session, error) {
	deps = withCallLimit(withDefaults(deps))
	cp, err := deps.Store.LoadCheckpoint(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("load checkpoint of %s: %w", id, err)
	}
	var st State
	if err := json.Unmarshal(cp.State, &st); err != nil {
		return nil, fmt.Errorf("decode checkpoint of %s: %w", id, err)
	}
	switch st.Meta.Status {
	case store.StatusFinished, store.StatusStopped, store.StatusFailed:
		return nil, fmt.Errorf("resume %s: session is %s", id, st.Meta.Status)
	}
	st.Meta.Step = cp.Step
	st.Meta.Status = store.StatusRunning
	s := wire(&table{st: st, cfg: cfg, deps: deps, log: deps.Logger.With("session", id, "channel", st.Meta.Channel)}, conv)
	s.resumed = true
	return s, nil
}

func withDefaults(d Deps) Deps {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Vision == nil {
		d.Vision = d.Chat
	}
	if d.Observer == nil {
		d.Observer = nopObserver{}
	}
	return d
}

// NewID returns a short random session ID.
func NewID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ID returns the session ID.
func (s *Session) ID() string { return s.t.id() }

// Meta returns a copy of the session's metadata.
func (s *Session) Meta() store.Session {
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	u := s.t.st.Usage
	m := s.t.st.Meta
	m.InputTokens, m.OutputTokens, m.CostUSD, m.Calls = u.InputTokens, u.OutputTokens, u.CostUSD, u.Calls
	m.CachedInputTokens = u.CachedInputTokens
	return m
}

// Status is what /status shows.
type Status struct {
	Stage, Speaker string
	Elapsed        time.Duration
	InStage        time.Duration // time in the current stage, in this process
	Usage          providers.Usage
}

// Status reports where the session is.
func (s *Session) Status() Status {
	stage, speaker, inStage := s.board.progress()
	var in time.Duration
	if !inStage.IsZero() {
		in = s.t.deps.Now().Sub(inStage)
	}
	s.mu.Lock()
	ran := s.since()
	s.mu.Unlock()
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	return Status{Stage: stage, Speaker: speaker, Elapsed: s.t.st.Elapsed + ran, InStage: in, Usage: s.t.st.Usage}
}

// since is how long the session has run in this process; s.mu is held.
func (s *Session) since() time.Duration {
	if s.started.IsZero() {
		return 0
	}
	return s.t.deps.Now().Sub(s.started)
}

// stopClock ends the session's run in this process and says how long it
// was.
func (s *Session) stopClock() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	ran := s.since()
	s.started = time.Time{}
	return ran
}

// Interject passes a person's message to the table: the next speaker sees
// it and answers it.
func (s *Session) Interject(name, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending = append(s.pending, Turn{Name: quote(name, 40), Text: quote(text, 500), Human: true})
}

// Stop ends the session for good at the next point it checks; the caller
// also cancels the context it runs under.
func (s *Session) Stop() {
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
}

// Suspend marks the session as handed over (a process shutting down, or a
// lost lease): when its context ends it stays "running" in the store so
// another process resumes it, and it writes nothing more.
func (s *Session) Suspend() {
	s.mu.Lock()
	s.suspended = true
	s.mu.Unlock()
}

func (s *Session) isSuspended() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.suspended
}

// SetFence sets the fencing token every checkpoint carries.
func (s *Session) SetFence(token int64) {
	s.mu.Lock()
	s.fence = token
	s.mu.Unlock()
}

func (s *Session) isStopped() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopped
}

// Package discordfake is an in-process Discord: the REST routes and a
// minimal gateway WebSocket that the discord adapter uses, enforcing
// DESIGN §7's limits (50 requests/s per bot token, 5 requests per 2 s per
// webhook, one edit per second per message) with real 429 bodies and
// X-RateLimit-* headers. It records every message's content history, the
// 429s it sent and every rule a client broke (a write without
// allowed_mentions, content over 2000 characters), so tests and the load
// tool can check a client against it. It is not a test-only package.
package discordfake

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// Limits are the platform budgets the fake enforces. Zero values disable
// a limit.
type Limits struct {
	GlobalRequests  int           // per bot token per GlobalWindow
	GlobalWindow    time.Duration //
	WebhookRequests int           // per webhook per WebhookWindow
	WebhookWindow   time.Duration //
	EditInterval    time.Duration // between two edits of one message
	// ChannelMessages per ChannelWindow is the per-channel message limit
	// shared by every webhook and the bot in a channel (a thread is a
	// channel of its own). Discord does not document it; it is reported
	// at about 30 webhook messages per 60 s (discord-api-docs #367, #1454).
	// Over it the fake answers like Discord: 429 with X-RateLimit-Scope
	// shared, retry_after to the end of the window, and no
	// X-RateLimit-Remaining warning before.
	ChannelMessages int
	ChannelWindow   time.Duration
	// ChannelCountsEdits makes edits count toward ChannelMessages too
	// (undocumented either way).
	ChannelCountsEdits bool
}

// DiscordLimits are Discord's published figures (DESIGN §7) and the
// reported per-channel limit (30 creates per 60 s, edits not counted).
func DiscordLimits() Limits {
	return Limits{GlobalRequests: 50, GlobalWindow: time.Second, WebhookRequests: 5, WebhookWindow: 2 * time.Second, EditInterval: time.Second,
		ChannelMessages: 30, ChannelWindow: time.Minute}
}

// Options configure a Server.
type Options struct {
	Token  string // the bot token without "Bot "; empty accepts any
	Limits Limits
	Now    func() time.Time // the clock of the limits; time.Now when nil
	// Listener, when set, is where the fake serves (its URL follows it);
	// otherwise it takes a free local port.
	Listener net.Listener
	// Wrap, when set, wraps the fake's handler: a recorder in the same
	// process sees every request and response without a proxy's extra
	// HTTP hop (the load tool's).
	Wrap func(http.Handler) http.Handler
}

// User is a person (or the bot) as the fake knows it.
type User struct {
	ID   string
	Name string
}

// Channel is a guild channel or thread. Type follows Discord (0 text, 1
// DM, 11 public thread).
type Channel struct {
	ID, GuildID, ParentID string
	Type                  int
	NoWebhooks            bool // the bot lacks Manage Webhooks here
	NoThreads             bool // the bot may not create threads here
}

// File is an uploaded or attached file.
type File struct {
	Name, ContentType string
	Data              []byte
}

// Message is a message with every content it had.
type Message struct {
	ID, ChannelID  string
	AuthorID       string
	WebhookID      string
	Username       string // the webhook's username override or the author's
	AvatarURL      string
	Content        string
	History        []string // content after the create and after every edit
	Writes         []int64  // per History entry: its place among all the fake's message writes
	Embeds         []map[string]any
	EmbedHistory   []string // first embed's description, per write
	Components     json.RawMessage
	Flags          int
	Files          []File
	Edits          int
	Created        time.Time // the fake's clock (Options.Now) at the create
	seq            *int64    // the server's write counter
	attachmentURLs []map[string]any
}

// Webhook is a channel webhook.
type Webhook struct {
	ID, Token, ChannelID, ApplicationID, Name string
}

// Interaction is one INTERACTION_CREATE and what the client answered.
type Interaction struct {
	ID, Token, ChannelID string
	Callbacks            []int // callback types, in order
	Modal                map[string]any
	Original             *Message // the deferred or immediate response
	Followups            []*Message
	Ephemeral            bool
	source               string // the message a component sits on
}

// Server is a running fake.
type Server struct {
	o   Options
	srv *httptest.Server
	*gateway
	*rateLimits
	*requestLog
	*violationLog
	*commandStore
	*channelStore
	*webhookStore
	*attachmentStore

	*snowflakes

	interactions interactionStore // by token (own lock)

	bot   User
	appID string
	// mu serialises the REST handlers and guards the message book: the
	// messages (those interactions point to included), in creation order.
	mu       sync.Mutex
	writes   int64 // message writes so far (Message.Writes)
	messages map[string]*Message
	order    []string
}

// New starts a fake on a free local port.
func New(o Options) *Server {
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Server{
		o: o, snowflakes: newSnowflakes(), rateLimits: newRateLimits(o.Limits, o.Now),
		requestLog: &requestLog{counts: map[string]int{}}, violationLog: &violationLog{}, commandStore: &commandStore{scopes: map[string]json.RawMessage{}},
		messages: map[string]*Message{},
	}
	s.channelStore = &channelStore{ids: s.snowflakes, byID: map[string]*Channel{}}
	s.webhookStore = &webhookStore{ids: s.snowflakes, byID: map[string]*Webhook{}}
	s.attachmentStore = &attachmentStore{byKey: map[string]File{}}
	s.bot = User{ID: s.newID(), Name: "TableRound"}
	s.appID = s.bot.ID
	s.gateway = &gateway{token: o.Token, bot: s.bot, ids: s.snowflakes, conns: map[*gwConn]bool{}}
	var h http.Handler = http.HandlerFunc(s.serve)
	if o.Wrap != nil {
		h = o.Wrap(h)
	}
	s.srv = httptest.NewUnstartedServer(h)
	if o.Listener != nil {
		_ = s.srv.Listener.Close()
		s.srv.Listener = o.Listener
	}
	s.srv.Start()
	return s
}

// URL is the base to use as DISCORD_API_URL.
func (s *Server) URL() string { return s.srv.URL }

// Close stops the server and drops gateway connections.
func (s *Server) Close() {
	s.DropConnections()
	s.srv.Close()
}

// Bot is the bot user (its ID is also the application ID, see AppID).
func (s *Server) Bot() User { return s.bot }

// AppID is the bot's application ID.
func (s *Server) AppID() string { return s.appID }

// Messages returns copies of a channel's messages in creation order.
func (s *Server) Messages(channelID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, id := range s.order {
		if m := s.messages[id]; m.ChannelID == channelID {
			out = append(out, copyMessage(m))
		}
	}
	return out
}

// Message returns a copy of one message.
func (s *Server) Message(id string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.messages[id]
	if !ok {
		return Message{}, false
	}
	return copyMessage(m), true
}

func copyMessage(m *Message) Message {
	c := *m
	c.History = append([]string(nil), m.History...)
	c.Writes = append([]int64(nil), m.Writes...)
	c.seq = nil
	c.EmbedHistory = append([]string(nil), m.EmbedHistory...)
	c.Files = append([]File(nil), m.Files...)
	return c
}

// Interaction returns a copy of what the client answered to an interaction.
func (s *Server) Interaction(token string) (Interaction, bool) {
	s.mu.Lock() // the messages
	defer s.mu.Unlock()
	c, ok := s.interactions.get(token)
	if !ok {
		return Interaction{}, false
	}
	if c.Original != nil {
		o := copyMessage(c.Original)
		c.Original = &o
	}
	for i, f := range c.Followups {
		fc := copyMessage(f)
		c.Followups[i] = &fc
	}
	return c, true
}

// Package bot is the platform-neutral chat core: the inbound Request an
// adapter hands to the session side (which decides what it means), the
// outbound Poster/Stream contract the engine drives, the StreamWriter that
// turns a stream of text snapshots into paced create/edit calls on any
// platform, and Queues, the per-chat order of inbound events.
//
// Adapters (bot/console, bot/discord, bot/telegram) implement Poster and
// Asker and call a Handler; they never import the domain (roundtable) or
// each other, and never decide whether a message starts a session: they
// describe it, and open a place for a session only when asked to (Opener).
// This package must not know about personas' prompts, stages or models: it
// moves text.
package bot

import (
	"context"
	"errors"
	"time"
)

// Persona is how a speaker looks in a chat. The moderator persona is the bot
// itself (board, banners, the people's turn).
type Persona struct {
	ID        string // seat ID, "moderator" for the bot
	Name      string
	Emoji     string
	Color     string // "#rrggbb"
	AvatarURL string // may be empty; adapters then use their own fallback
	Role      string // shown next to the name, e.g. "craftsman"
	Moderator bool
}

// Kind tells an adapter what an outbound message is, for layout only.
type Kind int

// Message kinds.
const (
	KindSpeech Kind = iota // a persona speaking (streamed)
	KindBoard              // the live board, edited as the session moves
	KindBanner             // a stage banner
	KindNotice             // a moderator line (results, errors, closing)
)

// Post opens one outbound message.
type Post struct {
	From Persona
	Kind Kind
	// Group names a concurrent stage whose speeches an adapter may merge into
	// one message (Telegram groups do). Empty for sequential speech.
	Group string
	// Placeholder is shown until the first text arrives (never empty: empty
	// content is a 400 on both platforms). "…" when empty.
	Placeholder string
	// Buttons to attach (the board's Stop button). Adapters ignore what they
	// cannot show.
	Buttons []Button
	// Created, when set, is told the ID of each platform message created
	// for this post, as soon as it exists (WriterOptions.OnCreate). An
	// adapter that cannot edit the message later (a draft preview, a
	// merged message) does not call it.
	Created func(id string)
}

// Reattacher is a Conversation that can take over messages a previous
// process posted (IDs as told to Post.Created): the stream edits them, so
// a session resuming after a crash completes a cut-off message or replaces
// an orphan placeholder instead of posting it again.
type Reattacher interface {
	Reattach(ctx context.Context, p Post, ids []string) (Stream, error)
}

// Button is an action a person can take on a message. ID is compact
// (≤ 40 bytes) because callback data is capped at 64 bytes on Telegram.
type Button struct {
	ID    string
	Label string
}

// Poster sends messages into one conversation (a channel, a thread, a chat,
// a terminal).
type Poster interface {
	// Open starts a message and returns the stream that fills it.
	Open(ctx context.Context, p Post) (Stream, error)
	// SendImage posts a picture (a generated design) with a caption.
	SendImage(ctx context.Context, from Persona, img Attachment, caption string) error
}

// Stream fills one outbound message. Update never blocks (the latest
// snapshot wins); Close delivers the final text even when ctx is cancelled
// shortly after (implementations use context.WithoutCancel for it) and
// returns once it is shown or has failed for good.
type Stream interface {
	Update(text string)
	Close(ctx context.Context, final string) error
}

// AsyncCloser is a Stream that can deliver its final text without its
// caller waiting: done is called once with what Close would return.
type AsyncCloser interface {
	CloseThen(ctx context.Context, final string, done func(error))
}

// Question asks the people in a conversation to confirm or edit keywords.
type Question struct {
	Text     string
	Keywords []string
	Timeout  time.Duration
}

// Answer actions.
const (
	ActionKeep    = "keep"
	ActionEdit    = "edit"
	ActionSkip    = "skip"
	ActionTimeout = "timeout"
)

// Answer is what the people decided. Keywords is the list to continue with.
type Answer struct {
	Action   string
	Keywords []string
	By       string
}

// Asker runs the people's turn. It returns when someone answers or the
// timeout passes (ActionTimeout with the question's keywords).
type Asker interface {
	AskKeywords(ctx context.Context, q Question) (Answer, error)
}

// Conversation is everything a session needs from the place it runs in.
type Conversation interface {
	Poster
	Asker
}

// Answerable is a Conversation that takes an answer to its open people's
// turn from outside the adapter: an answer a person gave on another
// replica, relayed to the one that runs the session. Ref is the platform's
// ID of the question message; false when no such question is open.
type Answerable interface {
	SubmitAnswer(ref string, ans Answer) bool
}

// Attachment is a file from or to a person.
type Attachment struct {
	Name string
	MIME string
	Data []byte
}

// User is a person in a chat.
type User struct {
	ID    string
	Name  string
	Admin bool // a chat admin (may stop or forget any session)
}

// Command is what a person asked for.
type Command string

// Commands every adapter maps its own syntax to.
const (
	CmdStart    Command = "start"
	CmdStop     Command = "stop"
	CmdStatus   Command = "status"
	CmdExport   Command = "export"
	CmdPersonas Command = "personas"
	CmdForget   Command = "forget"
	CmdSay      Command = "say" // an interjection to the running table
	// CmdMention is a person addressing the bot without a command (a
	// mention, a reply to the bot, a photo, text in a private chat): an
	// interjection when a session runs in the channel (here or on another
	// replica), else a start with Text as the topic. The Handler decides.
	CmdMention Command = "mention"
	CmdHelp    Command = "help"
	// CmdAnswer carries an answer to the people's turn that reached an
	// adapter with no open question of its own (another replica runs the
	// session): Answer and Ref are set. ErrNoQuestion when it is closed.
	CmdAnswer Command = "answer"
)

// Request is one inbound request from a person, already parsed by an
// adapter: a mention, a photo, a command, a reply or a button, each turned
// into the same neutral shape. The adapter does not decide what it means for
// the table; the Handler (the session manager) does: start a session,
// interject into the one running here, relay to the replica that runs it, or
// refuse. Only when it starts one does it call Open, so a refused start
// leaves nothing behind (no thread, no webhook).
//
// A web adapter fills it the same way: Channel names its room, Open returns
// the room's Conversation.
type Request struct {
	Command Command
	// Channel is "<platform>:<id>" of the place the request came from: the
	// place a running session lives in (a thread on Discord), or where a new
	// one is asked for.
	Channel string
	User    User
	Text    string // topic for start, text for say
	// Image is the trigger's first image: the raw upload, downloaded and
	// size-capped by the adapter, not decoded. The session prepares it.
	Image   *Attachment
	Options map[string]string
	// Open makes the place a started session posts in (a thread opened from
	// the trigger message on Discord; the chat itself on Telegram) and
	// returns its Conversation and its Channel. It is set for CmdStart and
	// CmdMention, and called at most once, only when a session starts.
	Open Opener
	// Unaddressed marks a message not addressed to the bot (a plain message
	// in a session thread with DISCORD_MESSAGE_CONTENT): it counts as an
	// interjection when a session runs in Channel, else it is ignored
	// without a reply.
	Unaddressed bool
	// Answer and Ref (the question message's ID) are set for CmdAnswer.
	Answer *Answer
	Ref    string
}

// Opener opens the conversation of a session that is starting; channel is
// the bot.Request channel the session lives in (it may differ from the
// request's, e.g. a new thread).
type Opener func(ctx context.Context) (conv Conversation, channel string, err error)

// OpenIn is the Opener of a conversation that already exists (a Telegram
// chat, a terminal): it returns conv and channel as they are.
func OpenIn(conv Conversation, channel string) Opener {
	return func(context.Context) (Conversation, string, error) { return conv, channel, nil }
}

// Reply is the short answer to a Request (ephemeral where the platform can).
type Reply struct {
	Text string
	File *Attachment
	// Picture is an image sent after File (an export's diagram as a PNG);
	// an adapter that cannot send it leaves it out.
	Picture *Attachment
}

// Handler serves requests; the session manager implements it. Adapters call
// it from their own goroutines and must not hold platform locks meanwhile.
type Handler interface {
	Handle(ctx context.Context, req Request) (Reply, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, req Request) (Reply, error)

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, req Request) (Reply, error) { return f(ctx, req) }

// ErrGone means the message or thread was deleted: that stream ends, the
// session goes on.
var ErrGone = errors.New("bot: message or channel is gone")

// ErrRejected means the platform rejected the bot's credentials (a 401 or
// 403 at login, a malformed token): retrying cannot help, so the platform
// stays off until the configuration is fixed. Adapters wrap it into the
// error Run returns.
var ErrRejected = errors.New("bot: the platform rejected the token")

// ErrNoQuestion answers a CmdAnswer when no people's turn with that
// message is open.
var ErrNoQuestion = errors.New("bot: no open question")

// RateLimitError is returned by a Sender when the platform answered 429.
type RateLimitError struct {
	RetryAfter time.Duration
	Global     bool
}

func (e *RateLimitError) Error() string {
	return "bot: rate limited, retry after " + e.RetryAfter.String()
}

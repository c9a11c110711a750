// Package telegramfake is an in-process Telegram Bot API: the methods the
// telegram adapter calls (getMe, getUpdates, webhooks, commands, messages,
// edits, drafts, photos, documents, files, callbacks, chat members), with
// request bodies parsed as go-telegram/bot sends them (multipart/form-data)
// and as JSON or urlencoded forms. It enforces DESIGN §7's flood limits (1
// message or edit per second per chat with bursts of 3, 20 per minute per
// group chat, 30 per second per bot) with Telegram's 429 body, answers edits
// the way Telegram words its errors, and records every message with its
// edit history. Tests inject user updates and read back what the bots did;
// it is not a test-only package, so the load tool can reuse it. Which
// calls count against which budget, and why, is written at Limits.
package telegramfake

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"time"
)

// Limits are the budgets the fake enforces. Zero values disable a limit.
//
// What counts, and the sources (../shared/reference/platform-facts.md §2.1):
//   - Every message a bot sends (sendMessage, sendPhoto, sendDocument)
//     counts against its chat's rate, its group's minute and its token's
//     second (Bot FAQ: "avoid sending more than one message per second" in
//     a chat, "no more than 20 messages per minute" in a group, ~30
//     messages per second in bulk).
//   - Edits count like sends in groups (grammY's flood page after tdlibchat
//     146123: ~20 edits per minute per group). In private chats the FAQ is
//     silent; Telegram's levlam answered that "the limits for message
//     editing are the same as for message sending" and "they share the
//     limit" (tdlib/td issues 2592 and 3034) and that an edit "is still
//     subject to per chat limits" (tdlib/telegram-bot-api issue 648), so
//     PrivateEditsCount is on by default; turn it off to model a lenient
//     Telegram.
//   - Drafts (sendMessageDraft) are not documented either. Bots streaming
//     drafts report 429 RetryAfter on them, spent from the same bucket as
//     their sends and edits (NousResearch/hermes-agent issue 54275), so
//     DraftsCount is on by default: an assumption, on the strict side.
//   - A call refused with a 429 costs nothing (it is checked against every
//     budget before any is spent).
type Limits struct {
	ChatRate       float64 // messages or edits per second per chat and bot
	ChatBurst      int     // bucket size of ChatRate
	GroupPerMinute int     // per group chat and bot, sliding 60 s window, edits included
	BotPerSecond   int     // per bot token, sliding 1 s window
	DraftsCount    bool    // sendMessageDraft counts against the chat and bot budgets
	// PrivateEditsCount: editMessageText in a private chat counts against
	// the chat and bot budgets (edits in groups always count).
	PrivateEditsCount bool
}

// TelegramLimits are the figures of DESIGN §7: 1 message or edit per second
// per chat with bursts of 3, 20 per minute per group (edits included), 30
// per second per bot, drafts and private edits counted.
func TelegramLimits() Limits {
	return Limits{ChatRate: 1, ChatBurst: 3, GroupPerMinute: 20, BotPerSecond: 30, DraftsCount: true, PrivateEditsCount: true}
}

// Options configure a Server.
type Options struct {
	Limits Limits
	// Now is the clock of the limits (time.Now when nil); a scaled clock
	// lets flood-limit tests run without waiting for real.
	Now func() time.Time
	// MaxDownload is getFile's cap (20 MB like the cloud Bot API).
	MaxDownload int64
	// MaxPhoto is sendPhoto's cap (10 MB).
	MaxPhoto int64
	// Listener, when set, is where the fake serves (the load tool's
	// fixed address); a loopback port otherwise.
	Listener net.Listener
	// Wrap, when set, wraps the fake's handler: the load tool records
	// every write and serves its control API around it, in one process.
	Wrap func(http.Handler) http.Handler
}

// Chat is a chat the fake knows. Type is "private", "group" or
// "supergroup".
type Chat struct {
	ID    int64
	Type  string
	Title string
}

// User is a person or a bot.
type User struct {
	ID       int64
	Name     string
	Username string
	IsBot    bool
}

// File is an uploaded or stored file.
type File struct {
	ID   string
	Name string
	MIME string
	Data []byte
	// Size is reported instead of len(Data) when set (a "large" file
	// without the memory).
	Size int64
}

// Message is a message in a chat with every text it had.
type Message struct {
	ID        int
	ChatID    int64
	From      User   // the bot or the person who sent it
	Token     string // the sending bot's token; "" for people
	Text      string // current text as sent (HTML source when ParseMode is HTML)
	ParseMode string
	History   []string        // Text after the send and every edit
	Markup    json.RawMessage // current reply_markup; nil when none
	// MarkupHistory has, per write, whether a keyboard was attached.
	MarkupHistory   []bool
	NoLinkPreview   bool
	ReplyTo         int
	Photo, Document *File
	Caption         string
	Edits           int
}

// Draft is one sendMessageDraft call.
type Draft struct {
	ChatID  int64
	DraftID string
	Text    string
	Token   string
}

// Server is the fake. Its state is in books, each a small type with its
// own lock and file; a handler that needs two takes them one after
// another, never one inside the other, except where a book calls a leaf
// (a lock whose methods take no other): the message book calls the bot
// book's enqueue and the flood's admit under its lock.
type Server struct {
	o   Options
	srv *httptest.Server

	bots      *botBook // accounts, webhooks, update queues (bots.go)
	commands  commandBook
	chats     chatBook
	members   memberBook
	msgs      messageBook // messages and drafts (messages.go)
	callbacks callbackBook
	log       requestLog // calls and broken rules (requests.go)
	flood     flood      // limits.go
	files     fileBook
}

// New starts a fake.
func New(o Options) *Server {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxDownload <= 0 {
		o.MaxDownload = 20 << 20
	}
	if o.MaxPhoto <= 0 {
		o.MaxPhoto = 10 << 20
	}
	s := &Server{o: o, bots: newBotBook(), flood: newFlood(o.Limits), files: newFileBook(o.MaxDownload)}
	var h http.Handler = http.HandlerFunc(s.serve)
	if o.Wrap != nil {
		h = o.Wrap(h)
	}
	if o.Listener != nil {
		s.srv = &httptest.Server{Listener: o.Listener, Config: &http.Server{Handler: h}}
		s.srv.Start()
	} else {
		s.srv = httptest.NewServer(h)
	}
	return s
}

// URL is the base URL to give the client (replaces https://api.telegram.org).
func (s *Server) URL() string { return s.srv.URL }

// Close stops the server.
func (s *Server) Close() {
	s.bots.wake()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// AddBot registers a bot token. The bot's ID is the number before ':' in
// the token when there is one.
func (s *Server) AddBot(token, username string) User { return s.bots.add(token, username) }

// AddChat registers a chat.
func (s *Server) AddChat(c Chat) { s.chats.add(c) }

// SetMember sets a user's status in a chat ("creator", "administrator",
// "member"); unknown users are members.
func (s *Server) SetMember(chatID, userID int64, status string) {
	s.members.set(chatID, userID, status)
}

// Storm makes the next n rate-limited calls (sends, edits, drafts) answer
// 429 with retry_after seconds, whatever the budgets.
func (s *Server) Storm(n, retryAfter int) { s.flood.addStorm(n, retryAfter) }

// Limited is how many 429s the flood limits sent (a client that paces
// itself right gets none).
func (s *Server) Limited() int {
	limited, _ := s.flood.sent()
	return limited
}

// Injected is how many 429s Storm sent.
func (s *Server) Injected() int {
	_, injected := s.flood.sent()
	return injected
}

// Calls is how many times a method was called.
func (s *Server) Calls(method string) int { return s.log.count(method) }

// Broken lists the rules clients broke (bad HTML, text too long, …).
func (s *Server) Broken() []string { return s.log.rulesBroken() }

// Messages returns copies of a chat's messages in order.
func (s *Server) Messages(chatID int64) []Message { return s.msgs.list(chatID) }

// Drafts returns every sendMessageDraft call to a chat.
func (s *Server) Drafts(chatID int64) []Draft { return s.msgs.draftsOf(chatID) }

// Commands returns what a bot registered for a scope type ("default",
// "all_private_chats", "all_group_chats", …).
func (s *Server) Commands(token, scope string) []Command { return s.commands.get(token, scope) }

// Webhook returns the URL and secret a bot set ("" when polling).
func (s *Server) Webhook(token string) (url, secret string) { return s.bots.webhook(token) }

// Answered reports whether a callback query was answered, and its text.
func (s *Server) Answered(callbackID string) (string, bool) { return s.callbacks.get(callbackID) }

// Pending is how many updates of a bot were not yet fetched.
func (s *Server) Pending(token string) int { return s.bots.pending(token) }

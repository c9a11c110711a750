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
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
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

// Server is the fake.
type Server struct {
	o   Options
	srv *httptest.Server

	mu        sync.Mutex
	cond      *sync.Cond
	bots      map[string]*botState // by token
	chats     map[int64]*Chat
	admins    map[[2]int64]string // chat, user → status
	msgs      map[int64][]*Message
	nextMsg   map[int64]int
	drafts    []Draft
	flood     flood
	calls     map[string]int
	answered  map[string]string // callback ID → text
	callbacks int
	broken    []string

	files fileBook // has its own lock
}

type botState struct {
	user     User
	updates  []*queued
	all      map[int64][]byte
	nextUpd  int64
	webhook  string
	secret   string
	commands map[string][]Command // scope type → commands
}

type queued struct {
	id        int64
	body      json.RawMessage
	delivered bool
}

// Command is a registered bot command.
type Command struct {
	Command     string `json:"command"`
	Description string `json:"description"`
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
	s := &Server{o: o, bots: map[string]*botState{}, chats: map[int64]*Chat{}, admins: map[[2]int64]string{},
		msgs: map[int64][]*Message{}, nextMsg: map[int64]int{}, flood: newFlood(o.Limits),
		calls: map[string]int{}, answered: map[string]string{}, files: newFileBook(o.MaxDownload)}
	s.cond = sync.NewCond(&s.mu)
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
	s.mu.Lock()
	s.cond.Broadcast()
	s.mu.Unlock()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// AddBot registers a bot token. The bot's ID is the number before ':' in
// the token when there is one.
func (s *Server) AddBot(token, username string) User {
	var id int64
	if n, _, ok := strings.Cut(token, ":"); ok {
		fmt.Sscan(n, &id)
	}
	if id == 0 {
		id = int64(1000 + len(s.bots))
	}
	u := User{ID: id, Name: username, Username: username, IsBot: true}
	s.mu.Lock()
	s.bots[token] = &botState{user: u, nextUpd: 1, commands: map[string][]Command{}, all: map[int64][]byte{}}
	s.mu.Unlock()
	return u
}

// AddChat registers a chat.
func (s *Server) AddChat(c Chat) {
	s.mu.Lock()
	s.chats[c.ID] = &c
	s.mu.Unlock()
}

// SetMember sets a user's status in a chat ("creator", "administrator",
// "member"); unknown users are members.
func (s *Server) SetMember(chatID, userID int64, status string) {
	s.mu.Lock()
	s.admins[[2]int64{chatID, userID}] = status
	s.mu.Unlock()
}

// Storm makes the next n rate-limited calls (sends, edits, drafts) answer
// 429 with retry_after seconds, whatever the budgets.
func (s *Server) Storm(n, retryAfter int) {
	s.mu.Lock()
	for range n {
		s.flood.storm = append(s.flood.storm, retryAfter)
	}
	s.mu.Unlock()
}

// Limited is how many 429s the flood limits sent (a client that paces
// itself right gets none).
func (s *Server) Limited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.flood.limited
}

// Injected is how many 429s Storm sent.
func (s *Server) Injected() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.flood.injected
}

// Calls is how many times a method was called.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// Broken lists the rules clients broke (bad HTML, text too long, …).
func (s *Server) Broken() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.broken...)
}

// Messages returns copies of a chat's messages in order.
func (s *Server) Messages(chatID int64) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, 0, len(s.msgs[chatID]))
	for _, m := range s.msgs[chatID] {
		c := *m
		c.History = append([]string(nil), m.History...)
		c.MarkupHistory = append([]bool(nil), m.MarkupHistory...)
		out = append(out, c)
	}
	return out
}

// Drafts returns every sendMessageDraft call to a chat.
func (s *Server) Drafts(chatID int64) []Draft {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Draft
	for _, d := range s.drafts {
		if d.ChatID == chatID {
			out = append(out, d)
		}
	}
	return out
}

// Commands returns what a bot registered for a scope type ("default",
// "all_private_chats", "all_group_chats", …).
func (s *Server) Commands(token, scope string) []Command {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.bots[token]; b != nil {
		return append([]Command(nil), b.commands[scope]...)
	}
	return nil
}

// Webhook returns the URL and secret a bot set ("" when polling).
func (s *Server) Webhook(token string) (url, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.bots[token]; b != nil {
		return b.webhook, b.secret
	}
	return "", ""
}

// Answered reports whether a callback query was answered, and its text.
func (s *Server) Answered(callbackID string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.answered[callbackID]
	return t, ok
}

// Pending is how many updates of a bot were not yet fetched.
func (s *Server) Pending(token string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	if b := s.bots[token]; b != nil {
		for _, q := range b.updates {
			if !q.delivered {
				n++
			}
		}
	}
	return n
}

func (s *Server) addBroken(format string, args ...any) {
	s.broken = append(s.broken, fmt.Sprintf(format, args...))
}

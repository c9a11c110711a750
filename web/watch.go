package web

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/store"
)

// Watcher puts the sessions started in Discord and Telegram on the web
// table: each new session gets a table (its ID is the session's) with a
// read-only view key, and its opening message, the live board, links the
// page. The session's conversation is teed: every post goes to the chat
// and to the table. A resumed session (a restart, another replica) gets
// its table back from the store, since the key's digest is kept with the
// session.
type Watcher struct {
	Hub *Hub
	// PublicURL is WEB_PUBLIC_URL, how people reach the web table; empty
	// means new chat sessions get no table.
	PublicURL string
}

// Watch is the session manager's hook (roundtable.ManagerOptions.Watch):
// it is given the conversation of each session the manager is about to
// create (s has only its Channel) or resume (s is its record), and returns
// the conversation the session posts into.
//
// A new session's table is made when the session is stored (Tap's
// CreateSession tells the hub its ID), before it posts anything.
func (w *Watcher) Watch(ctx context.Context, s store.Session, conv bot.Conversation) bot.Conversation {
	if strings.HasPrefix(s.Channel, "web:") {
		return conv // a web table's own conversation
	}
	if s.ID != "" {
		t := w.Hub.Lookup(ctx, s.ID)
		if t == nil {
			return conv // it never had a table
		}
		w.Hub.takeOver(ctx, t)
		_, c := newTee(conv, t.Conv, "")
		return c
	}
	if w.PublicURL == "" {
		return conv
	}
	tc, c := newTee(conv, nil, "")
	w.Hub.expect(s.Channel, &pendingTable{tee: tc, publicURL: w.PublicURL})
	return c
}

// pendingTable is a watched chat session that is not stored yet.
type pendingTable struct {
	tee       *tee
	publicURL string
}

// expect notes that the next session stored for channel is watched.
func (h *Hub) expect(channel string, p *pendingTable) {
	h.pending.put(channel, p)
}

// watchStored gives a watched chat session its table once it is stored:
// fresh keys and the link on its board.
func (h *Hub) watchStored(s store.Session) {
	p := h.pending.take(s.Channel)
	if p == nil {
		return
	}
	t := NewTable()
	t.ID = s.ID
	t.mu.Lock()
	t.partKey, t.partSum = "", keySum{} // nobody takes part from the page
	view := t.viewKey
	t.mu.Unlock()
	h.Add(t)
	h.attach(s.ID, t) // started (Tap) saves its keys and publishes it
	link := strings.TrimRight(p.publicURL, "/") + "/s/" + t.ID + "?k=" + view
	p.tee.set(t.Conv, "\n\n"+linkLabel(s.Language)+link)
}

func linkLabel(lang string) string {
	if lang == "zh" {
		return "🔗 网页实时观看："
	}
	return "🔗 Watch live: "
}

// Resume is the session manager's Resumer for the "web" platform: the
// conversation of a web table whose session is resumed here, the table
// built from the store or the feed when this process does not hold it.
func (h *Hub) Resume(ctx context.Context, channel string) (bot.Conversation, error) {
	id, _ := strings.CutPrefix(channel, "web:")
	t, err := h.lookup(ctx, id)
	if errors.Is(err, errNoTable) {
		return nil, fmt.Errorf("%w: %w", bot.ErrGone, err) // the session is abandoned
	}
	if err != nil {
		return nil, err // tried again later
	}
	h.takeOver(ctx, t)
	return t.Conv, nil
}

// started saves a new web table's keys and publishes it once its session
// exists.
func (h *Hub) started(ctx context.Context, sessionID string) error {
	t := h.tableOf(sessionID)
	if t == nil {
		return nil
	}
	h.takeOver(ctx, t)
	return h.SaveKeys(ctx, t)
}

// takeOver makes t a table this process runs: it stops mirroring another
// replica (catching up with what that one published last) and publishes
// t to the feed from there on.
func (h *Hub) takeOver(ctx context.Context, t *Table) {
	t.mu.Lock()
	stop, done := t.stopFollow, t.followDone
	t.stopFollow, t.followDone = nil, nil
	publishing, fromFeed := t.publishing, t.fromFeed
	t.publishing = true
	t.mu.Unlock()
	if h.Feed == nil || publishing {
		return
	}
	after := 0
	if stop != nil {
		close(stop)
		<-done
		if rest, err := h.Feed.Load(ctx, t.ID, t.Log.Len()); err == nil {
			for _, data := range rest {
				t.Log.addData(data, isEnd(data))
			}
			t.Conv.continueAfter(t.Log)
		}
	}
	if stop != nil || fromFeed {
		after = t.Log.Len()
	}
	h.Feed.Publish(t, after)
}

// tee is a session's conversation posting into a chat and a web table.
// The table is read-only: the people's turn is answered in the chat.
type tee struct {
	chat bot.Conversation

	mu  sync.Mutex
	web *Conv // nil until the session is stored: the chat only
	// link is added to the live board's text in the chat.
	link string
}

// set gives the tee its table.
func (c *tee) set(web *Conv, link string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.web, c.link = web, link
}

func (c *tee) table() (*Conv, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.web, c.link
}

// teeReattach is a tee over a chat that can take over earlier messages.
type teeReattach struct{ *tee }

var (
	_ bot.Conversation = (*tee)(nil)
	_ bot.Answerable   = (*tee)(nil)
	_ bot.Reattacher   = teeReattach{}
)

// newTee returns the tee and the conversation to post into (the tee, or
// the tee with Reattach when the chat has it).
func newTee(chat bot.Conversation, web *Conv, link string) (*tee, bot.Conversation) {
	t := &tee{chat: chat, web: web, link: link}
	if _, ok := chat.(bot.Reattacher); ok {
		return t, teeReattach{t}
	}
	return t, t
}

// open opens the message on the page (when there is one) and returns
// the stream and the board's suffix for the chat.
func (c *tee) open(ctx context.Context, p bot.Post) (bot.Stream, string) {
	web, link := c.table()
	if web == nil {
		return nil, ""
	}
	ws, _ := web.Open(ctx, p) // never fails
	if p.Kind == bot.KindBoard {
		return ws, link
	}
	return ws, ""
}

// Open opens the message on the page, then in the chat.
func (c *tee) Open(ctx context.Context, p bot.Post) (bot.Stream, error) {
	ws, suffix := c.open(ctx, p)
	cp := p
	if suffix != "" {
		cp.Placeholder = placeholder(p) + suffix
	}
	cs, err := c.chat.Open(ctx, cp)
	if err != nil {
		if ws != nil {
			_ = ws.Close(ctx, "")
		}
		return nil, err
	}
	return teeStream(cs, ws, suffix), nil
}

func placeholder(p bot.Post) string {
	if p.Placeholder == "" {
		return "…"
	}
	return p.Placeholder
}

// Reattach takes the chat's messages over; the page gets a new message.
func (c teeReattach) Reattach(ctx context.Context, p bot.Post, ids []string) (bot.Stream, error) {
	cs, err := c.chat.(bot.Reattacher).Reattach(ctx, p, ids)
	if err != nil {
		return nil, err
	}
	ws, suffix := c.open(ctx, p)
	return teeStream(cs, ws, suffix), nil
}

// SendImage shows the picture on the page and posts it in the chat.
func (c *tee) SendImage(ctx context.Context, from bot.Persona, img bot.Attachment, caption string) error {
	if web, _ := c.table(); web != nil {
		_ = web.SendImage(ctx, from, img, caption)
	}
	return c.chat.SendImage(ctx, from, img, caption)
}

// AskKeywords asks in the chat; the page shows the question and, once
// answered there, the answer.
func (c *tee) AskKeywords(ctx context.Context, q bot.Question) (bot.Answer, error) {
	web, _ := c.table()
	if web == nil {
		return c.chat.AskKeywords(ctx, q)
	}
	ref := web.shownAsk(q)
	ans, err := c.chat.AskKeywords(ctx, q)
	if err != nil {
		web.log.Add(Event{T: "answered", Ref: ref, Action: "closed"})
		return ans, err
	}
	web.log.Add(Event{T: "answered", Ref: ref, Action: ans.Action, Words: ans.Keywords, By: ans.By})
	return ans, nil
}

// SubmitAnswer passes an answer relayed from another replica to the chat.
func (c *tee) SubmitAnswer(ref string, ans bot.Answer) bool {
	a, ok := c.chat.(bot.Answerable)
	return ok && a.SubmitAnswer(ref, ans)
}

// shownAsk shows a people's turn that is answered elsewhere.
func (c *Conv) shownAsk(q bot.Question) string {
	c.mu.Lock()
	c.asks++
	ref := "q" + strconv.Itoa(c.asks)
	c.mu.Unlock()
	c.log.Add(Event{T: "ask", Ref: ref, S: q.Text, Words: q.Keywords, Secs: int(q.Timeout / time.Second)})
	return ref
}

// tStream fills a message in the chat and on the page; suffix (the link)
// is added to the chat's text.
type tStream struct {
	chat, web bot.Stream
	suffix    string
}

// asyncTStream is a tStream over a chat stream that closes asynchronously.
type asyncTStream struct{ *tStream }

func teeStream(chat, web bot.Stream, suffix string) bot.Stream {
	if web == nil {
		return chat // no table (yet): the chat's own stream
	}
	s := &tStream{chat: chat, web: web, suffix: suffix}
	if _, ok := chat.(bot.AsyncCloser); ok {
		return asyncTStream{s}
	}
	return s
}

func (s *tStream) Update(text string) {
	s.web.Update(text)
	s.chat.Update(text + s.suffix)
}

func (s *tStream) final(text string) string {
	if text == "" {
		return "" // keep what the chat shows
	}
	return text + s.suffix
}

func (s *tStream) Close(ctx context.Context, final string) error {
	_ = s.web.Close(ctx, final)
	return s.chat.Close(ctx, s.final(final))
}

func (s asyncTStream) CloseThen(ctx context.Context, final string, done func(error)) {
	_ = s.web.Close(ctx, final)
	s.chat.(bot.AsyncCloser).CloseThen(ctx, s.final(final), done)
}

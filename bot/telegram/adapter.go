// Package telegram is the Telegram adapter: long polling or our own webhook
// handler, commands (with /cmd@botname), mentions, replies, photos and image
// documents as triggers, per-chat FIFO handling of updates, and paced
// streaming of persona messages (send + edit, drafts in private chats, one
// merged message per concurrent stage in groups) inside Telegram's flood
// limits. With six persona tokens each seat posts from its own bot.
//
// It implements bot.Conversation for a session and calls a bot.Handler for
// what people ask: a mention, a reply, a photo or private text is a
// bot.CmdMention, and the Handler (the session manager) decides whether it
// starts a session or speaks to the one running. It never imports the domain
// (roundtable) or another adapter, and never runs a session inside an update
// handler: Handler.Handle returns quickly and the session runs in the
// manager's goroutines.
//
// Order: updates of one chat are handled one after another in that chat's
// queue (bot.Queues); control (/stop, /status, buttons, answers) jumps it.
// The only slow step inside a queue is a photo download, bounded by
// Options.DownloadTimeout; the photo is decoded by the session, never here.
// Each map the adapter keeps is its own small type with its own lock
// (books.go, merge.go).
package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"golang.org/x/sync/errgroup"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/internal/clock"
)

// client is one bot account we post from, with its own budget.
type client struct {
	b      *tgbot.Bot
	index  int // 0 for the main bot, 1… for persona bots
	global *bot.Scheduler
}

// Adapter connects a Telegram bot (and optional persona bots) to a
// bot.Handler.
type Adapter struct {
	cfg     Config
	h       bot.Handler
	o       Options
	lim     Limits
	log     *slog.Logger
	httpc   *http.Client
	main    *client
	seats   map[string]*client // seat ID → persona bot
	red     *redactor          // every token we know, for redaction
	pace    *budgets           // schedulers per bot and chat, one-off calls
	allowed map[int64]bool
	updates chan *models.Update
	pipe    func(ctx context.Context, u *models.Update)
	queues  *bot.Queues // per-chat order; control jumps it

	// Owned states, each with its own lock (books.go, merge.go).
	who      identity
	merges   mergeBook
	asks     questionBook
	admins   adminCache
	albums   albumBook
	seen     seenUpdates
	draftID  atomic.Int64
	noDrafts atomic.Bool
}

// New builds an adapter; it does no I/O (Run does).
func New(cfg Config, h bot.Handler, o Options) (*Adapter, error) {
	if strings.TrimSpace(cfg.Token) == "" {
		return nil, errors.New("telegram: TELEGRAM_TOKEN is empty")
	}
	if err := checkToken("TELEGRAM_TOKEN", cfg.Token); err != nil {
		return nil, err
	}
	if err := checkWebhook(cfg.WebhookURL, cfg.WebhookSecret); err != nil {
		return nil, err
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	if o.PeopleTimeout <= 0 {
		o.PeopleTimeout = 2 * time.Minute
	}
	if o.PollTimeout <= 0 {
		o.PollTimeout = 50 * time.Second
	}
	if o.DownloadTimeout <= 0 {
		o.DownloadTimeout = 30 * time.Second
	}
	if o.MaxDownload <= 0 {
		o.MaxDownload = defaultMaxDown
	}
	if len(o.SeatOrder) == 0 {
		o.SeatOrder = defaultSeats
	}
	lim := DefaultLimits()
	if o.Limits != nil {
		lim = *o.Limits
	}
	a := &Adapter{cfg: cfg, h: h, o: o, lim: lim, red: &redactor{}, log: o.Logger.With("component", "telegram"), httpc: o.HTTPClient,
		seats: map[string]*client{}, allowed: map[int64]bool{}, updates: make(chan *models.Update, 256),
	}
	a.pace = &budgets{lim: lim, clock: o.Clock, red: a.red}
	for _, id := range cfg.AllowedChats {
		a.allowed[id] = true
	}
	// getUpdates needs a client deadline (the library passes no per-call
	// timeout); every other call carries its own context deadline.
	poll := *o.HTTPClient
	poll.Timeout = o.PollTimeout + 30*time.Second
	mb, err := a.newBot(cfg.Token, &poll, tgbot.WithNotAsyncHandlers(), tgbot.WithDefaultHandler(a.fromLibrary),
		tgbot.WithAllowedUpdates(tgbot.AllowedUpdates{"message", "callback_query"}))
	if err != nil {
		return nil, err
	}
	a.main = &client{b: mb, global: bot.NewScheduler(lim.Bot, nil, o.Clock)}
	a.red.add(cfg.Token)
	if err := a.addPersonas(cfg.PersonaTokens); err != nil {
		return nil, err
	}
	a.queues = bot.NewQueues(bot.QueueOptions{
		OnPanic: func(chat string, r any, stack []byte) {
			a.log.Error("update handler panicked", "chat", chat, "panic", r, "stack", string(stack))
		},
		OnDrop: func(chat string) { a.log.Warn("chat queue full: update dropped", "chat", chat) },
	})
	a.pipe = chain(a.route, a.fifo, a.allowList, a.dedup)
	return a, nil
}

func (a *Adapter) newBot(token string, hc *http.Client, extra ...tgbot.Option) (*tgbot.Bot, error) {
	opts := []tgbot.Option{tgbot.WithSkipGetMe(), tgbot.WithHTTPClient(a.o.PollTimeout, hc),
		tgbot.WithErrorsHandler(func(err error) { libError(a.log, a.red, err) })}
	if a.cfg.APIURL != "" {
		opts = append(opts, tgbot.WithServerURL(strings.TrimRight(a.cfg.APIURL, "/")))
	}
	b, err := tgbot.New(token, append(opts, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("telegram: new bot: %w", a.red.redact(err))
	}
	return b, nil
}

// addPersonas builds one client per persona token ("token" in seat order or
// "seat=token").
func (a *Adapter) addPersonas(tokens []string) error {
	if len(tokens) == 0 {
		return nil
	}
	for i, t := range tokens {
		seat, tok, ok := strings.Cut(strings.TrimSpace(t), "=")
		if !ok {
			tok = seat
			if i >= len(a.o.SeatOrder) {
				return fmt.Errorf("telegram: TELEGRAM_PERSONA_TOKENS has %d tokens for %d seats", len(tokens), len(a.o.SeatOrder))
			}
			seat = a.o.SeatOrder[i]
		}
		if err := checkToken(fmt.Sprintf("TELEGRAM_PERSONA_TOKENS[%d]", i), tok); err != nil {
			return err
		}
		a.red.add(tok)
		b, err := a.newBot(tok, a.httpc)
		if err != nil {
			return fmt.Errorf("telegram: TELEGRAM_PERSONA_TOKENS[%d]: %w", i, err)
		}
		a.seats[seat] = &client{b: b, index: i + 1, global: bot.NewScheduler(a.lim.Bot, nil, a.o.Clock)}
	}
	return nil
}

// Run serves until ctx ends: it learns who the bot is, registers the
// commands, then long-polls (after deleteWebhook) or registers the webhook
// and serves what WebhookHandler receives.
func (a *Adapter) Run(ctx context.Context) error {
	if err := a.hello(ctx); err != nil {
		return err
	}
	a.registerCommands(ctx)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { // polled or webhook updates, one at a time, into the pipeline
		for {
			select {
			case <-gctx.Done():
				return nil
			case u := <-a.updates:
				a.pipe(gctx, u)
			}
		}
	})
	g.Go(func() error {
		if a.cfg.WebhookURL != "" {
			return a.serveWebhook(gctx)
		}
		return a.poll(gctx)
	})
	err := g.Wait()
	a.queues.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// hello calls getMe (for /cmd@botname and mentions), retrying with capped
// backoff; a rejected token is final.
func (a *Adapter) hello(ctx context.Context) error {
	wait := time.Second
	for {
		me, err := a.main.b.GetMe(ctx)
		if err == nil {
			a.who.add(*me, true)
			break
		}
		if errors.Is(err, tgbot.ErrorUnauthorized) || errors.Is(err, tgbot.ErrorNotFound) {
			return fmt.Errorf("telegram: getMe: %w: %w", bot.ErrRejected, a.red.redact(err))
		}
		a.log.Warn("getMe failed, retrying", "err", a.red.redact(err), "in", wait)
		if err := a.o.Clock.Sleep(ctx, wait); err != nil {
			return nil
		}
		wait = min(2*wait, 30*time.Second)
	}
	for seat, c := range a.seats {
		if me, err := c.b.GetMe(ctx); err == nil {
			a.who.add(*me, false)
		} else {
			a.log.Warn("persona bot getMe failed", "seat", seat, "err", a.red.redact(err))
		}
	}
	a.log.Info("telegram bot ready", "username", a.who.main().Username, "personas", len(a.seats), "webhook", a.cfg.WebhookURL != "")
	return nil
}

func (a *Adapter) poll(ctx context.Context) error {
	if _, err := a.main.b.DeleteWebhook(ctx, &tgbot.DeleteWebhookParams{}); err != nil && ctx.Err() == nil {
		a.log.Warn("deleteWebhook failed", "err", a.red.redact(err))
	}
	a.main.b.Start(ctx) // returns when ctx ends
	return nil
}

func (a *Adapter) serveWebhook(ctx context.Context) error {
	_, err := a.main.b.SetWebhook(ctx, &tgbot.SetWebhookParams{URL: a.cfg.WebhookURL, SecretToken: a.cfg.WebhookSecret,
		AllowedUpdates: []string{"message", "callback_query"}})
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("telegram: setWebhook: %w", a.red.redact(err))
	}
	<-ctx.Done()
	return nil
}

// fromLibrary receives polled updates (in order: no async handlers) and
// hands them to the dispatcher.
func (a *Adapter) fromLibrary(ctx context.Context, _ *tgbot.Bot, u *models.Update) {
	select {
	case a.updates <- u:
	case <-ctx.Done():
	}
}

// libError routes go-telegram/bot's errors to slog, tokens redacted.
func libError(log *slog.Logger, red *redactor, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	var tm *tgbot.TooManyRequestsError
	switch {
	case errors.As(err, &tm):
		log.Warn("telegram rate limited", "retry_after", tm.RetryAfter)
	case errors.Is(err, tgbot.ErrorConflict):
		log.Error("another poller or a webhook uses this token (409)", "err", red.redact(err))
	default:
		log.Warn("telegram library error", "err", red.redact(err))
	}
}

// redactor replaces every bot token we know in errors (*url.Error URLs
// carry them). Tokens are added while the adapter is built, never after.
type redactor struct{ tokens []string }

func (r *redactor) add(token string) { r.tokens = append(r.tokens, token) }

// redact returns err with every token we know replaced, in *url.Error
// URLs and in the message.
func (r *redactor) redact(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := msg
	for _, t := range r.tokens {
		if t != "" {
			clean = strings.ReplaceAll(clean, t, "<token>")
		}
	}
	if clean == msg {
		return err
	}
	// The *url.Error is shared with the library's goroutines: it is copied
	// with its URL cleaned, never changed in place.
	inner := err
	var ue *url.Error
	if errors.As(err, &ue) {
		cp := *ue
		for _, t := range r.tokens {
			if t != "" {
				cp.URL = strings.ReplaceAll(cp.URL, t, "<token>")
			}
		}
		inner = &cp
	}
	return &redacted{msg: clean, err: inner}
}

type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }

// channel is the bot.Request channel of a chat.
func channel(chat int64) string { return platform + ":" + strconv.FormatInt(chat, 10) }

// Resume returns the conversation of a channel ("telegram:<chat>") for a
// session resumed after a restart (a roundtable.Resumer).
func (a *Adapter) Resume(_ context.Context, ch string) (bot.Conversation, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(ch, platform+":"), 10, 64)
	if err != nil || !strings.HasPrefix(ch, platform+":") {
		return nil, fmt.Errorf("telegram: resume: bad channel %q", ch)
	}
	return a.conv(id), nil
}

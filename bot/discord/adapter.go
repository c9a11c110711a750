// Package discord is the Discord adapter: the gateway (mentions, slash
// commands, buttons, modals), a pool of channel webhooks that lets every
// persona post under its own name and avatar, threads for sessions, and
// paced streaming edits that stay inside Discord's rate limits.
//
// It implements bot.Conversation for a session and calls a bot.Handler for
// what people ask. It never imports the domain (roundtable) or another
// adapter. Persona traffic is sent with our own HTTP calls through
// Session.Client (no discordgo bucket, no hidden 429 retry) and paced by a
// bot.Scheduler per webhook under one per-token parent.
//
// Mentions: a mention of the bot is a bot.CmdMention in its channel; the
// Handler (the session manager) decides whether it is an interjection (a
// session runs there, on any replica) or a start, and only then does the
// adapter open a thread and list its webhooks (Request.Open). The mention
// is checked before anything else, so a message that does not concern the
// bot costs no call. Gateway events are handled in order per channel
// (bot.Queues); buttons, modals and control commands jump the queue. Each
// map the adapter keeps is its own small type with its own lock
// (threads.go, books.go).
package discord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"golang.org/x/sync/errgroup"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/internal/clock"
	"github.com/tableround/tableround/internal/httpx"
)

// Adapter connects one bot token (one shard) to a bot.Handler.
type Adapter struct {
	cfg Config
	h   bot.Handler
	o   Options
	lim Limits
	log *slog.Logger
	s   *discordgo.Session

	events   chan event
	queues   *bot.Queues // per-channel order of events; control jumps it
	stopped  chan struct{}
	stopOnce sync.Once

	// Owned parts, each a small type by job with its own lock where it
	// keeps a map (see their files).
	rest    *rest       // REST calls (transport.go)
	pace    *pacer      // token, channel and shared budgets (budget.go, shared.go)
	hooks   *webhooks   // webhook pools (webhook.go)
	botMsgs *botPoster  // messages as the bot (botmsg.go)
	replies *responder  // interaction answers (interactions.go)
	fetch   *fetcher    // attachments (attachment.go)
	scheds  *schedBook  // webhook slot or ID, or "ch:<id>" → budget (books.go)
	who     *identity   // who the bot is (books.go)
	threads *threadBook // session threads (threads.go)

	announced onceSet      // parent channels told about the fallback
	asks      questionBook // open people's turns by channel
	channels  channelCache
}

// New builds an adapter; nothing is connected until Run.
func New(cfg Config, h bot.Handler, o Options) (*Adapter, error) {
	if cfg.Token == "" {
		return nil, errors.New("discord: DISCORD_TOKEN is empty")
	}
	if h == nil {
		return nil, errors.New("discord: nil handler")
	}
	if cfg.ShardCount < 1 {
		cfg.ShardCount = 1
	}
	if cfg.ShardID < 0 || cfg.ShardID >= cfg.ShardCount {
		return nil, fmt.Errorf("discord: DISCORD_SHARD_ID %d out of range for DISCORD_SHARD_COUNT %d", cfg.ShardID, cfg.ShardCount)
	}
	var api *url.URL
	if cfg.APIURL != "" {
		u, err := url.Parse(cfg.APIURL)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("discord: DISCORD_API_URL %q is not an absolute URL", cfg.APIURL)
		}
		api = u
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.PeopleTimeout <= 0 {
		o.PeopleTimeout = 2 * time.Minute
	}
	if o.MaxImageBytes <= 0 {
		o.MaxImageBytes = defaultImages
	}
	lim := DefaultLimits()
	lim.Global = globalBudget(cfg.GlobalRate)
	if o.Limits != nil {
		lim = *o.Limits
	}
	if lim.Channel.Rate <= 0 {
		d := DefaultLimits()
		lim.Channel, lim.ChannelWindow = d.Channel, d.ChannelWindow
	}
	if lim.ChannelMin <= 0 || lim.ChannelMin > lim.Channel.Rate {
		lim.ChannelMin = lim.Channel.Rate / 8
	}
	if lim.Webhooks <= 0 {
		lim.Webhooks = DefaultWebhooks
	}
	lim.Webhooks = min(lim.Webhooks, maxWebhooks)
	tok := cfg.Token
	if !strings.HasPrefix(tok, "Bot ") {
		tok = "Bot " + tok
	}
	s, err := discordgo.New(tok)
	if err != nil {
		return nil, fmt.Errorf("discord: new session: %w", err)
	}
	log := o.Logger.With("component", "discord", "shard", cfg.ShardID)
	global := bot.NewScheduler(lim.Global, nil, o.Clock)
	a := &Adapter{
		cfg: cfg, h: h, o: o, lim: lim, log: log, s: s,
		events:  make(chan event),
		stopped: make(chan struct{}),
		rest:    &rest{s: s, global: global, clock: o.Clock},
		pace:    &pacer{lim: lim, clock: o.Clock, log: log, global: global},
		fetch:   &fetcher{http: &http.Client{Timeout: 30 * time.Second}, max: o.MaxImageBytes, log: log},
		scheds:  &schedBook{mk: func() *bot.Scheduler { return bot.NewScheduler(lim.Webhook, global, o.Clock) }},
		who:     &identity{},
		threads: newThreadBook(o.Clock.Now),
	}
	a.hooks = &webhooks{n: lim.Webhooks, rest: a.rest, who: a.who, scheds: a.scheds, log: log}
	a.botMsgs = &botPoster{rest: a.rest, pace: a.pace, scheds: a.scheds}
	a.replies = &responder{rest: a.rest, who: a.who, log: log}
	a.replies.upload.Store(maxUpload)
	a.queues = bot.NewQueues(bot.QueueOptions{
		OnPanic: func(ch string, r any, stack []byte) {
			a.log.Error("event handler panicked", "channel", ch, "panic", r, "stack", string(stack))
		},
		OnDrop: func(ch string) { a.log.Warn("channel queue full: event dropped", "channel", ch) },
	})
	a.pace.editsCounted.Store(lim.ChannelEdits)
	a.pace.shared = a.pace.newSharedGate(o.SharedLimiter, cfg.Token)
	a.pace.wireInvalid()
	// REST calls get their own pooled transport: Discord's API speaks
	// HTTP/2 and multiplexes; over HTTP/1.1 (a REST proxy, the fakes)
	// DefaultTransport's 2 idle connections made a busy process dial for
	// most calls (15 % of its CPU at 500 sessions in the load tool).
	var base http.RoundTripper = httpx.PooledTransport(256)
	if o.WrapREST != nil {
		base = o.WrapREST(base)
	}
	pace := a.pace
	s.Client = &http.Client{Timeout: 20 * time.Second, Transport: &transport{base: base, api: api, observe: a.scheds.observe,
		gate: pace.gateRequest, status: func(code int) { pace.invalid.observe(o.Clock.Now(), code) }}}
	s.SyncEvents = true // handlers only enqueue; Run's errgroup runs the work
	s.ShardID, s.ShardCount = cfg.ShardID, cfg.ShardCount
	s.Identify.Intents = discordgo.IntentsGuilds | discordgo.IntentsGuildMessages | discordgo.IntentsDirectMessages
	if cfg.MessageContent {
		s.Identify.Intents |= discordgo.IntentMessageContent
	}
	s.LogLevel = discordgo.LogError
	s.AddHandler(func(_ *discordgo.Session, r *discordgo.Ready) { a.who.ready(r) })
	s.AddHandler(func(_ *discordgo.Session, m *discordgo.MessageCreate) {
		a.enqueue(event{key: m.ChannelID, fn: func(ctx context.Context) { a.onMessage(ctx, m.Message) }})
	})
	s.AddHandler(func(_ *discordgo.Session, i *discordgo.InteractionCreate) {
		a.enqueue(event{key: i.ChannelID, urgent: urgent(i.Interaction),
			fn: func(ctx context.Context) { a.onInteraction(ctx, i.Interaction) }})
	})
	s.AddHandler(func(_ *discordgo.Session, t *discordgo.ThreadDelete) { a.threads.forget(t.ID) })
	return a, nil
}

// Run opens the gateway, registers the commands and serves until ctx ends.
// It returns an error when the login fails (the caller retries with
// backoff); reconnects after that are discordgo's job.
func (a *Adapter) Run(ctx context.Context) error {
	if err := a.s.Open(); err != nil {
		return fmt.Errorf("discord: open gateway: %w", loginError(err))
	}
	if err := a.replies.register(ctx, a.cfg.GuildID); err != nil {
		_ = a.s.Close()
		if ctx.Err() != nil {
			return nil // stopped while registering: not a failure
		}
		return commandsError(err)
	}
	a.log.Info("discord connected", "bot_id", a.who.bot(), "guild", a.cfg.GuildID)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		for {
			select {
			case ev := <-a.events:
				if ev.urgent {
					a.queues.Urgent(gctx, ev.key, ev.fn)
				} else {
					a.queues.Add(gctx, ev.key, ev.fn)
				}
			case <-gctx.Done():
				return nil
			}
		}
	})
	<-gctx.Done()
	a.stopOnce.Do(func() { close(a.stopped) })
	if err := a.s.Close(); err != nil {
		a.log.Warn("close gateway", "err", err)
	}
	_ = g.Wait()
	a.queues.Wait()
	return nil
}

// event is a gateway event to handle: in its channel's order (key), or at
// once when urgent.
type event struct {
	key    string
	urgent bool
	fn     func(context.Context)
}

// urgent tells control, which must not wait behind a channel's starts and
// mentions (an interaction is answered within 3 s): buttons, modals and
// every slash command but start, say and forget.
func urgent(i *discordgo.Interaction) bool {
	if i.Type != discordgo.InteractionApplicationCommand {
		return true
	}
	req, _, ok := parseCommand(i.ApplicationCommandData())
	return !ok || req.Command != bot.CmdStart && req.Command != bot.CmdSay && req.Command != bot.CmdForget
}

// enqueue hands an event to Run; it runs on discordgo's reader goroutine.
func (a *Adapter) enqueue(ev event) {
	select {
	case a.events <- ev:
	case <-a.stopped:
	}
}

// channel returns a channel's type and parent, cached.
func (a *Adapter) channel(ctx context.Context, id string) (*discordgo.Channel, error) {
	if c, ok := a.channels.get(id); ok {
		return c, nil
	}
	c := &discordgo.Channel{}
	if err := a.rest.setupCall(ctx, http.MethodGet, discordgo.EndpointChannel(id), jsonBody{}, c); err != nil {
		return nil, fmt.Errorf("get channel: %w", err)
	}
	a.channels.put(id, c)
	return c, nil
}

func chanKey(id string) string { return "discord:" + id }

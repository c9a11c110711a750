package discord

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/tableround/tableround/bot"
)

// Config is the adapter's part of the environment (DESIGN §4).
type Config struct {
	Token string `env:"DISCORD_TOKEN"`
	// APIURL replaces https://discord.com for every REST call and for
	// gateway discovery (REST proxies, the in-repo fake).
	APIURL string `env:"DISCORD_API_URL"`
	// GuildID registers the commands in one guild (instant); empty
	// registers them globally.
	GuildID string `env:"DISCORD_GUILD_ID"`
	// MessageContent opts in to the privileged intent, so plain messages in
	// a session thread become interjections.
	MessageContent bool `env:"DISCORD_MESSAGE_CONTENT, default=false"`
	ShardID        int  `env:"DISCORD_SHARD_ID, default=0"`
	ShardCount     int  `env:"DISCORD_SHARD_COUNT, default=1"`
	// GlobalRate is the bot token's global limit in requests per second:
	// Discord's 50, or what Discord granted a large bot. The adapter paces
	// every authorised call at 90 % of it, shared by all of the token's
	// replicas through Redis when Options.SharedLimiter is set.
	GlobalRate int `env:"DISCORD_GLOBAL_RATE, default=50"`
}

// DefaultGlobalRate is Discord's global limit per bot token.
const DefaultGlobalRate = 50

// globalBudget paces a token whose global limit is rate requests per
// second at 90 % of it (Discord's 50 → 45/s), leaving room for network
// jitter; bursts stay within a fiftieth of a second's share.
func globalBudget(rate int) bot.Budget {
	if rate <= 0 {
		rate = DefaultGlobalRate
	}
	return bot.Budget{Rate: 0.9 * float64(rate), Burst: max(1, rate/50)}
}

// LogValue keeps the token out of logs.
func (c Config) LogValue() slog.Value {
	tok := "unset"
	if c.Token != "" {
		tok = "set"
	}
	return slog.GroupValue(
		slog.String("token", tok),
		slog.String("api_url", c.APIURL),
		slog.String("guild_id", c.GuildID),
		slog.Bool("message_content", c.MessageContent),
		slog.Int("shard_id", c.ShardID),
		slog.Int("shard_count", c.ShardCount),
		slog.Int("global_rate", c.GlobalRate),
	)
}

// Limits are the platform budgets the adapter paces itself to. The
// defaults sit a little under Discord's published figures (DESIGN §7) so
// that network jitter never turns a full budget into a 429.
type Limits struct {
	Global       bot.Budget    // per bot token: every request of the process that carries its authorization
	Webhook      bot.Budget    // per webhook
	EditInterval time.Duration // between two edits of one message
	// Channel paces each channel's (and each thread's) writes under
	// Discord's per-channel message limit: creates, and edits once they
	// count (see ChannelEdits). It is where a shared 429 lowers the rate;
	// a zero Rate means DefaultLimits'.
	Channel bot.Budget
	// ChannelWindow caps a channel's writes in any window of its length,
	// as Discord counts them; a zero Limit means DefaultLimits' (when
	// Channel is DefaultLimits' too) or no cap.
	ChannelWindow Window
	// ChannelMin is the lowest rate a channel's budget falls to.
	ChannelMin float64
	// ChannelEdits counts edits toward the channel's budget from the
	// start; otherwise the adapter counts them from its first shared 429
	// on (Discord does not say whether they count).
	ChannelEdits bool
	// Webhooks is how many webhooks the adapter uses per channel (its
	// threads share them), each with its own Webhook budget: 1–15, 0 means
	// DefaultWebhooks.
	Webhooks int
	// GroupHorizon is how far ahead a channel's budget is counted when a
	// concurrent stage starts: when the creates it affords by then fall
	// short of one per seat, the stage is merged into one message
	// (merged.go). 0 means DefaultGroupHorizon; negative never merges.
	GroupHorizon time.Duration
}

// DefaultWebhooks is two webhooks per channel. Discord's per-channel
// limit (about 30 creates a minute, shared by every webhook in the
// channel) caps new messages at ~0.5/s, which one webhook's 5 requests per
// 2 s carries many times over; more webhooks only add room for edits,
// which two give (4.5/s: a merged stage, the board and a sequential
// speaker each at one edit a second, or six separate speeches every ~1.5
// s). Every webhook is a persona's voice anyway: a persona posts under its
// own name and avatar through any webhook, set per message. Eight per
// channel, as before, filled a guild's quota of 1,000 at 125 channels;
// two reach it at 500. Discord allows 15 per channel.
const DefaultWebhooks = 2

// maxWebhooks is Discord's cap per channel.
const maxWebhooks = 15

// DefaultLimits returns budgets for Discord's 50 requests/s per token,
// 5 requests per 2 s per webhook and one edit per second per message.
func DefaultLimits() Limits {
	return Limits{
		Global:        globalBudget(DefaultGlobalRate), // every authorised call is paced; 5/s of headroom for network jitter
		Webhook:       bot.Budget{Rate: 2.25, Burst: 1},
		EditInterval:  1050 * time.Millisecond, // measured from the previous edit's response
		Channel:       bot.Budget{Rate: channelLimit / channelPer.Seconds(), Burst: 5},
		ChannelWindow: Window{Limit: channelLimit, Per: channelPer},
		ChannelMin:    1.0 / 20, // 3 per minute
		Webhooks:      DefaultWebhooks,
	}
}

// Window is a sliding-window limit: at most Limit writes in any span of
// Per.
type Window struct {
	Limit int
	Per   time.Duration
}

// channelLimit per channelPer is Discord's reported per-channel limit, 30 messages per
// 60 s, with a margin: two writes fewer, and a window a second longer
// than Discord's so that a request delayed on its way never lands in a
// window of Discord's that holds 31. A channel's budget (DefaultLimits)
// spends it at a steady 28 per 61 s after a burst of 5 (a concurrent
// stage's placeholders), the window holding the total; a token bucket
// alone had to stay at 0.4/s (24 a minute) for its burst to fit.
const (
	channelLimit = 28
	channelPer   = 61 * time.Second
)

// Options are the adapter's collaborators.
type Options struct {
	Logger *slog.Logger
	Clock  bot.Clock // pacing and the people's-turn timeout; RealClock when nil
	// PeopleTimeout is used when a Question carries no timeout (default 2m).
	PeopleTimeout time.Duration
	// AvatarURL gives a persona's avatar when its own AvatarURL is empty.
	AvatarURL func(p bot.Persona) string
	// Limits override DefaultLimits and Config.GlobalRate (tests scale
	// them down).
	Limits *Limits
	// MaxImageBytes caps a downloaded attachment (default 25 MiB).
	MaxImageBytes int64
	// WrapREST, when set, wraps the transport of REST calls (metrics count
	// requests, 429s and invalid requests there).
	WrapREST func(http.RoundTripper) http.RoundTripper
	// Hooks are the metrics callbacks of every streamed message.
	Hooks bot.WriterHooks
	// SharedLimiter, when set, shares the token's global budget, each
	// channel's message budget and the invalid-request count with the
	// token's other replicas (redislimit on REDIS_URL). Without it the
	// process paces itself alone.
	SharedLimiter SharedLimiter
}

const (
	maxContent    = 2000
	maxUpload     = 10 << 20
	defaultImages = 25 << 20
)

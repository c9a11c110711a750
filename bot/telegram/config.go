package telegram

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/tableround/tableround/bot"
)

// Config is the adapter's part of the environment (DESIGN §4).
type Config struct {
	Token string `env:"TELEGRAM_TOKEN"`
	// APIURL replaces https://api.telegram.org (a self-hosted Bot API
	// server, the in-repo fake).
	APIURL string `env:"TELEGRAM_API_URL"`
	// PersonaTokens are six bot tokens in seat order, or "seat=token"
	// pairs; each seat then posts from its own bot account.
	PersonaTokens []string `env:"TELEGRAM_PERSONA_TOKENS"`
	// WebhookURL switches from long polling to a webhook; the process must
	// serve WebhookHandler at that URL.
	WebhookURL    string  `env:"TELEGRAM_WEBHOOK_URL"`
	WebhookSecret string  `env:"TELEGRAM_WEBHOOK_SECRET"`
	AllowedChats  []int64 `env:"TELEGRAM_ALLOWED_CHATS"`
}

// LogValue keeps the tokens and the secret out of logs.
func (c Config) LogValue() slog.Value {
	set := func(s string) string {
		if s == "" {
			return "unset"
		}
		return "set"
	}
	return slog.GroupValue(
		slog.String("token", set(c.Token)),
		slog.String("api_url", c.APIURL),
		slog.Int("persona_tokens", len(c.PersonaTokens)),
		slog.String("webhook_url", c.WebhookURL),
		slog.String("webhook_secret", set(c.WebhookSecret)),
		slog.Int("allowed_chats", len(c.AllowedChats)),
	)
}

// Limits are the budgets the adapter paces itself to, per bot token. The
// defaults sit a little under Telegram's figures (DESIGN §7) so that
// network jitter never turns a full budget into a 429.
type Limits struct {
	Bot   bot.Budget // per bot token, every chat
	Chat  bot.Budget // per chat (messages and edits)
	Group bot.Budget // per group chat, in addition to Chat
	// EditInterval is between two edits of one message in a private chat;
	// GroupEditInterval between two edits of a group's merged message.
	EditInterval      time.Duration
	GroupEditInterval time.Duration
}

// DefaultLimits returns budgets for 1 message/s per chat (burst 3), 20 per
// minute per group and 30/s per bot. Telegram counts the group's and the
// bot's budgets in sliding windows, where a bucket lets its burst and a
// whole window's rate through: Burst + Rate × window stays under the limit
// (2 + 26 = 28 of 30 a second; 1 + 18 = 19 of 20 a minute).
func DefaultLimits() Limits {
	return Limits{
		Bot:               bot.Budget{Rate: 26, Burst: 2},
		Chat:              bot.Budget{Rate: 0.9, Burst: 2},
		Group:             bot.Budget{Rate: 18.0 / 60, Burst: 1},
		EditInterval:      time.Second,
		GroupEditInterval: 3 * time.Second,
	}
}

// Options are the adapter's collaborators.
type Options struct {
	Logger *slog.Logger
	Clock  bot.Clock // pacing and the people's turn; RealClock when nil
	// HTTPClient carries every Bot API call and file download; it needs no
	// Timeout (calls carry contexts). http.DefaultTransport when nil.
	HTTPClient *http.Client
	// PeopleTimeout is used when a Question carries no timeout (default 2m).
	PeopleTimeout time.Duration
	// PollTimeout is the long-poll wait of getUpdates (default 50 s).
	PollTimeout time.Duration
	// DownloadTimeout bounds one photo download (default 30 s).
	DownloadTimeout time.Duration
	// MaxDownload caps a downloaded photo (default 20 MB, the cloud Bot
	// API's getFile limit; raise it for a local Bot API server).
	MaxDownload int64
	// SeatOrder maps plain persona tokens to seat IDs (the persona pack's
	// seats in order). Default: the papercut pack's seats.
	SeatOrder []string
	// Limits override DefaultLimits.
	Limits *Limits
	// FirstSeen, when set, is asked after the adapter's own de-duplication
	// whether an update ID is new across every replica behind the webhook
	// (a shared store's SET NX); false drops the update. Errors count as new.
	FirstSeen func(ctx context.Context, key string) (bool, error)
	// Hooks are the metrics callbacks of every streamed message.
	Hooks bot.WriterHooks
}

// defaultSeats is the papercut pack's seat order (DESIGN §2).
var defaultSeats = []string{"craftsman", "consumer_1", "manufacturer", "consumer_2", "designer", "consumer_3"}

const (
	maxText        = 4096
	maxCaption     = 1024
	maxPhotoUpload = 10 << 20
	defaultMaxDown = 20 << 20
	adminCacheTTL  = time.Minute
	platform       = "telegram"
)

package telegram

import (
	"testing"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/bot/telegram/telegramfake"
)

// TestDefaultLimitsFitTelegramsWindows checks the adapter's budgets
// against the fake's defaults (Telegram's figures) the way each is
// counted: a token bucket lets its burst and then its rate through, so in
// any sliding window it grants up to Burst + Rate × window. The load tool
// found the per-bot budget (28/s, burst 3: 31 in a second) over
// Telegram's 30 with 50 private chats on one token.
func TestDefaultLimitsFitTelegramsWindows(t *testing.T) {
	t.Parallel()
	l, tg := DefaultLimits(), telegramfake.TelegramLimits()
	most := func(b bot.Budget, window time.Duration) float64 { return float64(b.Burst) + b.Rate*window.Seconds() }
	if got := most(l.Bot, time.Second); got > float64(tg.BotPerSecond)-1 {
		t.Errorf("per bot: up to %.1f in a second, want at most %d (Telegram's %d less a margin)", got, tg.BotPerSecond-1, tg.BotPerSecond)
	}
	if got := most(l.Group, time.Minute); got > float64(tg.GroupPerMinute)-1 {
		t.Errorf("per group: up to %.1f in a minute, want at most %d", got, tg.GroupPerMinute-1)
	}
	if l.Chat.Rate >= tg.ChatRate || l.Chat.Burst >= tg.ChatBurst {
		t.Errorf("per chat: %.2f/s burst %d, want under Telegram's %.0f/s burst %d", l.Chat.Rate, l.Chat.Burst, tg.ChatRate, tg.ChatBurst)
	}
}

package discord

import (
	"testing"

	"github.com/tableround/tableround/bot/discord/discordfake"
)

// TestDefaultGlobalBudgetStaysUnderDiscordsLimit: with the default limits,
// a process whose budget is full (idle until now) makes calls from eight
// goroutines at once. The fake counts the token's requests in a sliding
// second, as Discord does: no second holds more than 50 (a burst on top
// of the rate must not overshoot) and no 429 is drawn. (How much of the
// 45/s the calls reach depends on the machine's load, so it is logged,
// not asserted; on an idle machine the peak is 44-46.) Wall time: the
// fake's one-second window is too short to scale without network jitter
// turning into 429s.
func TestDefaultGlobalBudgetStaysUnderDiscordsLimit(t *testing.T) {
	t.Parallel()
	fake := discordfake.New(discordfake.Options{Token: testToken, Limits: discordfake.DiscordLimits()})
	defer fake.Close()
	ch := fake.AddChannel(discordfake.Channel{GuildID: fake.NewID()}).ID
	a := replica(t, fake, DefaultLimits(), nil)
	hammer(t, ch, 15, a, a, a, a, a, a, a, a)
	peak, limited := fake.GlobalPeak(), fake.RateLimited()
	t.Logf("most requests in one second %d, 429s %d", peak, limited)
	if peak > 50 || limited != 0 {
		t.Errorf("peak %d requests in a second and %d 429s; want ≤ 50 and none", peak, limited)
	}
}

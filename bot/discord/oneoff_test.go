package discord

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/tableround/tableround/bot/discord/discordfake"
	"github.com/tableround/tableround/internal/clock"
)

// Every request that carries the bot's authorization counts against the
// token's 50/s, so one-off calls (replies, the people's turn, interaction
// answers) wait for the token's budget too: with the budget blocked for an
// hour, none of them reaches Discord. The adapter runs on a manual clock
// and no gateway: the call is seen asleep on the clock, then cancelled.
func TestOneOffCallsWaitForTheTokenBudget(t *testing.T) {
	for _, tc := range []struct {
		name  string
		route string
		call  func(ctx context.Context, a *Adapter, channel string) error
	}{
		{"bot message", "POST /channels/{id}/messages", func(ctx context.Context, a *Adapter, ch string) error {
			_, err := a.botMsgs.send(ctx, ch, botMessage{Content: "Started."}, nil)
			return err
		}},
		{"bot message edit", "PATCH /channels/{id}/messages/{id}", func(ctx context.Context, a *Adapter, ch string) error {
			return a.botMsgs.edit(ctx, ch, "123", botMessage{Content: "closed"})
		}},
		{"interaction response", "POST /interactions/{id}/{token}/callback", func(ctx context.Context, a *Adapter, _ string) error {
			return a.replies.deferReply(ctx, &discordgo.Interaction{ID: "1", Token: "itok"}, false)
		}},
		{"interaction edit", "PATCH /webhooks/{id}/{token}/messages/{id}", func(ctx context.Context, a *Adapter, _ string) error {
			u := discordgo.EndpointWebhookMessage(a.who.app(), "itok", "@original")
			return a.replies.sendInteraction(ctx, http.MethodPatch, u, webhookMessage{Content: "Done."}, nil)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake := discordfake.New(discordfake.Options{Token: testToken})
			defer fake.Close()
			ch := fake.AddChannel(discordfake.Channel{GuildID: fake.NewID()}).ID
			clk := clock.NewManual(time.Time{})
			a, err := New(Config{Token: testToken, APIURL: fake.URL()}, newTestHandler(), Options{Clock: clk, Limits: &fastLimits})
			if err != nil {
				t.Fatal(err)
			}
			a.who.ready(&discordgo.Ready{User: &discordgo.User{ID: "4242"}, Application: &discordgo.Application{ID: "4242"}})
			a.pace.global.Penalize(time.Hour, false) // the token's budget is spent for an hour
			ctx, cancel := context.WithCancel(context.Background())
			errc := make(chan error, 1)
			go func() { errc <- tc.call(ctx, a, ch) }()
			for clk.Sleepers() == 0 { // the call waits on the clock for the token's budget
				select {
				case err := <-errc:
					t.Fatalf("the call returned (%v) without waiting for the token's budget", err)
				case <-time.After(time.Millisecond):
				}
			}
			cancel()
			if err := <-errc; err == nil {
				t.Error("the call succeeded while the token's budget was blocked")
			}
			if n := fake.Requests(tc.route); n != 0 {
				t.Errorf("%d requests %s reached Discord outside the token's budget", n, tc.route)
			}
		})
	}
}

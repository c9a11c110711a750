//go:build slow

package main

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tableround/tableround/bot/discord/discordfake"
	"github.com/tableround/tableround/internal/eventually"
)

// budgetSessions is how many sessions each replica runs in
// TestReplicasShareTheTokensBudget: enough that their start-up calls and
// streams ask for more than 50 requests/s together, so two replicas pacing
// themselves alone (45/s each) draw global 429s.
const budgetSessions = 8

// TestReplicasShareTheTokensBudget: two `tableround serve` processes on
// one redis-server and one Discord bot token, against one discordfake that
// enforces Discord's limits, each running several sessions (a shard each,
// so every guild's mentions reach one replica). From the fake's own
// records: no sliding second held more than 50 requests of the token, and
// the fake sent no global 429. The replicas share the token's budget
// through Redis (REDIS_URL, package redislimit); with that sharing taken
// out of serve (serve.go's `shared = redislimit.New(...)` left out), the
// same load draws global 429s within two seconds.
//
// Not parallel: it measures the two processes' requests in real time,
// with a margin of about 10 % under the limit. Beside the other tests
// (TestMain runs many at once) a starved replica's granted requests
// arrive bunched and overrun a sliding second.
func TestReplicasShareTheTokensBudget(t *testing.T) {
	srv := needRedis(t)
	const db = 10
	rdb := goredis.NewClient(&goredis.Options{Addr: srv.Addr(), DB: db})
	t.Cleanup(func() { rdb.Close() })
	if err := rdb.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	limits := discordfake.DiscordLimits()
	fake := discordfake.New(discordfake.Options{Token: "tok", Limits: limits})
	t.Cleanup(fake.Close)

	// Discord routes a guild to shard (guild_id >> 22) % num_shards: one
	// guild per replica, budgetSessions channels in each.
	guilds := []string{strconv.FormatInt(2<<22, 10), strconv.FormatInt(3<<22, 10)}
	var channels []string
	for _, g := range guilds {
		for range budgetSessions {
			channels = append(channels, fake.AddChannel(discordfake.Channel{GuildID: g, Type: 0}).ID)
		}
	}
	base := []string{"AI_PROVIDER=demo", "DEMO_PACE=realistic", "DISCORD_TOKEN=tok", "DISCORD_API_URL=" + fake.URL(),
		"DISCORD_SHARD_COUNT=2", "REDIS_URL=" + srv.URL(db), "LEASE_TTL=5s", "MAX_TURNS=1"}
	startReplica(t, "s0", append([]string{"DISCORD_SHARD_ID=0"}, base...))
	startReplica(t, "s1", append([]string{"DISCORD_SHARD_ID=1"}, base...))
	eventually.Within(t, time.Minute, "both shards on the gateway", func() bool { return fake.Connected() == 2 })

	// Every session starts at once: each replica opens its threads and
	// webhooks and posts its first messages in the same moment.
	for i, ch := range channels {
		u := discordfake.User{ID: fake.NewID(), Name: fmt.Sprintf("person%d", i)}
		if _, err := fake.PostUser(ch, u, "a paper-cut kite, take "+strconv.Itoa(i), true); err != nil {
			t.Fatal(err)
		}
	}
	threadOf := func(parent string) string {
		for _, c := range fake.Channels() {
			if c.ParentID == parent {
				return c.ID
			}
		}
		return ""
	}
	// Drive the sessions until every thread shows a dozen messages: the
	// start-up burst and the first stages' streams are behind us then.
	const shown = 12
	progress := time.Now()
	eventually.Within(t, 5*time.Minute, fmt.Sprintf("%d messages in each of the %d threads", shown, len(channels)), func() bool {
		least := -1
		for _, ch := range channels {
			n := 0
			if th := threadOf(ch); th != "" {
				n = len(fake.Messages(th))
			}
			if least < 0 || n < least {
				least = n
			}
		}
		if time.Since(progress) > 20*time.Second {
			progress = time.Now()
			t.Logf("fewest messages in a thread %d; global 429s %d, most requests in one second %d", least, fake.GlobalLimited(), fake.GlobalPeak())
		}
		return least >= shown || fake.GlobalLimited() > 0
	})

	peak, limited := fake.GlobalPeak(), fake.GlobalLimited()
	t.Logf("most requests of the token in one sliding second: %d; global 429s: %d; all 429s: %d", peak, limited, fake.RateLimited())
	// The fake counts a request in its sliding window only once it admits
	// it, and refuses (a global 429) any that would make a second hold
	// more than limits.GlobalRequests: with no global 429, every request
	// the two replicas sent is in the record, and none of its seconds
	// holds more than 50.
	if limited != 0 {
		t.Errorf("the fake sent %d global 429s: the two replicas together asked for more than %d requests in one second", limited, limits.GlobalRequests)
	}
	// The load must ask for the whole budget, or the test proves nothing:
	// the replicas pace the token at 43–46 requests in a second together.
	if peak < 40 {
		t.Errorf("at most %d requests of the token in one second: the sessions did not fill its budget", peak)
	}
	if peak > limits.GlobalRequests {
		t.Errorf("%d requests of the token in one second, more than %d", peak, limits.GlobalRequests)
	}
}

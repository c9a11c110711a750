//go:build slow

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tableround/tableround/bot/discord/discordfake"
	"github.com/tableround/tableround/bot/telegram/telegramfake"
	"github.com/tableround/tableround/internal/eventually"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/store/redis"
	"github.com/tableround/tableround/transcript"
)

// replicaProc is a `tableround serve` process (this test binary re-executed).
type replicaProc struct {
	name, addr string
	cmd        *exec.Cmd
	mu         sync.Mutex
	log        bytes.Buffer
	exited     chan error
}

func (r *replicaProc) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.log.Write(p)
}

func (r *replicaProc) logs() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.log.String()
}

func startReplica(t *testing.T, name string, env []string) *replicaProc {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	r := &replicaProc{name: name, addr: freeAddr(t), exited: make(chan error, 1)}
	r.cmd = exec.Command(exe, "-test.run=^$", "--", "serve")
	r.cmd.Dir = t.TempDir() // no stray .env
	r.cmd.Env = append([]string{"TABLEROUND_AS_MAIN=1", "PATH=" + os.Getenv("PATH"), "HOME=" + r.cmd.Dir,
		"INSTANCE_ID=" + name, "HTTP_ADDR=" + r.addr, "DATA_DIR=" + r.cmd.Dir}, env...)
	r.cmd.Stdout, r.cmd.Stderr = r, r
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.exited <- r.cmd.Wait() }()
	t.Cleanup(func() {
		_ = r.cmd.Process.Kill()
		<-r.exited
		if t.Failed() || os.Getenv("REPLICA_LOGS") != "" {
			t.Logf("── replica %s log ──\n%s", name, r.logs())
		}
	})
	eventually.Within(t, time.Minute, "replica "+name+" to serve", func() bool {
		resp, err := http.Get("http://" + r.addr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return r
}

// terminate sends SIGTERM and waits for a clean exit.
func (r *replicaProc) terminate(t *testing.T) {
	t.Helper()
	start := time.Now()
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-r.exited:
		r.exited <- err // for the cleanup
		t.Logf("replica %s stopped %s after SIGTERM", r.name, time.Since(start).Round(time.Millisecond))
		if err != nil {
			t.Fatalf("replica %s after SIGTERM: %v\n%s", r.name, err, r.logs())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("replica %s did not stop after SIGTERM", r.name)
	}
}

// Two replicas share Redis behind one Telegram webhook. Updates reach
// whichever replica the load balancer picks: the channel's lease decides
// which one runs the session, commands sent to the other are relayed to it,
// and when the running replica is stopped (SIGTERM) the other resumes the
// session, which a third process can then stop.
func TestReplicasShareATelegramWebhook(t *testing.T) {
	t.Parallel()
	srv := needRedis(t)
	const (
		token  = "100:main-token"
		secret = "s3cret"
	)
	fake, chat, ann := makersGroup(t, token, -1000000)

	env := []string{
		"AI_PROVIDER=demo", "DEMO_PACE=realistic",
		"TELEGRAM_TOKEN=" + token, "TELEGRAM_API_URL=" + fake.URL(),
		"TELEGRAM_WEBHOOK_URL=https://bot.example/tg/hook", "TELEGRAM_WEBHOOK_SECRET=" + secret,
		"REDIS_URL=" + srv.URL(3), "LEASE_TTL=3s", "LOG_LEVEL=debug",
	}
	a := startReplica(t, "a", env)
	b := startReplica(t, "b", env)

	ctx := context.Background()
	st, err := redis.Open(ctx, srv.URL(3), redis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	channel := fmt.Sprintf("telegram:%d", chat)
	deliver := func(r *replicaProc, text string) {
		t.Helper()
		_, uid := fake.Send(token, telegramfake.In{Chat: chat, From: ann, Text: text})
		req, _ := http.NewRequest(http.MethodPost, "http://"+r.addr+"/tg/hook", bytes.NewReader(fake.Update(token, uid)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("webhook of %s answered %d", r.name, resp.StatusCode)
		}
	}
	holder := func() string {
		l, err := st.Holder(ctx, channel)
		if err != nil {
			return ""
		}
		return l.Owner
	}
	botSaid := func(substr string) int {
		n := 0
		for _, m := range fake.Messages(chat) {
			if m.Token != "" && strings.Contains(m.Text, substr) {
				n++
			}
		}
		return n
	}

	deliver(a, "/roundtable a paper-cut kite for the spring wind")
	eventually.Within(t, time.Minute, "replica a to hold the session", func() bool { return holder() == "a" })
	list, err := st.ListSessions(ctx, channel, 1)
	if err != nil || len(list) != 1 {
		t.Fatalf("sessions: %v %v", list, err)
	}
	id := list[0].ID

	// A mention-free /say and a /status reach b: both are relayed to a.
	deliver(b, "/say make it red and gold, please")
	eventually.Within(t, time.Minute, "the interjection in the session's log", func() bool {
		evs, _ := st.Events(ctx, id)
		for _, e := range evs {
			if e.Type == transcript.EventInterjection && strings.Contains(e.Text, "red and gold") {
				return true
			}
		}
		return false
	})
	deliver(b, "/status")
	eventually.Within(t, time.Minute, "b's status reply about a's session", func() bool { return botSaid("Roundtable "+id+" — stage:") > 0 })
	if holder() != "a" {
		t.Fatalf("the session moved to %q before a stopped", holder())
	}

	// SIGTERM a: the session is checkpointed, handed off, and b resumes it.
	a.terminate(t)
	eventually.Within(t, time.Minute, "replica b to resume the session", func() bool { return holder() == "b" })
	if s, err := st.GetSession(ctx, id); err != nil || s.Status != store.StatusRunning {
		t.Fatalf("resumed session: %+v %v", s, err)
	}
	eventually.Within(t, time.Minute, "b to say it resumes", func() bool { return botSaid("Resuming the session") > 0 })

	// A new process c takes the /stop; b, which runs the session, stops it.
	c := startReplica(t, "c", env)
	deliver(c, "/stop")
	eventually.Within(t, time.Minute, "the session to stop", func() bool {
		s, err := st.GetSession(ctx, id)
		return err == nil && s.Status == store.StatusStopped
	})
	eventually.Within(t, time.Minute, "the lease to be released", func() bool {
		_, err := st.Holder(ctx, channel)
		return errors.Is(err, store.ErrNotFound)
	})

	// Nothing was said twice: every speech of a stage, seat and turn is
	// logged once across the three processes.
	evs, err := st.Events(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, e := range evs {
		if e.Type == transcript.EventSpeech {
			seen[e.Stage+"/"+e.Seat+"/"+string(e.Data)]++
		}
	}
	for k, n := range seen {
		if n > 1 {
			t.Errorf("speech %s logged %d times", k, n)
		}
	}
	if len(seen) == 0 {
		t.Fatal("no speeches logged")
	}
	b.terminate(t)
	c.terminate(t)
}

// Two replicas split Discord's guilds by gateway shard
// (DISCORD_SHARD_ID/DISCORD_SHARD_COUNT): a mention in each guild starts
// exactly one session, on the replica whose shard owns the guild, which
// holds the channel's lease.
func TestReplicasShardDiscord(t *testing.T) {
	t.Parallel()
	srv := needRedis(t)
	fake := discordfake.New(discordfake.Options{Token: "tok", Limits: discordfake.DiscordLimits()})
	t.Cleanup(fake.Close)
	// Discord routes a guild to shard (guild_id >> 22) % num_shards.
	guilds := map[string]string{"s0": strconv.FormatInt(2<<22, 10), "s1": strconv.FormatInt(3<<22, 10)}
	channels := map[string]string{}
	for name, g := range guilds {
		channels[name] = fake.AddChannel(discordfake.Channel{GuildID: g, Type: 0}).ID
	}
	base := []string{"AI_PROVIDER=demo", "DEMO_PACE=realistic", "DISCORD_TOKEN=tok", "DISCORD_API_URL=" + fake.URL(),
		"DISCORD_SHARD_COUNT=2", "REDIS_URL=" + srv.URL(4), "LEASE_TTL=3s"}
	startReplica(t, "s0", append([]string{"DISCORD_SHARD_ID=0"}, base...))
	startReplica(t, "s1", append([]string{"DISCORD_SHARD_ID=1"}, base...))
	eventually.Within(t, time.Minute, "both shards on the gateway", func() bool { return fake.Connected() == 2 })

	ctx := context.Background()
	st, err := redis.Open(ctx, srv.URL(4), redis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for name, ch := range channels {
		if _, err := fake.PostUser(ch, discordfake.User{ID: fake.NewID(), Name: "ada"}, "a paper-cut kite for "+name, true); err != nil {
			t.Fatal(err)
		}
	}
	for name, ch := range channels {
		var threads []string
		eventually.Within(t, time.Minute, "a session in "+name+"'s guild", func() bool {
			threads = threads[:0]
			for _, c := range fake.Channels() {
				if c.ParentID == ch {
					threads = append(threads, c.ID)
				}
			}
			if len(threads) == 0 {
				return false
			}
			l, err := st.Holder(ctx, "discord:"+threads[0])
			return err == nil && l.Owner != ""
		})
		l, _ := st.Holder(ctx, "discord:"+threads[0])
		if l.Owner != name {
			t.Errorf("the session of %s's guild runs on %s", name, l.Owner)
		}
		if len(threads) != 1 {
			t.Errorf("%d threads for one mention in %s's guild", len(threads), name)
		}
		list, err := st.ListSessions(ctx, "discord:"+threads[0], 5)
		if err != nil || len(list) != 1 {
			t.Errorf("sessions in %s's thread: %v %v", name, list, err)
		}
	}
	if n := fake.RateLimited(); n != 0 {
		t.Errorf("the bot received %d 429s", n)
	}
}

// makersGroup is a Telegram fake with the bot of token and a supergroup
// where Ann is a member; the chat ID is fresh on every run (base minus
// the clock's low digits), so runs against the same Redis never meet.
func makersGroup(t *testing.T, token string, base int64) (*telegramfake.Server, int64, telegramfake.User) {
	t.Helper()
	chat := base - time.Now().UnixNano()%1000000
	fake := telegramfake.New(telegramfake.Options{})
	t.Cleanup(fake.Close)
	fake.AddBot(token, "tableround_bot")
	fake.AddChat(telegramfake.Chat{ID: chat, Type: "supergroup", Title: "Makers"})
	ann := telegramfake.User{ID: 42, Name: "Ann", Username: "ann"}
	fake.SetMember(chat, ann.ID, "member")
	return fake, chat, ann
}

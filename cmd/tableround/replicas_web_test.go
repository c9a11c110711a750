//go:build slow

package main

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tableround/tableround/bot/telegram/telegramfake"
	"github.com/tableround/tableround/internal/eventually"
	"github.com/tableround/tableround/store/redis"
)

// Two serve processes share Redis behind one Telegram webhook, each with
// its own web table. A session runs on a; a viewer connected to b sees it
// live, with a's event IDs; when a stops (SIGTERM) and b resumes the
// session, the same viewer's stream goes on.
func TestReplicasShareTheWebTable(t *testing.T) {
	t.Parallel()
	srv := needRedis(t)
	const (
		token  = "100:web-token"
		secret = "s3cret"
	)
	fake, chat, ann := makersGroup(t, token, -2000000)
	webA, webB := freeAddr(t), freeAddr(t)
	env := []string{
		"AI_PROVIDER=demo", "DEMO_PACE=realistic",
		"TELEGRAM_TOKEN=" + token, "TELEGRAM_API_URL=" + fake.URL(),
		"TELEGRAM_WEBHOOK_URL=https://bot.example/tg/hook", "TELEGRAM_WEBHOOK_SECRET=" + secret,
		"REDIS_URL=" + srv.URL(5), "LEASE_TTL=3s", "WEB_PUBLIC_URL=http://" + webA,
	}
	a := startReplica(t, "a", append(env, "WEB_ADDR="+webA))
	b := startReplica(t, "b", append(env, "WEB_ADDR="+webB))
	st, err := redis.Open(context.Background(), srv.URL(5), redis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })

	_, uid := fake.Send(token, telegramfake.In{Chat: chat, From: ann, Text: "/roundtable a paper-cut kite"})
	req, _ := http.NewRequest(http.MethodPost, "http://"+a.addr+"/tg/hook", bytes.NewReader(fake.Update(token, uid)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var link string
	eventually.Within(t, time.Minute, "the link on the board", func() bool {
		for _, m := range fake.Messages(chat) {
			if _, l, ok := strings.Cut(m.Text, "🔗 Watch live: "); m.Token != "" && ok {
				link = strings.Fields(l)[0]
				return true
			}
		}
		return false
	})
	u, err := url.Parse(link)
	if err != nil || u.Host != webA {
		t.Fatalf("link %q", link)
	}
	onA := "http://" + webA + u.Path + "/events?" + u.RawQuery
	onB := "http://" + webB + u.Path + "/events?" + u.RawQuery

	// The viewer on b sees the speech grow token by token, as a logs it.
	live := func(all []pageEvent) bool {
		return len(all) > 0 && all[len(all)-1].T == "delta" && all[len(all)-1].O > 0
	}
	fromB, _ := readPage(t, onB, live)
	if len(fromB) == 0 {
		t.Fatalf("b's page\n%s", b.logs())
	}
	fromA, _ := readPage(t, onA, func(all []pageEvent) bool { return len(all) >= len(fromB) })
	for i := range fromB {
		if fromA[i] != fromB[i] {
			t.Fatalf("event %d: a sent %+v, b sent %+v", i+1, fromA[i], fromB[i])
		}
	}

	// a stops; b resumes the session; a viewer on b keeps streaming.
	watching := make(chan []pageEvent, 1)
	go func() {
		all, _ := readPage(t, onB, func(all []pageEvent) bool {
			for _, e := range all { // b's note, posted as it resumes
				if (e.T == "open" || e.T == "delta") && strings.Contains(e.S, "Resuming the session") {
					return true
				}
			}
			return false
		})
		watching <- all
	}()
	a.terminate(t)
	select {
	case all := <-watching:
		if len(all) == 0 {
			t.Fatalf("b's viewer after a stopped\n%s", b.logs())
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("b's viewer never saw the session resume\n%s", b.logs())
	}
	b.terminate(t)
}

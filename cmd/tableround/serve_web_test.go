package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tableround/tableround/bot/discord/discordfake"
	"github.com/tableround/tableround/bot/telegram/telegramfake"
	"github.com/tableround/tableround/internal/eventually"
)

func TestServeRefusesTheWebTableOnTheMetricsPort(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	for name, web := range map[string]map[string]string{
		"same address":      {"HTTP_ADDR": addr, "WEB_ADDR": addr},
		"wildcard":          {"HTTP_ADDR": addr, "WEB_ADDR": "0.0.0.0" + addr[strings.LastIndex(addr, ":"):], "WEB_TOKEN": "t"},
		"no token":          {"WEB_ADDR": "0.0.0.0:0"},
		"bad public URL":    {"WEB_ADDR": "127.0.0.1:0", "WEB_PUBLIC_URL": "table.example"},
		"public URL alone":  {"WEB_PUBLIC_URL": "https://table.example"},
		"public URL+query?": {"WEB_ADDR": "127.0.0.1:0", "WEB_PUBLIC_URL": "https://table.example/?a=b"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, env := testEnv(t)
			env["AI_PROVIDER"] = "demo"
			env["DISCORD_TOKEN"] = "x"
			maps.Copy(env, web)
			var out, errb bytes.Buffer
			code := run(context.Background(), envOf(env), []string{"serve"}, strings.NewReader(""), &out, &errb)
			if code != exitUsage || !strings.Contains(errb.String(), "WEB_") || strings.Count(strings.TrimSpace(errb.String()), "\n") > 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
		})
	}
}

// serve with WEB_ADDR serves the web table on its own address, and a
// session started in Discord or Telegram links its live page in its
// opening message (the live board); the link opens the page and its
// stream. A SIGTERM stops everything, the open streams included: a
// session suspended while the chat's budget holds its writes gives them
// only a couple of seconds (roundtable's releaseWait), not serve's grace.
func TestServeLinksTheWebTableFromTheChats(t *testing.T) {
	t.Parallel()
	_, env := testEnv(t)
	dfake := discordfake.New(discordfake.Options{Token: "tok"})
	t.Cleanup(dfake.Close)
	guild := dfake.NewID()
	channel := dfake.AddChannel(discordfake.Channel{GuildID: guild, Type: 0}).ID
	tfake := telegramfake.New(telegramfake.Options{})
	t.Cleanup(tfake.Close)
	const token = "100:good-token"
	tfake.AddBot(token, "tableround_bot")
	ann := telegramfake.User{ID: 42, Name: "Ann", Username: "ann"}
	chat := ann.ID // a private chat: a group's budget (20 edits a minute) would hold shutdown for its grace
	tfake.AddChat(telegramfake.Chat{ID: chat, Type: "private"})
	metricsAddr, webAddr := freeAddr(t), freeAddr(t)
	maps.Copy(env, map[string]string{"AI_PROVIDER": "demo", "USER_INPUT_TIMEOUT": "1s",
		"DISCORD_TOKEN": "tok", "DISCORD_API_URL": dfake.URL(), "DISCORD_GUILD_ID": guild,
		"TELEGRAM_TOKEN": token, "TELEGRAM_API_URL": tfake.URL(),
		"HTTP_ADDR": metricsAddr, "WEB_ADDR": webAddr, "WEB_PUBLIC_URL": "http://" + webAddr + "/"})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, envOf(env), []string{"serve"}, strings.NewReader(""), &out, &errb) }()

	// The web table is up on its own address, not on the metrics port.
	eventually.Within(t, time.Minute, "the web table's start page", func() bool {
		resp, err := http.Get("http://" + webAddr + "/")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if body, code := get(t, "http://"+metricsAddr+"/"); code == http.StatusOK && strings.Contains(body, "<form") {
		t.Fatal("the metrics port serves the web table")
	}

	eventually.Within(t, time.Minute, "the gateway connection", func() bool { return dfake.Connected() > 0 })
	if _, err := dfake.PostUser(channel, discordfake.User{ID: dfake.NewID(), Name: "ada"}, "design a paper-cut kite", true); err != nil {
		t.Fatal(err)
	}
	var discordLink string
	eventually.Within(t, time.Minute, "the link on the Discord board", func() bool {
		for _, c := range dfake.Channels() {
			if c.ParentID != channel {
				continue
			}
			for _, m := range dfake.Messages(c.ID) {
				if _, link, ok := strings.Cut(m.Content, "🔗 Watch live: "); ok {
					discordLink = strings.Fields(link)[0]
					return true
				}
			}
		}
		return false
	})
	checkLink(t, webAddr, discordLink)

	tfake.Send(token, telegramfake.In{Chat: chat, From: ann, Text: "/roundtable a paper-cut lantern"})
	var telegramLink string
	eventually.Within(t, time.Minute, "the link on the Telegram board", func() bool {
		for _, m := range tfake.Messages(chat) {
			if _, link, ok := strings.Cut(m.Text, "🔗 Watch live: "); m.Token != "" && ok {
				telegramLink = strings.Fields(link)[0]
				return true
			}
		}
		return false
	})
	checkLink(t, webAddr, telegramLink)
	if telegramLink == discordLink {
		t.Fatal("two sessions share a link")
	}
	if strings.Contains(errb.String(), "k=") {
		t.Fatalf("a key reached the log:\n%s", errb.String())
	}

	cancel() // SIGTERM, with the page's stream still open
	select {
	case code := <-done:
		if code != exitOK {
			t.Fatalf("serve exit %d: %s", code, errb.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// checkLink opens a link from a chat: the page, then its event stream
// until a persona's words arrive. The stream is left open.
func checkLink(t *testing.T, webAddr, link string) {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil || u.Host != webAddr || !strings.HasPrefix(u.Path, "/s/") || len(u.Query().Get("k")) != 32 {
		t.Fatalf("link %q", link)
	}
	body, code := get(t, link)
	if code != http.StatusOK || !strings.Contains(body, "<html") {
		t.Fatalf("GET %s = %d:\n%.300s", link, code, body)
	}
	if _, code := get(t, "http://"+webAddr+u.Path+"?k="+strings.Repeat("0", 32)); code != http.StatusNotFound {
		t.Fatalf("a wrong key: %d", code)
	}
	resp, err := http.Get("http://" + webAddr + u.Path + "/events?" + u.RawQuery)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	found := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			if strings.Contains(sc.Text(), `"t":"delta"`) && strings.Contains(sc.Text(), `"m":`) {
				found <- true
				return
			}
		}
		found <- false
	}()
	select {
	case ok := <-found:
		if !ok {
			t.Fatal("the stream ended without a persona's words")
		}
	case <-time.After(time.Minute):
		t.Fatal("no persona's words on the page")
	}
}

// pageEvent is one event of a page's stream, as the browser parses it.
type pageEvent struct {
	T    string `json:"t"`
	M    int    `json:"m"`
	O    int    `json:"o"`
	S    string `json:"s"`
	Kind string `json:"kind"`
}

// readPage reads a page's event stream until stop says so, the stream
// ends, or a minute passes; ended says whether the server ended it. It
// may run in its own goroutine (it reports with t.Errorf).
func readPage(t *testing.T, streamURL string, stop func(all []pageEvent) bool) (all []pageEvent, ended bool) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, streamURL, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("GET %s: %v", streamURL, err)
		return nil, false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s: %d", streamURL, resp.StatusCode)
		return nil, false
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var ev pageEvent
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			t.Errorf("bad event %q: %v", data, err)
			return all, false
		}
		all = append(all, ev)
		if stop(all) {
			return all, false
		}
	}
	return all, sc.Err() == nil
}

// speechTexts are the finished speeches' texts in a page's events.
func speechTexts(evs []pageEvent) []string {
	kinds, texts := map[int]string{}, map[int]string{}
	var out []string
	for _, e := range evs {
		switch e.T {
		case "open":
			kinds[e.M] = e.Kind
		case "delta":
			texts[e.M] += e.S
		case "reset":
			texts[e.M] = e.S
		case "close":
			if kinds[e.M] == "speech" {
				out = append(out, texts[e.M])
			}
		}
	}
	return out
}

// A Discord session's page outlives a restart of serve: the second serve
// builds it from the stored log, and the session, resumed there, streams
// on into it.
func TestServeWebTableSurvivesARestart(t *testing.T) {
	t.Parallel()
	_, env := testEnv(t)
	fake := discordfake.New(discordfake.Options{Token: "tok"})
	t.Cleanup(fake.Close)
	guild := fake.NewID()
	channel := fake.AddChannel(discordfake.Channel{GuildID: guild, Type: 0}).ID
	webAddr := freeAddr(t)
	maps.Copy(env, map[string]string{"AI_PROVIDER": "demo",
		"DEMO_PACE":     "realistic", // the session is still running at the restart
		"DISCORD_TOKEN": "tok", "DISCORD_API_URL": fake.URL(), "DISCORD_GUILD_ID": guild,
		"HTTP_ADDR": freeAddr(t), "WEB_ADDR": webAddr, "WEB_PUBLIC_URL": "http://" + webAddr})
	serve := func() (stop func()) {
		ctx, cancel := context.WithCancel(context.Background())
		var out, errb bytes.Buffer
		done := make(chan int, 1)
		go func() { done <- run(ctx, envOf(env), []string{"serve"}, strings.NewReader(""), &out, &errb) }()
		eventually.Within(t, time.Minute, "the web table's listener", func() bool {
			resp, err := http.Get("http://" + webAddr + "/")
			if err == nil {
				resp.Body.Close()
			}
			return err == nil
		})
		return func() {
			cancel()
			select {
			case code := <-done:
				if code != exitOK {
					t.Fatalf("serve exit %d: %s", code, errb.String())
				}
			case <-time.After(time.Minute):
				t.Fatal("serve did not stop")
			}
		}
	}

	stop := serve()
	eventually.Within(t, time.Minute, "the gateway connection", func() bool { return fake.Connected() > 0 })
	if _, err := fake.PostUser(channel, discordfake.User{ID: fake.NewID(), Name: "ada"}, "design a paper-cut kite", true); err != nil {
		t.Fatal(err)
	}
	var link string
	eventually.Within(t, time.Minute, "the link on the board", func() bool {
		for _, c := range fake.Channels() {
			for _, m := range fake.Messages(c.ID) {
				if _, l, ok := strings.Cut(m.Content, "🔗 Watch live: "); c.ParentID == channel && ok {
					link = strings.Fields(l)[0]
					return true
				}
			}
		}
		return false
	})
	u, _ := url.Parse(link)
	stream := "http://" + webAddr + u.Path + "/events?" + u.RawQuery
	// A viewer watches until the shutdown cuts its stream.
	var before []pageEvent
	var endedByShutdown bool
	var once sync.Once
	twoSpoke, cut := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(cut)
		before, endedByShutdown = readPage(t, stream, func(all []pageEvent) bool {
			if len(speechTexts(all)) >= 2 {
				once.Do(func() { close(twoSpoke) })
			}
			return false
		})
	}()
	select {
	case <-twoSpoke:
	case <-time.After(time.Minute):
		t.Fatal("no two speeches on the page")
	}
	stop() // SIGTERM: the session is suspended and handed off; the stream is cut
	<-cut
	if !endedByShutdown || len(before) == 0 {
		t.Fatalf("the viewer's stream before the restart: %d events, ended by the server: %v", len(before), endedByShutdown)
	}

	stop = serve()
	defer stop()
	after, _ := readPage(t, stream, func(all []pageEvent) bool {
		for _, e := range all[min(len(before), len(all)):] {
			if e.T == "delta" && e.O > 0 { // a speech growing token by token: the live tail
				return true
			}
		}
		return false
	})
	if len(after) <= len(before) {
		t.Fatalf("after the restart the page has %d events, before it had %d", len(after), len(before))
	}
	// The kept table: the same events under the same IDs, so a browser
	// that reconnects with Last-Event-ID goes on where it was.
	for i, e := range before {
		if after[i] != e {
			t.Fatalf("event %d was %+v before the restart and is %+v after", i+1, e, after[i])
		}
	}
}

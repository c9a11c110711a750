package telegram

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/bot/telegram/telegramfake"
)

func TestPrivatePhotoHEICAndTooLarge(t *testing.T) {
	t.Parallel()
	hs := newHarness(t, setup{})
	jpeg := bytes.Repeat([]byte{0xff, 0xd8, 1, 2, 3}, 100)
	hs.fake.Send(mainToken, telegramfake.In{Chat: dmChat, From: ann, Photo: jpeg, Caption: "a lantern for spring"})
	hs.eventually("photo start", func() bool { return len(hs.h.requests(bot.CmdStart)) == 1 })
	r := hs.h.requests(bot.CmdStart)[0]
	if r.Text != "a lantern for spring" || r.Image == nil || !bytes.Equal(r.Image.Data, jpeg) || r.Conv == nil {
		t.Fatalf("photo request = %+v", r)
	}

	heic := []byte("....ftypheic fake bytes")
	hs.fake.Send(mainToken, telegramfake.In{Chat: dmChat, From: ann, Caption: "tea set",
		Document: &telegramfake.File{Name: "IMG_0001.HEIC", MIME: "image/heic", Data: heic}})
	hs.eventually("heic start", func() bool { return len(hs.h.requests(bot.CmdStart)) == 2 })
	r = hs.h.requests(bot.CmdStart)[1]
	if r.Image == nil || r.Image.MIME != "image/heic" || !bytes.Equal(r.Image.Data, heic) || r.Text != "tea set" {
		t.Fatalf("heic request = %+v", r.Image)
	}

	hs.fake.Send(mainToken, telegramfake.In{Chat: dmChat, From: ann, Caption: "huge",
		Document: &telegramfake.File{Name: "big.png", MIME: "image/png", Data: []byte("x"), Size: 21 << 20}})
	hs.eventually("refusal", func() bool { return len(hs.findText(dmChat, "too large")) == 1 })
	if n := len(hs.h.requests(bot.CmdStart)); n != 2 {
		t.Errorf("a 21 MB file reached the handler")
	}

	// A photo without a caption: the bot offers a button.
	id, _ := hs.fake.Send(mainToken, telegramfake.In{Chat: dmChat, From: ann, Photo: jpeg})
	hs.eventually("offer", func() bool { return len(hs.findText(dmChat, "Start a roundtable on this photo?")) == 1 })
	offer := hs.findText(dmChat, "Start a roundtable on this photo?")[0]
	if offer.ReplyTo != id || offer.Markup == nil {
		t.Fatalf("offer = %+v", offer)
	}
	cb := hs.fake.Press(mainToken, dmChat, ann, offer.ID, dataPhoto)
	hs.eventually("offer start", func() bool { return len(hs.h.requests(bot.CmdStart)) == 3 })
	if r := hs.h.requests(bot.CmdStart)[2]; r.Image == nil || !bytes.Equal(r.Image.Data, jpeg) {
		t.Errorf("offer start = %+v", r)
	}
	hs.eventually("callback answered", func() bool { _, ok := hs.fake.Answered(cb); return ok })
}

func TestPrivateDraftsThenFinalMessage(t *testing.T) {
	t.Parallel()
	hs := newHarness(t, setup{fakeLimits: telegramfake.TelegramLimits()})
	done := make(chan bot.Answer, 2)
	hs.h.setScript(tableScript(t, hs, done, false))
	hs.say(dmChat, ann, "/roundtable porcelain")
	<-done
	if n := hs.fake.Limited(); n != 0 {
		t.Errorf("fake sent %d 429s", n)
	}
	if b := hs.fake.Broken(); len(b) != 0 {
		t.Errorf("rules broken: %q", b)
	}
	want := header(seats[4]) + body(speech(seats[4], 60))
	if got := hs.findText(dmChat, body(speech(seats[4], 60))); len(got) != 1 || got[0].Text != want || got[0].Edits != 0 {
		t.Errorf("final sequential message = %+v", got)
	}
	if d := hs.fake.Drafts(dmChat); len(d) == 0 {
		t.Errorf("no drafts in a private chat")
	}
	// Concurrent speech in a private chat: six messages, each exact.
	for _, p := range seats {
		want := header(p) + body(speech(p, 40))
		if got := hs.findText(dmChat, header(p)); len(got) == 0 || got[0].Text != want {
			t.Errorf("%s: %+v", p.ID, got)
		}
	}
}

func TestStormRiddenOut(t *testing.T) {
	t.Parallel()
	hs := newHarness(t, setup{fakeLimits: telegramfake.TelegramLimits()})
	done := make(chan bot.Answer, 2)
	hs.h.setScript(tableScript(t, hs, done, false))
	hs.fake.Storm(12, 1)
	hs.say(groupChat, ann, "/roundtable storm")
	<-done
	if hs.fake.Injected() != 12 {
		t.Errorf("storm not used up: %d", hs.fake.Injected())
	}
	merged := hs.findText(groupChat, header(seats[0]))
	for _, p := range seats {
		if len(merged) != 1 || !strings.Contains(merged[0].Text, header(p)+body(speech(p, 40))) {
			t.Errorf("final section of %s missing after the storm", p.ID)
		}
	}
	if n := hs.fake.Limited(); n != 0 {
		t.Errorf("fake flood limits sent %d 429s after the storm", n)
	}
}

func TestSplitAt4096KeepsEntities(t *testing.T) {
	t.Parallel()
	hs := newHarness(t, setup{})
	long := strings.Repeat("Tom & Jerry <3 **bold** @someone — 剪纸 🎨. ", 200) // ~9000 units
	hs.h.setScript(func(ctx context.Context, req request) {
		st, _ := req.Conv.Open(ctx, bot.Post{From: seats[0], Kind: bot.KindNotice})
		st.Update(long[:len(long)/2])
		if err := st.Close(ctx, long); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	hs.say(groupChat, ann, "/roundtable long")
	hs.eventually("start", func() bool { return len(hs.h.requests(bot.CmdStart)) == 1 })
	hs.h.wait()
	parts := hs.findText(groupChat, "Jerry")
	if len(parts) < 3 {
		t.Fatalf("want ≥ 3 parts, got %d", len(parts))
	}
	if b := hs.fake.Broken(); len(b) != 0 {
		t.Errorf("broken: %q", b)
	}
	for _, m := range parts {
		if !strings.HasPrefix(m.Text, header(seats[0])) {
			t.Errorf("part lacks the header: %.80q", m.Text)
		}
		if strings.Contains(m.Text, "@someone") {
			t.Errorf("mention not broken")
		}
	}
}

func TestWebhookMode(t *testing.T) {
	t.Parallel()
	hs := newHarness(t, setup{webhook: true})
	// The harness saw the setWebhook call arrive; the fake records its URL
	// while answering it.
	hs.eventually("webhook set", func() bool { url, _ := hs.fake.Webhook(mainToken); return url != "" })
	if url, secret := hs.fake.Webhook(mainToken); url != "https://example.test/tg" || secret != "s3cret" {
		t.Fatalf("webhook = %q %q", url, secret)
	}
	srv := httptest.NewServer(hs.a.WebhookHandler())
	defer srv.Close()
	_, uid := hs.fake.Send(mainToken, telegramfake.In{Chat: dmChat, From: ann, Text: "/status"})
	body := hs.fake.Update(mainToken, uid)
	post := func(secret string, b []byte) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(b))
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := post("wrong", body); c != http.StatusUnauthorized {
		t.Errorf("wrong secret → %d", c)
	}
	if c := post("s3cret", []byte("{not json")); c != http.StatusBadRequest {
		t.Errorf("bad body → %d", c)
	}
	if c := post("s3cret", append([]byte(`{"update_id": 1, "message": {"text": "`), bytes.Repeat([]byte("a"), maxUpdateBody)...)); c != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body → %d, want 413", c)
	}
	if c := post("s3cret", body); c != http.StatusOK {
		t.Errorf("update → %d", c)
	}
	if c := post("s3cret", body); c != http.StatusOK { // Telegram redelivers
		t.Errorf("duplicate → %d", c)
	}
	hs.eventually("status", func() bool { return len(hs.h.requests(bot.CmdStatus)) == 1 })
	_, uid = hs.fake.Send(mainToken, telegramfake.In{Chat: dmChat, From: ann, Text: "/personas"})
	post("s3cret", hs.fake.Update(mainToken, uid))
	hs.eventually("personas", func() bool { return len(hs.h.requests(bot.CmdPersonas)) == 1 })
	if n := len(hs.h.requests(bot.CmdStatus)); n != 1 {
		t.Errorf("duplicate update handled %d times", n)
	}
}

func TestAskKeywords(t *testing.T) {
	t.Parallel()
	hs := newHarness(t, setup{})
	answers := make(chan bot.Answer, 1)
	// Answered questions get a long timeout (the scaled clock runs 20×
	// faster, and a loaded machine must not let them expire first); only
	// the last one is left to time out.
	var timeout atomic.Int64
	timeout.Store(int64(10 * time.Minute))
	hs.h.setScript(func(ctx context.Context, req request) {
		ans, err := req.Conv.AskKeywords(ctx, bot.Question{Text: "Your turn", Keywords: []string{"red", "lantern"}, Timeout: time.Duration(timeout.Load())})
		if err != nil {
			t.Errorf("ask: %v", err)
		}
		answers <- ans
	})
	ask := func() telegramfake.Message {
		hs.say(groupChat, ann, "/roundtable x")
		var q []telegramfake.Message
		hs.eventually("question", func() bool {
			q = nil
			for _, m := range hs.findText(groupChat, "Reply to this message") {
				if m.Markup != nil {
					q = append(q, m)
				}
			}
			return len(q) == 1
		})
		return q[0]
	}
	q := ask()
	cb := hs.fake.Press(mainToken, groupChat, bob, q.ID, dataKeep)
	if a := <-answers; a.Action != bot.ActionKeep || a.By != "Bob" {
		t.Errorf("keep → %+v", a)
	}
	hs.eventually("answered", func() bool { _, ok := hs.fake.Answered(cb); return ok })

	q = ask()
	hs.fake.Press(mainToken, groupChat, bob, q.ID, dataSkip)
	if a := <-answers; a.Action != bot.ActionSkip {
		t.Errorf("skip → %+v", a)
	}

	q = ask()
	hs.fake.Send(mainToken, telegramfake.In{Chat: groupChat, From: bob, Text: "paper, 红色， moon", ReplyTo: q.ID})
	if a := <-answers; a.Action != bot.ActionEdit || strings.Join(a.Keywords, "|") != "paper|红色|moon" {
		t.Errorf("reply → %+v", a)
	}

	timeout.Store(int64(30 * time.Second))
	ask() // nobody answers: 30 virtual seconds pass
	if a := <-answers; a.Action != bot.ActionTimeout || strings.Join(a.Keywords, "|") != "red|lantern" {
		t.Errorf("timeout → %+v", a)
	}
	if n := len(hs.h.requests(bot.CmdSay)); n != 0 {
		t.Errorf("a keyword reply became an interjection")
	}
}

func TestStopButtonAndPersonaBots(t *testing.T) {
	t.Parallel()
	tokens := []string{"201:p1", "202:p2", "203:p3", "204:p4", "205:p5", "206:p6"}
	hs := newHarness(t, setup{personas: tokens, fakeLimits: telegramfake.TelegramLimits()})
	done := make(chan bot.Answer, 2)
	hs.h.setScript(tableScript(t, hs, done, false))
	hs.say(groupChat, ann, "/roundtable personas")
	<-done
	for i, p := range seats {
		var got []telegramfake.Message
		for _, m := range hs.botMessages(groupChat) {
			if m.Text == header(p)+body(speech(p, 40)) {
				got = append(got, m)
			}
		}
		if len(got) != 1 || got[0].Token != tokens[i] {
			t.Errorf("%s not posted by its own bot: %+v", p.ID, got)
		}
	}
	if n := hs.fake.Limited(); n != 0 {
		t.Errorf("fake sent %d 429s", n)
	}
	board := hs.findText(groupChat, "Board: done")[0]
	cb := hs.fake.Press(mainToken, groupChat, ann, board.ID, "b:stop")
	hs.eventually("stop", func() bool { return len(hs.h.requests(bot.CmdStop)) == 1 })
	hs.eventually("answered", func() bool { t, ok := hs.fake.Answered(cb); return ok && t == "ok: stop" })
}

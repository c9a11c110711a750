package discord

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/bot/discord/discordfake"
)

func TestAskKeywords(t *testing.T) {
	t.Parallel()
	hs := newHarness(t, discordfake.Limits{}, &fastLimits)
	original := []string{"red", "lantern", "spring"}

	// start runs the "ask" script and returns its thread and question message.
	start := func(t *testing.T) (string, discordfake.Message) {
		id, err := hs.fake.PostUser(hs.channel, hs.user, "ask people", true)
		if err != nil {
			t.Fatal(err)
		}
		q := hs.findMessage(id, "the question", func(m discordfake.Message) bool {
			return strings.Contains(string(m.Components), "tr:edit:"+id)
		})
		if q.WebhookID != "" || q.AuthorID != hs.fake.Bot().ID {
			t.Errorf("question sent by %q/%q, want the bot itself", q.WebhookID, q.AuthorID)
		}
		return id, q
	}
	bob := discordfake.User{ID: hs.fake.NewID(), Name: "bob"}

	t.Run("edit through the modal", func(t *testing.T) {
		id, q := start(t)
		tok, _ := hs.fake.Click(id, q.ID, "tr:edit:"+id, bob)
		in := hs.interaction(tok, func(in discordfake.Interaction) bool { return len(in.Callbacks) > 0 })
		if in.Callbacks[0] != 9 || in.Modal["custom_id"] != "tr:kw:"+id {
			t.Fatalf("edit answered %v with %v, want a modal first", in.Callbacks, in.Modal)
		}
		if !strings.Contains(mustJSON(in.Modal), "red, lantern, spring") {
			t.Errorf("modal not prefilled: %v", in.Modal)
		}
		_, _ = hs.fake.SubmitModal(id, q.ID, "tr:kw:"+id, map[string]string{"keywords": "paper, 剪纸，plum blossom"}, bob)
		res := hs.h.result(t)
		want := []string{"paper", "剪纸", "plum blossom"}
		if res.Answer.Action != bot.ActionEdit || !slices.Equal(res.Answer.Keywords, want) || res.Answer.By != "bob" {
			t.Errorf("answer = %+v", res.Answer)
		}
		hs.eventually("the question updated in place", func() bool {
			m, _ := hs.fake.Message(q.ID)
			return !strings.Contains(string(m.Components), "tr:") && strings.Contains(m.Content, "Edited by bob")
		})
	})

	t.Run("skip", func(t *testing.T) {
		id, q := start(t)
		_, _ = hs.fake.Click(id, q.ID, "tr:skip:"+id, bob)
		res := hs.h.result(t)
		if res.Answer.Action != bot.ActionSkip || !slices.Equal(res.Answer.Keywords, original) {
			t.Errorf("answer = %+v", res.Answer)
		}
		// A late click is told the question is closed.
		tok, _ := hs.fake.Click(id, q.ID, "tr:keep:"+id, hs.user)
		in := hs.interaction(tok, func(in discordfake.Interaction) bool { return in.Original != nil })
		if !in.Ephemeral || in.Original.Content != questionClosedMessage {
			t.Errorf("late click answered %q", in.Original.Content)
		}
	})

	t.Run("timeout keeps the vote", func(t *testing.T) {
		_, q := start(t)
		hs.clock.fire <- struct{}{}
		res := hs.h.result(t)
		if res.Answer.Action != bot.ActionTimeout || !slices.Equal(res.Answer.Keywords, original) {
			t.Errorf("answer = %+v", res.Answer)
		}
		m, _ := hs.fake.Message(q.ID) // edited before AskKeywords returned
		if strings.Contains(string(m.Components), "tr:") {
			t.Errorf("buttons left after the timeout: %s", m.Components)
		}
	})
	hs.noViolations()
}

func TestRunFailsOnBadToken(t *testing.T) {
	t.Parallel()
	fake := discordfake.New(discordfake.Options{Token: "right"})
	defer fake.Close()
	a, err := New(Config{Token: "wrong", APIURL: fake.URL()}, newTestHandler(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Run(context.Background()); err == nil {
		t.Fatal("Run succeeded with a bad token")
	}
}

func TestSanitizeName(t *testing.T) {
	for in, want := range map[string]string{
		"Clyde":             "Clide",
		"my DISCORD friend": "my DISC0RD friend",
		"discorddiscord":    "disc0rddisc0rd",
		"Bayar":             "Bayar",
		"巴雅尔 · craftsman":   "巴雅尔 · craftsman",
	} {
		if got := sanitizeName(in); got != want {
			t.Errorf("sanitizeName(%q) = %q, want %q", in, got, want)
		}
	}
	if n := len([]rune(personaName(bot.Persona{Name: strings.Repeat("x", 200)}))); n != 80 {
		t.Errorf("long name has %d runes, want 80", n)
	}
}

func TestCustomIDRoundTrip(t *testing.T) {
	id := customID("stop", "123456789012345678")
	if len(id) > 100 {
		t.Fatalf("custom ID %q too long", id)
	}
	act, ch, ok := parseCustomID(id)
	if !ok || act != "stop" || ch != "123456789012345678" {
		t.Errorf("parse(%q) = %q %q %v", id, act, ch, ok)
	}
	if _, _, ok := parseCustomID("other:thing"); ok {
		t.Error("foreign custom ID accepted")
	}
}

func TestUploadFilesSplitsIncompressible(t *testing.T) {
	// The cap is scaled down 100×: compressing 21 MB under the race
	// detector took most of this package's test time.
	const limit = maxUpload / 100
	data := make([]byte, 2*limit+limit/10)
	_, _ = rand.NewChaCha8([32]byte{1}).Read(data) // incompressible
	files := splitUpload(bot.Attachment{Name: "big.bin", Data: data}, limit)
	if len(files) != 3 {
		t.Fatalf("%d files, want the zip split in parts", len(files))
	}
	if files[0].Name != "big.bin.zip.001" {
		t.Errorf("first part %q", files[0].Name)
	}
}

func TestErrorMapping(t *testing.T) {
	if !errors.Is(gone(&apiError{Status: 404, Code: codeUnknownMessage}), bot.ErrGone) {
		t.Error("unknown message is not ErrGone")
	}
	if errors.Is(gone(&apiError{Status: 404, Code: codeUnknownWebhook}), bot.ErrGone) {
		t.Error("unknown webhook must be recreated, not ErrGone")
	}
	if got := redact("/api/v9/webhooks/123/secret-token/messages/9?thread_id=1"); strings.Contains(got, "secret") {
		t.Errorf("token not redacted: %s", got)
	}
}

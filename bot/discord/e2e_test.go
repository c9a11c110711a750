package discord

import (
	"bytes"
	"encoding/json"
	"flag"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/bot/discord/discordfake"
)

var update = flag.Bool("update", false, "rewrite golden files")

// personaMessages maps each persona message in a channel by username.
func personaMessages(msgs []discordfake.Message) map[string]discordfake.Message {
	out := map[string]discordfake.Message{}
	for _, m := range msgs {
		if m.WebhookID != "" {
			out[m.Username] = m // the last one wins (the sequential speech)
		}
	}
	return out
}

func TestMentionWithPhotoStreamsSixPersonasWithoutRateLimits(t *testing.T) {
	t.Parallel()
	// Discord's real limits, our default pacing; every persona in a
	// message of its own (merged stages are TestMergedStages').
	lim := DefaultLimits()
	lim.GroupHorizon = -1
	hs := newFastHarness(t, discordfake.DiscordLimits(), &lim)
	photo := discordfake.File{Name: "lantern.png", ContentType: "image/png", Data: []byte("\x89PNG fake photo bytes")}
	id, _ := hs.fake.PostUser(hs.channel, hs.user, "six design a paper-cut lantern", true, photo)

	// The people's turn is the script's last step: answer it with Keep.
	ask := hs.findMessage(id, "the people's turn", func(m discordfake.Message) bool {
		return strings.Contains(string(m.Components), "tr:keep:"+id)
	})
	tok, _ := hs.fake.Click(id, ask.ID, "tr:keep:"+id, hs.user)
	res := hs.h.result(t)

	if res.Req.Channel != "discord:"+id {
		t.Errorf("Channel = %q, want the thread started from the trigger message %s", res.Req.Channel, id)
	}
	if res.Req.Image == nil || !bytes.Equal(res.Req.Image.Data, photo.Data) || res.Req.Image.MIME != "image/png" {
		t.Errorf("Image = %+v, want the attachment's bytes", res.Req.Image)
	}
	if res.Req.Text != "six design a paper-cut lantern" {
		t.Errorf("Text = %q", res.Req.Text)
	}
	if res.Answer.Action != bot.ActionKeep || res.Answer.By != "ada" {
		t.Errorf("Answer = %+v, want keep by ada", res.Answer)
	}
	hs.interaction(tok, func(in discordfake.Interaction) bool { return len(in.Callbacks) == 1 })

	var thread *discordfake.Channel
	for _, c := range hs.fake.Channels() {
		if c.ID == id {
			thread = &c
		}
	}
	if thread == nil || thread.ParentID != hs.channel || thread.Type != 11 {
		t.Fatalf("thread = %+v, want a public thread of %s", thread, hs.channel)
	}
	if n := hs.fake.WebhookCreates(); n != DefaultWebhooks {
		t.Errorf("webhooks created = %d, want %d (DefaultWebhooks)", n, DefaultWebhooks)
	}
	msgs := hs.fake.Messages(id)
	// The six concurrent speeches go through the parent channel's
	// webhooks (the thread shares them), spread over all of them.
	parentHooks := map[string]bool{}
	for _, w := range hs.fake.Webhooks(hs.channel) {
		parentHooks[w.ID] = true
	}
	intro := map[string]int{} // webhook → speeches
	for _, p := range testPersonas {
		for _, m := range msgs {
			if m.Username == personaName(p) {
				intro[m.WebhookID]++
				if !parentHooks[m.WebhookID] {
					t.Errorf("%s's message went through webhook %q, not one of the parent channel's", p.ID, m.WebhookID)
				}
				break
			}
		}
	}
	if len(intro) != DefaultWebhooks {
		t.Errorf("the six speeches went through %d webhooks (%v), want all %d", len(intro), intro, DefaultWebhooks)
	}
	byName := personaMessages(msgs)
	for _, p := range append([]bot.Persona{moderator}, testPersonas...) {
		m, ok := byName[personaName(p)]
		if !ok {
			t.Errorf("no message from %q", personaName(p))
			continue
		}
		if want := res.Finals[p.ID]; m.Content != want {
			t.Errorf("%s final = %q, want %q", p.ID, m.Content, want)
		}
		if m.Flags&4 == 0 {
			t.Errorf("%s: SUPPRESS_EMBEDS not set", p.ID)
		}
		// The placeholder, or the words that arrived while the create
		// waited for a slot.
		if first := m.History[0]; first != "…" && !strings.HasPrefix(res.Finals[p.ID], first) {
			t.Errorf("%s: first content %q, want the placeholder or the start of the text", p.ID, first)
		}
	}
	if len(byName) != 7 {
		t.Errorf("%d distinct usernames, want 7 (moderator + six)", len(byName))
	}
	if _, ok := byName["🎨 Clide the Disc0rd fan · designer"]; !ok {
		t.Errorf("designer's name not sanitised: %v", keys(byName))
	}
	board := byName[personaName(moderator)]
	if !strings.Contains(string(board.Components), `"tr:stop:`+id+`"`) {
		t.Errorf("board components = %s, want a Stop button", board.Components)
	}
	if n := hs.fake.RateLimited(); n != 0 {
		t.Errorf("fake sent %d 429s, want 0", n)
	}
	hs.noViolations()

	// The Stop button reaches the handler as CmdStop for the thread.
	stop, _ := hs.fake.Click(id, board.ID, "tr:stop:"+id, hs.user)
	in := hs.interaction(stop, func(in discordfake.Interaction) bool { return in.Original != nil && in.Original.Content != "" })
	if !in.Ephemeral || in.Callbacks[0] != 5 || in.Original.Content != "stop for discord:"+id {
		t.Errorf("stop answered %+v / %q", in.Callbacks, in.Original.Content)
	}
}

func keys(m map[string]discordfake.Message) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestWebhookReusedAndRecreatedAfter404(t *testing.T) {
	t.Parallel()
	hs := newHarness(t, discordfake.Limits{}, &fastLimits)
	hs.mention("quick one")
	hs.mention("quick two")
	if n := hs.fake.WebhookCreates(); n != 1 {
		t.Fatalf("webhooks created = %d after two sessions, want 1 (reused)", n)
	}
	for _, w := range hs.fake.Webhooks(hs.channel) {
		hs.fake.DeleteWebhook(w.ID)
	}
	id, res := hs.mention("quick three")
	if n := hs.fake.WebhookCreates(); n != 2 {
		t.Errorf("webhooks created = %d, want 2 (recreated after 404)", n)
	}
	got := personaMessages(hs.fake.Messages(id))[personaName(testPersonas[0])]
	if got.Content != res.Finals["craftsman"] {
		t.Errorf("final = %q", got.Content)
	}
	hs.noViolations()
}

func TestWebhooksReusedAfterRestart(t *testing.T) {
	t.Parallel()
	hs := newHarness(t, discordfake.Limits{}, &fastLimits)
	hs.mention("table before the restart")
	created := hs.fake.WebhookCreates()
	if created != DefaultWebhooks {
		t.Fatalf("webhooks created = %d, want %d (DefaultWebhooks)", created, DefaultWebhooks)
	}
	// Someone else's webhook in the channel is never ours to use.
	foreign := hs.fake.AddWebhook(discordfake.Webhook{ChannelID: hs.channel, ApplicationID: "42", Name: "Other bot"})
	hs.restart()
	id, res := hs.mention("table after the restart")
	if n := hs.fake.WebhookCreates(); n != created {
		t.Errorf("webhooks created = %d after a restart, want still %d (found again by application ID)", n, created)
	}
	byName := personaMessages(hs.fake.Messages(id))
	for _, p := range testPersonas {
		m := byName[personaName(p)]
		if m.Content != res.Finals[p.ID] {
			t.Errorf("%s final = %q, want %q", p.ID, m.Content, res.Finals[p.ID])
		}
		if m.WebhookID == foreign.ID {
			t.Errorf("%s posted through another integration's webhook", p.ID)
		}
	}
	hs.noViolations()
}

func TestWebhookPoolStopsAtDiscordsCap(t *testing.T) {
	t.Parallel()
	hs := newHarness(t, discordfake.Limits{}, &fastLimits)
	for range discordfake.MaxWebhooksPerChannel - 1 { // other integrations hold 14 of the 15
		hs.fake.AddWebhook(discordfake.Webhook{ChannelID: hs.channel, ApplicationID: "42"})
	}
	id, res := hs.mention("table at the cap")
	if n := hs.fake.WebhookCreates(); n != 1 {
		t.Errorf("webhooks created = %d, want the 1 Discord still allows", n)
	}
	if n := len(hs.fake.Webhooks(hs.channel)); n != discordfake.MaxWebhooksPerChannel {
		t.Errorf("%d webhooks in the channel, want %d", n, discordfake.MaxWebhooksPerChannel)
	}
	ours := map[string]bool{}
	for _, m := range hs.fake.Messages(id) {
		if m.WebhookID != "" {
			ours[m.WebhookID] = true
		}
	}
	if len(ours) != 1 {
		t.Errorf("persona messages used %d webhooks, want the 1 the bot has", len(ours))
	}
	byName := personaMessages(hs.fake.Messages(id))
	for _, p := range testPersonas {
		if got := byName[personaName(p)].Content; got != res.Finals[p.ID] {
			t.Errorf("%s final = %q, want %q", p.ID, got, res.Finals[p.ID])
		}
	}
	if n := hs.fake.Requests("POST /channels/{id}/webhooks"); n != 2 {
		t.Errorf("%d webhook creates tried, want 2 (the second refused, then no more)", n)
	}
	hs.noViolations()
}

func TestRateLimitStormIsRiddenOut(t *testing.T) {
	t.Parallel()
	hs := newHarness(t, discordfake.Limits{}, &fastLimits)
	hs.fake.Storm(12, 20e6) // 12 × 429 with retry_after 20 ms
	id, res := hs.mention("storm")
	if n := hs.fake.RateLimited(); n != 12 {
		t.Errorf("429s = %d, want the 12 injected", n)
	}
	byName := personaMessages(hs.fake.Messages(id))
	for _, p := range testPersonas[1:] {
		if got := byName[personaName(p)].Content; got != res.Finals[p.ID] {
			t.Errorf("%s final = %q, want %q", p.ID, got, res.Finals[p.ID])
		}
	}
	hs.noViolations()
}

func TestLongSpeechSplitsAt2000WithCodeBlocksIntact(t *testing.T) {
	t.Parallel()
	hs := newHarness(t, discordfake.Limits{}, &fastLimits)
	id, res := hs.mention("split the plan")
	var parts []string
	for _, m := range hs.fake.Messages(id) {
		if m.WebhookID != "" {
			parts = append(parts, m.Content)
		}
	}
	if len(parts) < 3 {
		t.Fatalf("%d parts, want ≥ 3", len(parts))
	}
	for i, p := range parts {
		if n := len([]rune(p)); n > 2000 {
			t.Errorf("part %d has %d characters", i, n)
		}
		if strings.Count(p, "```")%2 != 0 {
			t.Errorf("part %d leaves a code block open", i)
		}
	}
	if joined := strings.Join(parts, ""); !strings.Contains(joined, "row 69") || !strings.HasSuffix(joined, "That is the whole plan.") {
		t.Errorf("text lost: %q", joined[len(joined)-80:])
	}
	golden(t, "split.golden", strings.Join(parts, "\n===== next message =====\n"))
	_ = res
	hs.noViolations()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the output (run with -update to see)", path)
	}
}

func TestFallbackWithoutManageWebhooks(t *testing.T) {
	t.Parallel()
	hs := newHarness(t, discordfake.Limits{}, &fastLimits)
	hs.fake.SetChannel(hs.channel, true, false)
	id1, res := hs.mention("quick first")
	id2, _ := hs.mention("quick second")
	if n := hs.fake.WebhookCreates(); n != 0 {
		t.Errorf("webhooks created = %d, want 0", n)
	}
	notices := 0
	for _, ch := range []string{id1, id2} {
		for _, m := range hs.fake.Messages(ch) {
			if m.WebhookID != "" {
				t.Errorf("webhook message in fallback: %+v", m)
			}
			if strings.Contains(m.Content, "Manage Webhooks") {
				notices++
			}
		}
	}
	if notices != 1 {
		t.Errorf("%d fallback notices, want exactly 1", notices)
	}
	var speech *discordfake.Message
	for _, m := range hs.fake.Messages(id1) {
		if len(m.Embeds) > 0 {
			speech = &m
		}
	}
	if speech == nil {
		t.Fatal("no embed message from the persona")
	}
	author, _ := speech.Embeds[0]["author"].(map[string]any)
	if author["name"] != personaName(testPersonas[0]) || speech.Embeds[0]["description"] != res.Finals["craftsman"] {
		t.Errorf("embed = %v", speech.Embeds[0])
	}
	hs.noViolations()
}

func TestSlashCommands(t *testing.T) {
	t.Parallel()
	hs := newHarness(t, discordfake.Limits{}, &fastLimits)
	var cmds []map[string]any
	if err := json.Unmarshal(hs.fake.Commands(hs.guild), &cmds); err != nil || len(cmds) != 1 || cmds[0]["name"] != "roundtable" {
		t.Fatalf("registered commands = %s (%v)", hs.fake.Commands(hs.guild), err)
	}

	photo := &discordfake.File{Name: "cut.jpg", ContentType: "image/jpeg", Data: []byte("jpeg bytes")}
	tok, _ := hs.fake.SlashCommand(discordfake.Slash{Channel: hs.channel, User: hs.user, Command: "roundtable", Sub: "start",
		Options: map[string]any{"topic": "quick slash lantern", "turns": 3, "language": "zh"}, Image: photo})
	res := hs.h.result(t)
	thread := strings.TrimPrefix(res.Req.Channel, "discord:")
	if thread == hs.channel || res.Req.Options["turns"] != "3" || res.Req.Options["language"] != "zh" {
		t.Errorf("start request = %+v", res.Req)
	}
	if res.Req.Image == nil || string(res.Req.Image.Data) != "jpeg bytes" {
		t.Errorf("image = %+v", res.Req.Image)
	}
	in := hs.interaction(tok, func(in discordfake.Interaction) bool { return in.Original != nil && in.Original.Content != "" })
	if !in.Ephemeral || in.Callbacks[0] != 5 || !strings.Contains(in.Original.Content, "<#"+thread+">") {
		t.Errorf("start answered %+v ephemeral=%v %q", in.Callbacks, in.Ephemeral, in.Original.Content)
	}
	starter, ok := hs.fake.Message(thread)
	if !ok || starter.ChannelID != hs.channel || !strings.Contains(starter.Content, "quick slash lantern") {
		t.Errorf("starter message = %+v", starter)
	}

	for _, tc := range []struct {
		sub       string
		opts      map[string]any
		want      string
		ephemeral bool
	}{
		{"status", nil, "status for discord:" + thread, true},
		{"stop", nil, "stop for discord:" + thread, true},
		{"personas", nil, "personas for discord:" + thread, false},
		{"forget", nil, "forget for discord:" + thread, true},
		{"help", nil, "help for discord:" + thread, true},
	} {
		t.Run(tc.sub, func(t *testing.T) {
			tok, _ := hs.fake.SlashCommand(discordfake.Slash{Channel: hs.channel, User: hs.user, Command: "roundtable", Sub: tc.sub, Options: tc.opts})
			in := hs.interaction(tok, func(in discordfake.Interaction) bool { return in.Original != nil && in.Original.Content != "" })
			if in.Original.Content != tc.want || in.Ephemeral != tc.ephemeral {
				t.Errorf("got %q ephemeral=%v, want %q ephemeral=%v", in.Original.Content, in.Ephemeral, tc.want, tc.ephemeral)
			}
		})
	}

	t.Run("say", func(t *testing.T) {
		tok, _ := hs.fake.SlashCommand(discordfake.Slash{Channel: thread, User: hs.user, Command: "roundtable", Sub: "say", Options: map[string]any{"text": "make it red"}})
		hs.interaction(tok, func(in discordfake.Interaction) bool { return in.Original != nil && in.Original.Content != "" })
		says := hs.h.requests(bot.CmdSay)
		if len(says) != 1 || says[0].Text != "make it red" || says[0].Channel != "discord:"+thread {
			t.Errorf("say requests = %+v", says)
		}
	})

	t.Run("export zips a big file", func(t *testing.T) {
		// The upload cap is scaled down tenfold: zipping 11 MB under the
		// race detector took seconds.
		hs.a.replies.upload.Store(maxUpload / 10)
		defer hs.a.replies.upload.Store(maxUpload)
		hs.h.mu.Lock()
		hs.h.file = &bot.Attachment{Name: "session.md", MIME: "text/markdown", Data: bytes.Repeat([]byte("lantern "), 11<<14)}
		hs.h.mu.Unlock()
		tok, _ := hs.fake.SlashCommand(discordfake.Slash{Channel: thread, User: hs.user, Command: "roundtable", Sub: "export", Options: map[string]any{"format": "md"}})
		in := hs.interaction(tok, func(in discordfake.Interaction) bool { return in.Original != nil && len(in.Original.Files) > 0 })
		f := in.Original.Files[0]
		if in.Ephemeral || f.Name != "session.md.zip" || len(f.Data) > maxUpload/10 {
			t.Errorf("export file %s (%d bytes), ephemeral=%v", f.Name, len(f.Data), in.Ephemeral)
		}
	})

	t.Run("export attaches the diagram as a PNG", func(t *testing.T) {
		var b bytes.Buffer
		if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 40, 30))); err != nil {
			t.Fatal(err)
		}
		hs.h.mu.Lock()
		hs.h.file = &bot.Attachment{Name: "session.md", MIME: "text/markdown", Data: []byte("# Lanterns")}
		hs.h.images = []bot.Attachment{{Name: "diagram.png", MIME: "image/png", Data: b.Bytes()}}
		hs.h.mu.Unlock()
		defer func() { hs.h.mu.Lock(); hs.h.images = nil; hs.h.mu.Unlock() }()
		tok, _ := hs.fake.SlashCommand(discordfake.Slash{Channel: thread, User: hs.user, Command: "roundtable", Sub: "export", Options: map[string]any{"format": "md"}})
		in := hs.interaction(tok, func(in discordfake.Interaction) bool { return in.Original != nil && len(in.Original.Files) > 0 })
		names := map[string][]byte{}
		for _, f := range in.Original.Files {
			names[f.Name] = f.Data
		}
		if string(names["session.md"]) != "# Lanterns" {
			t.Errorf("export file missing beside the diagram: %d files", len(in.Original.Files))
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(names["diagram.png"]))
		if err != nil || cfg.Width != 40 || cfg.Height != 30 {
			t.Errorf("diagram.png in the response: %dx%d, %v; want a 40x30 PNG", cfg.Width, cfg.Height, err)
		}
	})

	t.Run("mention in the session thread is an interjection", func(t *testing.T) {
		before := len(hs.h.requests(bot.CmdSay))
		_, _ = hs.fake.PostUser(thread, hs.user, "what about blue?", true)
		hs.eventually("CmdSay", func() bool { return len(hs.h.requests(bot.CmdSay)) == before+1 })
		r := hs.h.requests(bot.CmdSay)[before]
		if r.Text != "what about blue?" || r.Channel != "discord:"+thread || r.Unaddressed {
			t.Errorf("say = %+v", r)
		}
	})
	hs.noViolations()
}

func TestGatewayDropIsResumed(t *testing.T) {
	t.Parallel()
	hs := newHarness(t, discordfake.Limits{}, &fastLimits)
	hs.fake.DropConnections()
	hs.eventually("resume", func() bool { return hs.fake.Resumes() == 1 && hs.fake.Connected() == 1 })
	hs.mention("quick after resume")
	if n := hs.fake.Identifies(); n != 1 {
		t.Errorf("identifies = %d, want 1 (resumed, not re-identified)", n)
	}
}

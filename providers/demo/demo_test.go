package demo

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tableround/tableround/providers"
)

func req(tag, system, user string) providers.Request {
	return providers.Request{Tag: tag, Messages: []providers.Message{
		{Role: providers.RoleSystem, Content: system}, {Role: providers.RoleUser, Content: user}}}
}

func TestStructuredStagesParse(t *testing.T) {
	cands := `Candidate keywords: ["red paper","cloud motif","tassel","lattice"]` + "\n" +
		`Reply with JSON only: [{"keyword": "…", "reason": "one short line"}]`
	cases := []struct {
		name, tag, user string
		check           func(t *testing.T, out string)
	}{
		{"keywords", "keywords/craftsman/en", "pick up to 10", func(t *testing.T, out string) {
			var l []string
			if err := json.Unmarshal([]byte(out), &l); err != nil || len(l) == 0 {
				t.Fatalf("not a JSON list: %q", out)
			}
		}},
		{"votes come from the candidates", "voting/designer/en", cands, func(t *testing.T, out string) {
			var v []struct{ Keyword, Reason string }
			if err := json.Unmarshal([]byte(out), &v); err != nil || len(v) < 3 {
				t.Fatalf("ballot %q: %v", out, err)
			}
			for _, b := range v {
				if !strings.Contains(cands, `"`+b.Keyword+`"`) || b.Reason == "" {
					t.Fatalf("vote %+v is not a candidate with a reason", b)
				}
			}
		}},
		{"kj groups every candidate", "kj/moderator/zh", cands, func(t *testing.T, out string) {
			var kj struct {
				Groups []struct{ Keywords []string }
			}
			if err := json.Unmarshal([]byte(out), &kj); err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, g := range kj.Groups {
				n += len(g.Keywords)
			}
			if n != 4 {
				t.Fatalf("grouped %d of 4: %s", n, out)
			}
		}},
		{"story ends with keywords", "image_stories/x/en", "", func(t *testing.T, out string) {
			if !strings.Contains(out, "\nKeywords: [") {
				t.Fatalf("story %q", out)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.check(t, Reply(req(c.tag, "You are Bayar, 60, x.", c.user))) })
	}
}

func TestRoleAwareAndBilingual(t *testing.T) {
	en := Reply(req("introductions/manufacturer/en", "You are Li, 35, x. At this table you take the part of the manufacturer: you care", ""))
	if !strings.Contains(en, "Li") || !strings.Contains(en, "cost") {
		t.Fatalf("manufacturer intro: %q", en)
	}
	zh := Reply(req("introductions/craftsman/zh", "你是巴雅尔，60岁，x。在这张圆桌上你担任手工艺人：你关心", "圆桌主题：«剪纸»"))
	if !strings.Contains(zh, "巴雅尔") || !strings.Contains(zh, "剪纸") || !strings.Contains(zh, "手上的功夫") {
		t.Fatalf("zh intro: %q", zh)
	}
}

func TestStreamsInChunksAtThePaceAsked(t *testing.T) {
	var rec pace
	m := New(Options{FirstToken: 300 * time.Millisecond, TokensPerSecond: 40, ChunkTokens: 4, Clock: &rec})
	slept := func() []time.Duration { return rec.slept }
	var got strings.Builder
	chunks := 0
	r := req("discussion/designer/en", "You are Lin, 26, x.", "")
	resp, err := m.Stream(context.Background(), r, func(d providers.Delta) error {
		chunks++
		got.WriteString(d.Text)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != Reply(r) || resp.Text != got.String() || chunks < 5 {
		t.Fatalf("chunks %d, text %q", chunks, got.String())
	}
	if s := slept(); s[0] != 300*time.Millisecond || s[1] != 100*time.Millisecond || len(s) != chunks {
		t.Fatalf("sleeps %v", s)
	}
	if resp.Usage.Calls != 1 || resp.Usage.OutputTokens == 0 {
		t.Fatalf("usage %+v", resp.Usage)
	}
}

// TestCachedTokens: the demo model counts a repeated prompt prefix as
// cached once a call with it has been answered.
func TestCachedTokens(t *testing.T) {
	m := New(Options{})
	ctx := strings.Repeat("The discussion so far: red paper folds well. ", 40)
	req := func(task string) providers.Request {
		return providers.Request{Tag: "discussion/designer/en", Messages: []providers.Message{
			{Role: providers.RoleSystem, Content: "rules"}, {Role: providers.RoleUser, Content: ctx},
			{Role: providers.RoleSystem, Content: "You are Lin Siyu, 26."}, {Role: providers.RoleUser, Content: task}}}
	}
	first, err := m.Stream(context.Background(), req("Round 1 of 2."), func(providers.Delta) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	second, err := m.Stream(context.Background(), req("Round 2 of 2."), func(providers.Delta) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if first.Usage.CachedInputTokens != 0 {
		t.Errorf("first call cached %d", first.Usage.CachedInputTokens)
	}
	u := second.Usage
	if u.CachedInputTokens < 64 || u.CachedInputTokens%64 != 0 || u.CachedInputTokens >= u.InputTokens {
		t.Errorf("second call: %+v", u)
	}
}

// pace is a clock.Clock that records the waits asked of it and never waits:
// the test checks the pace, not the waiting.
type pace struct{ slept []time.Duration }

func (p *pace) Now() time.Time { return time.Time{} }

func (p *pace) Sleep(ctx context.Context, d time.Duration) error {
	p.slept = append(p.slept, d)
	return ctx.Err()
}

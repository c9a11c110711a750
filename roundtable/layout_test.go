package roundtable

import (
	"strings"
	"testing"

	"github.com/tableround/tableround/memory"
	"github.com/tableround/tableround/providers"
)

// sharedPrefix is what a seat's call shares with the other seats: the
// table's rules and the context message ("" when the call has none).
func sharedPrefix(r providers.Request) (string, bool) {
	if len(r.Messages) != 4 || r.Messages[0].Role != providers.RoleSystem || r.Messages[1].Role != providers.RoleUser ||
		r.Messages[2].Role != providers.RoleSystem || r.Messages[3].Role != providers.RoleUser {
		return "", false
	}
	return r.Messages[0].Content + "\x00" + r.Messages[1].Content, true
}

// TestPromptLayout runs whole sessions and checks the layout the prompt
// caches need: all seats of a concurrent stage send the same shared
// prefix, the persona card comes after it in a system message, and within
// a session the prefix only grows by appending, except right after a
// summary block.
func TestPromptLayout(t *testing.T) {
	for _, tc := range []struct {
		name      string
		lang      string
		budget    int
		summaries bool
	}{
		{"no summary", "en", 100000, false},
		{"summary blocks", "en", 300, true},
		{"Chinese", "zh", 100000, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newMemStore()
			st.mems["test:1"] = []memory.Memory{{Topic: "kites", Keywords: []string{"red paper", "bamboo"}}}
			m := newScripted()
			cfg := testConfig()
			cfg.ContextBudget, cfg.Language = tc.budget, tc.lang
			if _, err := runSession(t, cfg, testDeps(m, st), &fakeConv{}, Start{Topic: "a paper-cut bookmark", Image: []byte("photo")}); err != nil {
				t.Fatal(err)
			}
			m.mu.Lock()
			reqs := append([]providers.Request(nil), m.reqs...)
			m.mu.Unlock()

			byStage := map[string][]string{}
			prev, summaries, grew, calls := "", 0, 0, 0
			afterSummary := false
			for _, r := range reqs {
				stage := stageOf(r)
				if stage == "summary" {
					summaries++
					afterSummary = true
					continue
				}
				if strings.Contains(r.Tag, "/moderator/") {
					continue
				}
				p, ok := sharedPrefix(r)
				if !ok {
					t.Fatalf("%s: messages are not rules, context, persona, task: %+v", r.Tag, r.Messages)
				}
				if !strings.Contains(r.Messages[2].Content, "You are") && !strings.Contains(r.Messages[2].Content, "你是") {
					t.Fatalf("%s: the persona card does not say who speaks: %q", r.Tag, r.Messages[2].Content)
				}
				calls++
				switch {
				case strings.HasPrefix(p, prev):
					if len(p) > len(prev) {
						grew++
					}
				case afterSummary:
				default:
					t.Fatalf("%s: the shared prefix changed without a summary block\nbefore: %q\nafter:  %q", r.Tag, prev, p)
				}
				prev, afterSummary = p, false
				if r.Tag != "" && isConcurrent(stage) {
					byStage[stage] = append(byStage[stage], p)
				}
			}
			for stage, ps := range byStage {
				if len(ps) != 6 {
					t.Fatalf("%s: %d calls", stage, len(ps))
				}
				for _, p := range ps[1:] {
					if p != ps[0] {
						t.Errorf("%s: seats' shared prefixes differ", stage)
					}
				}
			}
			if tc.summaries != (summaries > 0) {
				t.Fatalf("%d summary calls", summaries)
			}
			if calls < 40 || grew < 10 {
				t.Fatalf("%d seat calls, the prefix grew %d times", calls, grew)
			}
		})
	}
}

func isConcurrent(stage string) bool {
	switch stage {
	case StageIntro, StagePhoto, StageKeywords, StageVoting, StageCards:
		return true
	}
	return false
}

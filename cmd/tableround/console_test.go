package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/providers/demo"
	"github.com/tableround/tableround/providers/providertest"
	"github.com/tableround/tableround/roundtable"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/store/bolt"
	"github.com/tableround/tableround/transcript"
)

type wireRequest struct {
	Stage, System, User string
	ImageURLs           []string
}

func decodeWire(t *testing.T, body []byte) wireRequest {
	var req struct {
		Messages []struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		t.Errorf("fake: bad request body: %v", err)
	}
	var w wireRequest
	for _, m := range req.Messages {
		var s string
		if json.Unmarshal(m.Content, &s) != nil {
			var parts []struct {
				Type     string `json:"type"`
				Text     string `json:"text"`
				ImageURL struct {
					URL string `json:"url"`
				} `json:"image_url"`
			}
			_ = json.Unmarshal(m.Content, &parts)
			for _, p := range parts {
				s += p.Text
				if p.ImageURL.URL != "" {
					w.ImageURLs = append(w.ImageURLs, p.ImageURL.URL)
				}
			}
		}
		if m.Role == "system" {
			w.System = s
		} else {
			// The shared context and the task are two user messages
			// (roundtable lays prompts out for the providers' caches):
			// User holds both, the stage is the task's.
			if w.User != "" {
				w.User += "\n\n"
			}
			w.User += s
			w.Stage = roundtable.StageOfPrompt(s)
		}
	}
	return w
}

// tableFake answers like a model would, holding the calls of each
// concurrent stage until all six are open.
type tableFake struct {
	*providertest.OpenAI
	t      *testing.T
	mu     sync.Mutex
	gates  map[string]chan struct{}
	counts map[string]int
	log    []wireRequest
	fail   func(w wireRequest) *providertest.Reply
}

var concurrentStages = map[string]bool{roundtable.StageIntro: true, roundtable.StagePhoto: true,
	roundtable.StageKeywords: true, roundtable.StageVoting: true, roundtable.StageCards: true}

func newTableFake(t *testing.T) *tableFake {
	f := &tableFake{OpenAI: providertest.NewOpenAI(t), t: t, gates: map[string]chan struct{}{}, counts: map[string]int{}}
	f.RespondWith(f.respond)
	return f
}

func (f *tableFake) respond(r providertest.Request) providertest.Reply {
	w := decodeWire(f.t, r.Body)
	f.mu.Lock()
	f.log = append(f.log, w)
	var gate chan struct{}
	if concurrentStages[w.Stage] {
		if f.gates[w.Stage] == nil {
			f.gates[w.Stage] = make(chan struct{})
		}
		gate = f.gates[w.Stage]
		if f.counts[w.Stage]++; f.counts[w.Stage] == 6 {
			close(gate)
		}
	}
	fail := f.fail
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-time.After(30 * time.Second): // safety net: fails the test, never slows a passing one
			f.t.Errorf("stage %s: the six calls were not open at the same time", w.Stage)
			return providertest.Reply{Status: 500, Body: `{"error":{"message":"barrier"}}`}
		}
	}
	if fail != nil {
		if r := fail(w); r != nil {
			return *r
		}
	}
	name := w.System
	if m := regexp.MustCompile(`You are ([^,]+),`).FindStringSubmatch(w.System); m != nil {
		name = m[1]
	}
	text := demo.Reply(providers.Request{Tag: w.Stage + "/" + name + "/en", Messages: []providers.Message{
		{Role: providers.RoleSystem, Content: w.System}, {Role: providers.RoleUser, Content: w.User}}})
	return providertest.Reply{Text: text, ChunkSize: 7}
}

func (f *tableFake) requests(stage string) []wireRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []wireRequest
	for _, w := range f.log {
		if w.Stage == stage {
			out = append(out, w)
		}
	}
	return out
}

func writePNG(t *testing.T, dir string) string {
	img := image.NewNRGBA(image.Rect(0, 0, 40, 30))
	for x := 0; x < 40; x++ {
		for y := 0; y < 30; y++ {
			img.Set(x, y, color.NRGBA{R: uint8(x * 6), G: 40, B: 90, A: 255})
		}
	}
	path := filepath.Join(dir, "photo.png")
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// testEnv is the environment of a command under test, to pass through
// envOf: a fresh data directory, the demo model's instant pace. Commands
// read nothing else (not the process environment, not ./.env), so a
// developer's settings never leak in and tests run side by side.
func testEnv(t *testing.T) (dir string, env map[string]string) {
	dir = t.TempDir()
	return dir, map[string]string{
		"DATA_DIR":  filepath.Join(dir, "data"),
		"DEMO_PACE": "instant",
		// The table fake holds each concurrent stage until its six calls
		// are open at once, which proves they run concurrently; a staggered
		// stage (one call first, roundtable's TestStaggeredStages) would
		// never open six.
		"STAGGER_MIN_TOKENS": "0",
	}
}

// envOf is an environment of exactly the variables in m (a copy: the test
// may go on changing m); an empty value counts as unset, as in lookuper.
func envOf(m map[string]string) environ {
	m = maps.Clone(m)
	return func() (envconfig.Lookuper, error) { return nonEmpty{envconfig.MapLookuper(m)}, nil }
}

func openTestStore(t *testing.T, dir string) *bolt.Store {
	st, err := bolt.Open(filepath.Join(dir, "data", "tableround.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

var sessionLine = regexp.MustCompile(`Session ([0-9a-f]{12})`)

func TestConsoleSessionEndToEnd(t *testing.T) {
	t.Parallel()
	dir, env := testEnv(t)
	fake := newTableFake(t)
	photo := writePNG(t, dir)
	env["AI_PROVIDER"] = "openai"
	env["AI_BASE_URL"] = fake.BaseURL()
	env["AI_API_KEY"] = "sk-test-secret"
	env["AI_MODEL"] = "fake-model"
	env["IMAGE_PROVIDER"] = "none"

	var out, errb bytes.Buffer
	code := run(context.Background(), envOf(env), []string{"console", "Design a paper-cut", "bookmark", "--image", photo, "--yes"},
		strings.NewReader(""), &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d\nstderr: %s\nstdout: %s", code, errb.String(), out.String())
	}
	m := sessionLine.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no session ID in output:\n%s", out.String())
	}
	id := m[1]
	st := openTestStore(t, dir)
	evs, err := st.Events(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var stages []string
	var failures []string
	byType := map[string][]store.Event{}
	for _, e := range evs {
		byType[e.Type] = append(byType[e.Type], e)
		if e.Type == transcript.EventStage {
			stages = append(stages, e.Stage)
		}
		if e.Type == transcript.EventFailure {
			failures = append(failures, e.Seat+": "+e.Text)
		}
	}
	want := []string{"opening", "introductions", "image_stories", "discussion", "keywords", "kj", "voting", "people",
		"role_switch", "workshop", "design_cards", "final_design", "closing"}
	if strings.Join(stages, " ") != strings.Join(want, " ") {
		t.Fatalf("stages:\n got %v\nwant %v", stages, want)
	}
	if len(failures) > 0 {
		t.Fatalf("failures: %v", failures)
	}
	// The output shows every stage banner in order and every persona.
	text := out.String()
	last := -1
	for _, banner := range []string{"Opening", "Introductions", "Stories from the photo", "Discussion", "Keyword extraction",
		"KJ grouping", "Voting", "The people's turn", "Role switch", "Workshop in new roles", "Design cards", "Final design", "Closing"} {
		i := strings.Index(text, "── "+banner+" ──")
		if i < 0 || i < last {
			t.Fatalf("banner %q missing or out of order in output", banner)
		}
		last = i
	}
	for _, name := range []string{"Bayar", "Aygul", "Li Zhiqiang", "Zhang Xiaoya", "Lin Siyu", "Wang Xiaomeng"} {
		if !strings.Contains(text, name) {
			t.Fatalf("output lacks %s", name)
		}
	}
	if strings.Contains(text+errb.String(), "sk-test-secret") {
		t.Fatal("the API key leaked into the output")
	}

	// The photo went to the model once, as the real MIME type.
	vision := fake.requests("vision")
	if len(vision) != 1 || len(vision[0].ImageURLs) != 1 || !strings.HasPrefix(vision[0].ImageURLs[0], "data:image/") {
		t.Fatalf("vision requests: %d %+v", len(vision), vision)
	}
	// Discussion speaker k sees the earlier speakers' words.
	disc := fake.requests(roundtable.StageDiscussion)
	var said []string
	for _, e := range byType[transcript.EventSpeech] {
		if e.Stage == roundtable.StageDiscussion {
			said = append(said, e.Text)
		}
	}
	if len(disc) != 12 || len(said) != 12 {
		t.Fatalf("discussion: %d requests, %d speeches", len(disc), len(said))
	}
	for k := range disc {
		for j := 0; j < k; j++ {
			if !strings.Contains(disc[k].User, said[j]) {
				t.Fatalf("speaker %d's prompt lacks speaker %d's words", k, j)
			}
		}
	}
	// The image prompt comes from the voted keywords and the design cards.
	var result transcript.VoteResult
	_ = json.Unmarshal(byType[transcript.EventVoteResult][0].Data, &result)
	prompt := byType[transcript.EventImagePrompt][0].Text
	for _, k := range result.Keywords {
		if !strings.Contains(prompt, k) {
			t.Fatalf("image prompt lacks voted keyword %q:\n%s", k, prompt)
		}
	}
	if !strings.Contains(prompt, "laminated rice paper") {
		t.Fatalf("image prompt lacks the design cards' materials:\n%s", prompt)
	}
	// The transcript was saved where the output says.
	if _, err := os.Stat(filepath.Join(dir, "data", "exports", id+".md")); err != nil {
		t.Fatalf("transcript not saved: %v", err)
	}
}

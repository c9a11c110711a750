package main

import (
	"bytes"
	"context"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tableround/tableround/providers/providertest"
	"github.com/tableround/tableround/roundtable"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/transcript"
)

func TestConfigErrorsExit2(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want string // the variable the one-line error names
	}{
		{"missing key", map[string]string{"AI_PROVIDER": "openrouter"}, []string{"console", "topic"}, "OPENROUTER_API_KEY"},
		{"bad base URL", map[string]string{"AI_BASE_URL": "not a url", "AI_API_KEY": "k"}, []string{"console", "topic"}, "AI_BASE_URL"},
		{"unknown provider", map[string]string{"AI_PROVIDER": "skynet"}, []string{"console", "topic"}, "AI_PROVIDER"},
		{"bad turns", map[string]string{"MAX_TURNS": "0"}, []string{"console", "topic"}, "MAX_TURNS"},
		{"bad threshold", map[string]string{"VOTING_THRESHOLD": "abc"}, []string{"console", "topic"}, "VOTING_THRESHOLD"},
		{"no topic", nil, []string{"console", "--yes"}, "topic"},
		{"bad flag", nil, []string{"console", "t", "--turns", "99"}, "--turns"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, env := testEnv(t)
			maps.Copy(env, c.env)
			var out, errb bytes.Buffer
			code := run(context.Background(), envOf(env), c.args, strings.NewReader(""), &out, &errb)
			if code != exitUsage {
				t.Fatalf("exit %d, want 2; stderr %q", code, errb.String())
			}
			msg := strings.TrimSpace(errb.String())
			if strings.Count(msg, "\n") != 0 || !strings.Contains(msg, c.want) {
				t.Fatalf("want one line naming %s, got %q", c.want, msg)
			}
		})
	}
}

func TestUnreadableImageFailsBeforeTheSession(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, content string }{
		{"missing", ""},
		{"not an image", "this is text, not a photo"},
		{"truncated png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir, env := testEnv(t)
			env["AI_PROVIDER"] = "demo"
			path := filepath.Join(dir, "photo.jpg")
			if c.content != "" {
				if err := os.WriteFile(path, []byte(c.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var out, errb bytes.Buffer
			code := run(context.Background(), envOf(env), []string{"console", "topic", "--image", path, "--yes"}, strings.NewReader(""), &out, &errb)
			if code != exitFailure {
				t.Fatalf("exit %d, want 1; stderr %q", code, errb.String())
			}
			if out.Len() != 0 && strings.Contains(out.String(), "──") {
				t.Fatalf("the session started:\n%s", out.String())
			}
			if strings.TrimSpace(errb.String()) == "" {
				t.Fatal("no error message")
			}
		})
	}
}

// A model that fails for one seat (500s, then garbage) has that seat's turn
// marked failed; the session goes on and finishes.
func TestFailingSeatDoesNotStopTheSession(t *testing.T) {
	t.Parallel()
	dir, env := testEnv(t)
	fake := newTableFake(t)
	fake.fail = func(w wireRequest) *providertest.Reply {
		if w.Stage == roundtable.StageDiscussion && strings.Contains(w.System, "You are Li Zhiqiang") {
			if strings.Contains(w.User, "Round 1 ") {
				// The server's retry hint (honoured, as always) keeps the test
				// from waiting out the default backoff.
				return &providertest.Reply{Status: 500, Header: map[string]string{"Retry-After": "0.01"}, Body: `{"error":{"message":"boom"}}`}
			}
			return &providertest.Reply{Before: []string{"data: {not json"}}
		}
		return nil
	}
	env["AI_PROVIDER"] = "openai"
	env["AI_BASE_URL"] = fake.BaseURL()
	env["AI_API_KEY"] = "k"
	var out, errb bytes.Buffer
	code := run(context.Background(), envOf(env), []string{"console", "lanterns", "--yes"}, strings.NewReader(""), &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	id := sessionLine.FindStringSubmatch(out.String())[1]
	st := openTestStore(t, dir)
	evs, _ := st.Events(context.Background(), id)
	var failed int
	for _, e := range evs {
		switch {
		case e.Type == transcript.EventFailure && e.Seat == "manufacturer":
			failed++
		case e.Type == transcript.EventSpeech && e.Seat == "manufacturer" && e.Stage == roundtable.StageDiscussion:
			t.Fatalf("a failed turn was stored as speech: %q", e.Text)
		}
	}
	if failed != 2 {
		t.Fatalf("failures of the manufacturer = %d, want 2", failed)
	}
	if !strings.Contains(out.String(), "Li Zhiqiang could not speak this time") {
		t.Fatal("people were not told kindly")
	}
	meta, _ := st.GetSession(context.Background(), id)
	if meta.Status != store.StatusFinished {
		t.Fatalf("status %s", meta.Status)
	}
}

// With nothing about a model configured, the console runs on the demo
// model and says so.
func TestConsoleFallsBackToDemo(t *testing.T) {
	t.Parallel()
	_, env := testEnv(t)
	var out, errb bytes.Buffer
	code := run(context.Background(), envOf(env), []string{"console", "--lang", "zh", "剪纸书签", "--turns", "1"}, strings.NewReader(""), &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "demo model") || !strings.Contains(out.String(), "演示模型") {
		t.Fatalf("the demo model is not labelled:\nstderr %s\nstdout tail %s", errb.String(), tail(out.String(), 400))
	}
	if !strings.Contains(out.String(), "巴雅尔") {
		t.Fatal("Chinese names missing")
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

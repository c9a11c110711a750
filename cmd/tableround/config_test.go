package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

// The real binary's settings: the process environment over ./.env, an
// empty value counting as unset. Not parallel: it sets the process
// environment and changes directory, which only this test reads.
func TestLookuperReadsTheEnvironmentOverDotEnv(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.WriteFile(".env", []byte("MAX_TURNS=3\nAI_PROVIDER=demo\nLOG_LEVEL=\nAI_MODEL=from-dotenv\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MAX_TURNS", "5")
	t.Setenv("AI_PROVIDER", "") // empty: .env's value shows through
	t.Setenv("LOG_LEVEL", "")
	t.Setenv("AI_MODEL", "from-env")
	l, err := lookuper()
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"MAX_TURNS": "5", "AI_PROVIDER": "demo", "AI_MODEL": "from-env", "LOG_LEVEL": ""} {
		if v, ok := l.Lookup(k); v != want || ok != (want != "") {
			t.Errorf("Lookup(%s) = %q, %v; want %q", k, v, ok, want)
		}
	}

	// A broken .env fails the commands that read the configuration, with
	// one line and exit 2, and no other.
	if err := os.WriteFile(".env", []byte("MAX_TURNS=\"unterminated\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), lookuper, []string{"version"}, strings.NewReader(""), &out, &errb); code != exitOK {
		t.Errorf("version with a broken .env: exit %d: %s", code, errb.String())
	}
	for _, args := range [][]string{{"console", "topic"}, {"serve"}, {"web"}, {"export", "abc"}} {
		errb.Reset()
		code := run(context.Background(), lookuper, args, strings.NewReader(""), &out, &errb)
		msg := strings.TrimSpace(errb.String())
		if code != exitUsage || !strings.HasPrefix(msg, "tableround: .env: ") || strings.Contains(msg, "\n") {
			t.Errorf("%s with a broken .env: exit %d, stderr %q", args[0], code, msg)
		}
	}
}

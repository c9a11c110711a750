package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/store/bolt"
	"github.com/tableround/tableround/transcript"
)

// pngBytes is a 1x1 PNG.
var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde" +
	"\x00\x00\x00\x0cIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")

func exportStore(t *testing.T) store.Store {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "tr.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	if err := st.CreateSession(ctx, store.Session{ID: "abc", Channel: "console:local", Topic: "Lanterns <b>", Status: store.StatusFinished}); err != nil {
		t.Fatal(err)
	}
	seats, _ := json.Marshal(transcript.SessionStart{Seats: []transcript.SeatInfo{{ID: "designer", Name: "Lin", Emoji: "🎨"}}})
	ref, _ := json.Marshal(transcript.ImageRef{Blob: "final/1", MIME: "image/png"})
	for _, ev := range []store.Event{
		{Type: transcript.EventSession, Data: seats},
		{Type: transcript.EventSpeech, Stage: "discussion", Seat: "designer", Name: "Lin", Text: "Paper and light."},
		{Type: transcript.EventImage, Stage: "final_design", Seat: "designer", Data: ref},
	} {
		if _, err := st.Append(ctx, "abc", ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.PutBlob(ctx, "abc", "final/1", pngBytes); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestRunExport(t *testing.T) {
	t.Parallel()
	st := exportStore(t)
	dir := t.TempDir()
	cases := []struct {
		name       string
		args       []string
		code       int
		stdout     string // substring
		stderr     string // substring
		file, body string // a file written and a substring of it
	}{
		{name: "markdown to stdout", args: []string{"abc"}, stdout: "**🎨 Lin**\n\n> Paper and light."},
		{name: "flags after the ID", args: []string{"abc", "--format", "json"}, stdout: `"schema_version": 1`},
		{name: "html", args: []string{"--format=html", "abc"}, stdout: "Lanterns &lt;b&gt;"},
		{name: "format from --out", args: []string{"abc", "--out", filepath.Join(dir, "s.html")}, stdout: "exported session abc",
			file: "s.html", body: "data:image/png;base64,"},
		{name: "markdown with images beside it", args: []string{"--out", filepath.Join(dir, "s.md"), "abc"},
			file: "s-final_1.png", body: "\x89PNG"},
		{name: "unknown session", args: []string{"nope"}, code: 1, stderr: `no session "nope"`},
		{name: "no ID", args: []string{"--format", "md"}, code: 2, stderr: "usage:"},
		{name: "two IDs", args: []string{"a", "b"}, code: 2, stderr: "exactly one"},
		{name: "bad format", args: []string{"--format", "pdf", "abc"}, code: 2, stderr: "unknown --format"},
		{name: "unknown flag", args: []string{"abc", "--zip"}, code: 2, stderr: "flag provided but not defined"},
		{name: "help", args: []string{"-h"}, stdout: "usage:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runExport(context.Background(), st, c.args, &stdout, &stderr)
			if code != c.code || !strings.Contains(stdout.String(), c.stdout) || !strings.Contains(stderr.String(), c.stderr) {
				t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
			}
			if c.code == 1 && strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 {
				t.Errorf("error is not one line: %q", stderr.String())
			}
			if c.file != "" {
				data, err := os.ReadFile(filepath.Join(dir, c.file))
				if err != nil || !strings.Contains(string(data), c.body) {
					t.Fatalf("%s: %v\n%.300s", c.file, err, data)
				}
			}
		})
	}
	md, err := os.ReadFile(filepath.Join(dir, "s.md"))
	if err != nil || !strings.Contains(string(md), "](<s-final_1.png>)") {
		t.Fatalf("s.md does not link its image: %v\n%s", err, md)
	}
}

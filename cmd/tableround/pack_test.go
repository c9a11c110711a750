package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tableround/tableround/roundtable"
)

// packJSON is the built-in papercut pack as a generic JSON object, for
// tests to break.
func packJSON(t *testing.T) map[string]any {
	t.Helper()
	p, err := roundtable.LoadPack("papercut")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func seatOf(m map[string]any, i int) map[string]any {
	return m["seats"].([]any)[i].(map[string]any)
}

func TestPackValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		edit  func(m map[string]any)
		raw   string // used instead of the edited pack when set
		code  int
		wants []string // each must appear on its own output line
	}{
		{name: "built-in pack is valid", edit: func(map[string]any) {}, code: 0,
			wants: []string{"✓ ", ": pack papercut, 6 seats, languages en, zh"}},
		{name: "unknown role", edit: func(m map[string]any) { seatOf(m, 1)["role"] = "chef" }, code: 1,
			wants: []string{`pack seats[1].role: "chef" is not one of roles`}},
		{name: "every problem on its own line", code: 1,
			edit:  func(m map[string]any) { m["schema"] = 2; m["designer_seat"] = "nobody"; seatOf(m, 0)["id"] = "Bad Id" },
			wants: []string{"pack schema: must be 1, got 2", `pack designer_seat: "nobody" is not a seat id`, `pack seats[0].id: "Bad Id"`}},
		{name: "unknown field", edit: func(m map[string]any) { seatOf(m, 2)["colour"] = "#fff" }, code: 1,
			wants: []string{`unknown field "colour"`}},
		{name: "wrong type", edit: func(m map[string]any) { seatOf(m, 0)["age"] = "sixty" }, code: 1,
			wants: []string{"pack seats.age: line 1, column", "must be int, not a JSON string"}},
		{name: "not JSON", raw: "{\n  \"schema\": 1,\n  \"name\": oops\n}", code: 1,
			wants: []string{"line 3, column", "invalid JSON"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := []byte(tc.raw)
			if tc.raw == "" {
				m := packJSON(t)
				tc.edit(m)
				var err error
				if data, err = json.Marshal(m); err != nil {
					t.Fatal(err)
				}
			}
			path := filepath.Join(t.TempDir(), "pack.json")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			var out, errb bytes.Buffer
			code := runPack(context.Background(), []string{"validate", path}, &out, &errb)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out.String(), errb.String())
			}
			text := out.String() + errb.String()
			for _, want := range tc.wants {
				if !strings.Contains(text, want) {
					t.Errorf("output lacks %q:\n%s", want, text)
				}
			}
			for _, line := range strings.Split(strings.TrimSpace(errb.String()), "\n") {
				if line != "" && !strings.HasPrefix(line, "✗ "+path+": ") {
					t.Errorf("problem line does not name the file: %q", line)
				}
			}
		})
	}
}

func TestPackListAndUsage(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	if code := runPack(context.Background(), []string{"list"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "pack papercut, 6 seats") {
		t.Errorf("list: exit %d\n%s%s", code, out.String(), errb.String())
	}
	for _, args := range [][]string{nil, {"validate"}, {"frobnicate", "x"}} {
		errb.Reset()
		if code := runPack(context.Background(), args, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), "pack validate FILE") {
			t.Errorf("%q: exit %d, %s", args, code, errb.String())
		}
	}
	errb.Reset()
	if code := runPack(context.Background(), []string{"validate", filepath.Join(t.TempDir(), "missing.json")}, &out, &errb); code != 1 {
		t.Errorf("missing file: exit %d", code)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunImage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	photo := image.NewNRGBA(image.Rect(0, 0, 1600, 1200))
	for y := range 1200 {
		for x := range 1600 {
			photo.SetNRGBA(x, y, color.NRGBA{uint8(x), uint8(y), 90, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, photo); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "photo.heic") // the name lies; the bytes decide
	if err := os.WriteFile(in, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	notImage := filepath.Join(dir, "fake.jpg")
	if err := os.WriteFile(notImage, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.jpg")

	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   string
		stderr   string
		wantFile bool
	}{
		{"prepare with output", []string{"prepare", in, out}, 0, `"format": "jpeg"`, "", true},
		{"prepare report only", []string{"prepare", in}, 0, `"orientation": 1`, "", false},
		{"not an image", []string{"prepare", notImage}, 1, "", "can't read that file as a photo", false},
		{"missing file", []string{"prepare", filepath.Join(dir, "nope.png")}, 1, "", "open input", false},
		{"no args", nil, 2, "", "usage:", false},
		{"unknown subcommand", []string{"shrink", in}, 2, "", "usage:", false},
		{"too many args", []string{"prepare", in, out, "x"}, 2, "", "usage:", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_ = os.Remove(out)
			var stdout, stderr bytes.Buffer
			code := runImage(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Fatalf("exit %d, want %d (stderr %q)", code, tt.code, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.stdout) || !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stdout %q stderr %q", stdout.String(), stderr.String())
			}
			if tt.code != 0 && strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 {
				t.Errorf("stderr is not one line: %q", stderr.String())
			}
			if tt.code == 0 {
				var rep struct {
					Width, Height, Bytes int
					MS                   float64
					Input                struct {
						Format        string
						Width, Height int
					}
				}
				if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
					t.Fatalf("report is not JSON: %v", err)
				}
				if rep.Input.Format != "png" || rep.Input.Width != 1600 || rep.Width != 800 || rep.Height != 600 || rep.Bytes == 0 {
					t.Errorf("report %+v", rep)
				}
			}
			if _, err := os.Stat(out); (err == nil) != tt.wantFile {
				t.Errorf("output file exists=%v, want %v", err == nil, tt.wantFile)
			}
		})
	}
}

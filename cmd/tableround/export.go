package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/tableround/tableround/export"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/transcript"
)

const exportUsage = `usage: tableround export [--format md|json|html] [--out FILE] SESSION_ID

Writes a whole session as Markdown (default), JSON or one self-contained
HTML page, to stdout or FILE. With --out, the format defaults to FILE's
extension, and Markdown images are written next to FILE.
`

// runExport is the `tableround export` command. Flags may come before or
// after the session ID. Exit codes: 0 done, 1 failure (unknown session,
// store or file error), 2 usage error.
func runExport(ctx context.Context, st store.Store, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	format := fs.String("format", "", "md, json or html")
	out := fs.String("out", "", "file to write (default stdout)")
	var ids []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(stdout, exportUsage)
				return 0
			}
			fmt.Fprintf(stderr, "tableround export: %v\n\n%s", err, exportUsage)
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		ids = append(ids, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(ids) != 1 {
		fmt.Fprintf(stderr, "tableround export: want exactly one SESSION_ID, got %d\n\n%s", len(ids), exportUsage)
		return 2
	}
	f, err := exportFormat(*format, *out)
	if err != nil {
		fmt.Fprintf(stderr, "tableround export: %v\n", err)
		return 2
	}
	if err := exportSession(ctx, st, ids[0], f, *out, stdout); err != nil {
		fmt.Fprintf(stderr, "tableround export: %v\n", err)
		return 1
	}
	if *out != "" {
		fmt.Fprintf(stdout, "exported session %s to %s\n", ids[0], *out)
	}
	return 0
}

// exportFormat picks the format: the flag, else the --out extension, else md.
func exportFormat(flagValue, out string) (string, error) {
	f := strings.ToLower(flagValue)
	if f == "" {
		switch strings.ToLower(filepath.Ext(out)) {
		case ".json":
			f = export.FormatJSON
		case ".html", ".htm":
			f = export.FormatHTML
		default:
			f = export.FormatMarkdown
		}
	}
	switch f {
	case export.FormatMarkdown, "markdown":
		return export.FormatMarkdown, nil
	case export.FormatJSON, export.FormatHTML:
		return f, nil
	}
	return "", fmt.Errorf("unknown --format %q (want md, json or html)", flagValue)
}

func exportSession(ctx context.Context, st store.Store, id, format, out string, stdout io.Writer) error {
	s, err := st.GetSession(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no session %q (unknown, or older than EXPORT_TTL)", id)
	}
	if err != nil {
		return fmt.Errorf("read session %s: %w", id, err)
	}
	events, err := st.Events(ctx, id)
	if err != nil {
		return fmt.Errorf("read events of %s: %w", id, err)
	}
	blob := func(name string) ([]byte, error) { return st.GetBlob(ctx, id, name) }
	if out == "" {
		return export.Render(stdout, format, s, events, blob)
	}

	var opts export.Options
	if format == export.FormatMarkdown {
		base := strings.TrimSuffix(out, filepath.Ext(out))
		opts.ImageLink = func(ref transcript.ImageRef, data []byte) (string, error) {
			path := base + "-" + safeName(ref.Blob) + imageExt(ref.MIME)
			if err := os.WriteFile(path, data, 0o644); err != nil {
				return "", fmt.Errorf("write image: %w", err)
			}
			return filepath.Base(path), nil
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".export-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename this is a no-op
	if err := export.RenderWith(tmp, format, s, events, blob, opts); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	return nil
}

// safeName keeps a blob name usable as part of a file name.
func safeName(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '_'
	}, name)
}

func imageExt(mime string) string {
	switch mime {
	case "image/jpeg":
		return ".jpg"
	case "image/gif":
		return ".gif"
	case "image/webp":
		return ".webp"
	}
	return ".png"
}

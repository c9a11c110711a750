package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/term"

	"github.com/tableround/tableround/bot/console"
	"github.com/tableround/tableround/export"
	"github.com/tableround/tableround/roundtable"
)

// consoleArgs are the console command's flags; they may come before or
// after the topic.
type consoleArgs struct {
	topic  string
	image  string
	lang   string
	turns  int
	pack   string
	yes    bool
	resume string
}

func parseConsoleArgs(args []string) (consoleArgs, error) {
	var a consoleArgs
	var words []string
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			words = append(words, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(arg, "-") || arg == "-" {
			words = append(words, arg)
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		need := func() (string, error) {
			if hasVal {
				return val, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("flag --%s needs a value", name)
			}
			i++
			return args[i], nil
		}
		var err error
		switch name {
		case "yes", "y":
			a.yes = true
		case "image":
			a.image, err = need()
		case "lang":
			a.lang, err = need()
			if err == nil && a.lang != "en" && a.lang != "zh" {
				err = fmt.Errorf("--lang must be en or zh, got %q", a.lang)
			}
		case "pack":
			a.pack, err = need()
		case "resume":
			a.resume, err = need()
		case "turns":
			var v string
			if v, err = need(); err == nil {
				a.turns, err = strconv.Atoi(v)
				if err != nil || a.turns < 1 || a.turns > 10 {
					err = fmt.Errorf("--turns must be a number from 1 to 10, got %q", v)
				}
			}
		default:
			err = fmt.Errorf("unknown flag %s", arg)
		}
		if err != nil {
			return a, err
		}
	}
	a.topic = strings.TrimSpace(strings.Join(words, " "))
	if a.topic == "" && a.resume == "" {
		return a, errors.New(`a topic is needed: tableround console "Design a paper-cut bookmark"`)
	}
	return a, nil
}

func runConsole(ctx context.Context, env environ, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a, err := parseConsoleArgs(args)
	if err != nil {
		fmt.Fprintln(stderr, "tableround console:", err)
		return exitUsage
	}
	l, cfg, ok := readConfig(ctx, env, stderr)
	if !ok {
		return exitUsage
	}
	if err := os.MkdirAll(cfg.Store.DataDir, 0o755); err != nil {
		fmt.Fprintf(stderr, "tableround: DATA_DIR %q: %v\n", cfg.Store.DataDir, err)
		return exitUsage
	}
	logFile, err := os.OpenFile(filepath.Join(cfg.Store.DataDir, "tableround.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintf(stderr, "tableround: open log: %v\n", err)
		return exitFailure
	}
	defer logFile.Close()
	logger := newLogger(cfg.Log, logFile).With("component", "console")

	models, err := buildModels(ctx, l, logger, true, nil)
	if err != nil {
		fmt.Fprintln(stderr, "tableround:", err)
		return exitUsage
	}
	if models.hint != "" {
		fmt.Fprintln(stderr, models.hint)
	}
	var pack *roundtable.Pack
	if a.pack != "" {
		if pack, err = roundtable.LoadPack(a.pack); err != nil {
			fmt.Fprintln(stderr, "tableround: --pack:", err)
			return exitUsage
		}
	}
	var photo []byte
	if a.image != "" {
		if photo, err = os.ReadFile(a.image); err != nil {
			fmt.Fprintf(stderr, "tableround: cannot read --image %s: %v\n", a.image, errors.Unwrap(err))
			return exitFailure
		}
	}

	return withStore(ctx, env, stderr, func(sh storeHandle) int {
		interactive := !a.yes && isTerminal(stdin)
		_, noColor := l.Lookup("NO_COLOR") // set and not empty (no-color.org)
		color := isTerminal(stdout) && !noColor
		var sess *roundtable.Session
		con := console.New(stdout, console.Options{Color: color, Interactive: interactive,
			ImageDir: filepath.Join(cfg.Store.DataDir, "images"),
			OnLine: func(line string) {
				if sess != nil {
					sess.Interject("you", line)
				}
			}})
		deps := models.deps(sh.Store, logger)
		if a.resume != "" {
			sess, err = roundtable.Resume(ctx, cfg.Session, deps, con, a.resume)
		} else {
			sess, err = roundtable.New(ctx, cfg.Session, deps, con, roundtable.Start{
				Channel: "console:local", Topic: a.topic, Image: photo, Language: a.lang, Turns: a.turns, Pack: pack,
				StarterName: "console"})
		}
		if err != nil {
			fmt.Fprintln(stderr, "tableround:", userError(err))
			logger.Error("session did not start", "err", err)
			return exitFailure
		}
		if interactive {
			go con.ReadLines(ctx, stdin)
		}
		runErr := sess.Run(ctx)
		id := sess.ID()
		path, xerr := saveTranscript(context.WithoutCancel(ctx), sh, id, cfg.Store.DataDir)
		fmt.Fprintf(stdout, "\nSession %s — stored in %s\n", id, sh.Where)
		if xerr != nil {
			logger.Error("transcript export failed", "err", xerr)
		} else {
			fmt.Fprintf(stdout, "Transcript: %s (export again with: tableround export %s --format html)\n", path, id)
		}
		switch {
		case runErr == nil:
			return exitOK
		case errors.Is(runErr, context.Canceled):
			fmt.Fprintf(stdout, "Interrupted. Resume with: tableround console --resume %s\n", id)
			return exitInterrupted
		default:
			logger.Error("session ended with an error", "err", runErr)
			return exitFailure
		}
	})
}

// saveTranscript writes the session's Markdown transcript under DATA_DIR.
func saveTranscript(ctx context.Context, sh storeHandle, id, dataDir string) (string, error) {
	s, err := sh.Store.GetSession(ctx, id)
	if err != nil {
		return "", err
	}
	evs, err := sh.Store.Events(ctx, id)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(dataDir, "exports")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, id+".md")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	blob := func(name string) ([]byte, error) { return sh.Store.GetBlob(ctx, id, name) }
	if err := export.Render(f, "md", s, evs, blob); err != nil {
		return "", err
	}
	return path, f.Close()
}

func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Command tableround runs the TableRound bot: a roundtable of six AI
// personas in Discord, Telegram or a terminal. This package is wiring only:
// it reads the configuration once, builds the concrete parts and hands them
// down.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

const usage = `tableround — six AI personas hold a roundtable on your topic or photo.

Usage:
  tableround serve                     run the Discord and/or Telegram bot (+ health and metrics)
  tableround console "topic" [--image PATH] [--lang en|zh] [--turns N] [--pack NAME|FILE] [--yes]
  tableround console --resume SESSION_ID
  tableround web [--addr HOST:PORT]    the live web table: start and watch roundtables in a browser
  tableround export [--format md|json|html] [--out FILE] SESSION_ID
  tableround image prepare IN [OUT]
  tableround doctor [--images]          check the configuration and every dependency for real
  tableround pack validate FILE | pack list
  tableround version

Configuration comes from the environment and ./.env (see .env.example).
`

// Exit codes.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2 // bad flags or configuration
	exitInterrupted = 130
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "image" {
		tuneGCForOneImage()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, lookuper, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches a subcommand; it is main without the process around it:
// the commands read their settings from env only.
func run(ctx context.Context, env environ, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "console":
		return runConsole(ctx, env, args[1:], stdin, stdout, stderr)
	case "web":
		return runWeb(ctx, env, args[1:], stdout, stderr)
	case "serve":
		return runServe(ctx, env, args[1:], stdout, stderr)
	case "export":
		return withStore(ctx, env, stderr, func(st storeHandle) int {
			return runExport(ctx, st.Store, args[1:], stdout, stderr)
		})
	case "image":
		return runImage(ctx, args[1:], stdout, stderr)
	case "doctor":
		return runDoctor(ctx, env, args[1:], stdout, stderr)
	case "pack":
		return runPack(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "tableround", version())
		return exitOK
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "tableround: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		v := bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 7 {
				v += " (" + s.Value[:7] + ")"
			}
		}
		if v != "" {
			return v
		}
	}
	return "dev"
}

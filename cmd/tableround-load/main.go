// Command tableround-load measures TableRound under load (DESIGN §7): it
// drives N concurrent sessions through the real engine and the real Discord
// or Telegram adapter against a fake OpenAI-compatible model and a fake
// platform that enforces the platform's limits, each fake in its own
// process so that the CPU and memory measured are the bot's.
//
//	tableround-load run -sessions 10          # starts both fakes, reports
//	tableround-load fake-llm -addr 127.0.0.1:0
//	tableround-load fake-discord -addr 127.0.0.1:0 [-limits discord|raised|none]
//	tableround-load web -sessions 1 -viewers 1000  # the live web table's viewers
//
// It is a measuring tool: it must not be imported, and nothing it prints is
// a pass/fail verdict.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// childEnv marks a process started by `run` as one of its fakes: the fake
// exits when its standard input closes, so it never outlives the run.
const childEnv = "TABLEROUND_LOAD_CHILD"

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

func realMain(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if os.Getenv(childEnv) != "" {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		go func() { // ends with the parent: its pipe closes
			_, _ = io.Copy(io.Discard, os.Stdin)
			cancel()
		}()
	}
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "fake-llm":
		err = runFakeLLM(ctx, args[1:], stdout)
	case "fake-discord":
		err = runFakeDiscord(ctx, args[1:], stdout)
	case "fake-telegram":
		err = runFakeTelegram(ctx, args[1:], stdout)
	case "run":
		err = runLoad(ctx, args[1:], stdout, stderr)
	case "web":
		err = runWebLoad(ctx, args[1:], stdout, stderr)
	case "web-server":
		err = runWebServer(ctx, args[1:], stdout)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "tableround-load: unknown command %q\n%s\n", args[0], usage)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "tableround-load:", err)
		return 1
	}
	return 0
}

const usage = `usage:
  tableround-load run -sessions N [-json] [-limits discord|raised|none] [-ttft 300ms -tps 40 -chunk 4]
  tableround-load run -platform telegram -chats private|group [-persona-bots] -sessions N [-limits telegram|raised|none]
  tableround-load web -sessions N -viewers V [-speakers 1 -tps 40 -chunk 4 -duration 20s] [-json]
  tableround-load web-server -addr 127.0.0.1:0 -sessions N
  tableround-load fake-llm -addr 127.0.0.1:0 [-ttft 300ms -tps 40 -chunk 4 -min 120 -max 250]
  tableround-load fake-discord -addr 127.0.0.1:0 [-limits discord|raised|none]
  tableround-load fake-telegram -addr 127.0.0.1:0 [-limits telegram|raised|none] [-chats private|group] [-persona-bots]`

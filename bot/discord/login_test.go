package discord

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/bot/discord/discordfake"
)

// A token the fake rejects makes Run return bot.ErrRejected at once, with
// no secret in the message.
func TestRunRejectedToken(t *testing.T) {
	t.Parallel()
	fake := discordfake.New(discordfake.Options{Token: testToken})
	t.Cleanup(fake.Close)
	a, err := New(Config{Token: "wrong-token", APIURL: fake.URL()}, newTestHandler(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // a safety net
	defer cancel()
	err = a.Run(ctx)
	if !errors.Is(err, bot.ErrRejected) {
		t.Fatalf("Run with a rejected token = %v, want ErrRejected", err)
	}
	if ctx.Err() != nil {
		t.Fatal("Run did not return before the safety net")
	}
}

func TestLoginErrorKinds(t *testing.T) {
	rest := func(code int) error {
		return fmt.Errorf("wrapped: %w", &discordgo.RESTError{Response: &http.Response{StatusCode: code}})
	}
	for _, c := range []struct {
		name     string
		err      error
		rejected bool
	}{
		{"401", rest(401), true},
		{"403", rest(403), true},
		{"502", rest(502), false},
		{"429", rest(429), false},
		{"network", errors.New("dial tcp: connection refused"), false},
		{"gateway 4004", fmt.Errorf("open: %w", &websocket.CloseError{Code: 4004, Text: "Authentication failed."}), true},
		{"gateway 4000", &websocket.CloseError{Code: 4000, Text: "Unknown error"}, false},
	} {
		if got := errors.Is(loginError(c.err), bot.ErrRejected); got != c.rejected {
			t.Errorf("%s: rejected = %v, want %v", c.name, got, c.rejected)
		}
	}
	if errors.Is(commandsError(rest(403)), bot.ErrRejected) || !errors.Is(commandsError(rest(401)), bot.ErrRejected) {
		t.Error("registering commands: only a 401 means a rejected token (403 is Missing Access to the guild)")
	}
}

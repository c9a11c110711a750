package discord

import (
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"github.com/tableround/tableround/bot"
)

// closeAuthFailed is the gateway's close code for a rejected token.
const closeAuthFailed = 4004

// loginError marks an error of opening the gateway that no retry can fix
// with bot.ErrRejected: an HTTP 401 or 403, or the gateway closing with
// 4004 Authentication failed.
func loginError(err error) error { return rejected(err, http.StatusUnauthorized, http.StatusForbidden) }

// commandsError marks a 401 from registering the commands; a 403 there is
// Missing Access to DISCORD_GUILD_ID, not a rejected token.
func commandsError(err error) error { return rejected(err, http.StatusUnauthorized) }

func rejected(err error, statuses ...int) error {
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil && slices.Contains(statuses, re.Response.StatusCode) {
		return fmt.Errorf("%w (HTTP %d; check DISCORD_TOKEN): %w", bot.ErrRejected, re.Response.StatusCode, err)
	}
	var ce *websocket.CloseError
	if errors.As(err, &ce) && ce.Code == closeAuthFailed {
		return fmt.Errorf("%w (gateway close %d; check DISCORD_TOKEN): %w", bot.ErrRejected, ce.Code, err)
	}
	return err
}

package discord

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"github.com/tableround/tableround/bot"
)

// closeAuthFailed is the gateway's close code for a rejected token.
const closeAuthFailed = 4004

// loginError marks an error of logging in (opening the gateway,
// registering commands) that no retry can fix with bot.ErrRejected: an
// HTTP 401 or 403, or the gateway closing with 4004 Authentication failed.
func loginError(err error) error {
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil &&
		(re.Response.StatusCode == http.StatusUnauthorized || re.Response.StatusCode == http.StatusForbidden) {
		return fmt.Errorf("%w (HTTP %d; check DISCORD_TOKEN): %w", bot.ErrRejected, re.Response.StatusCode, err)
	}
	var ce *websocket.CloseError
	if errors.As(err, &ce) && ce.Code == closeAuthFailed {
		return fmt.Errorf("%w (gateway close %d; check DISCORD_TOKEN): %w", bot.ErrRejected, ce.Code, err)
	}
	return err
}

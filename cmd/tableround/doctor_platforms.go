package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	goredis "github.com/redis/go-redis/v9"
	"github.com/sethvargo/go-envconfig"
)

// doctorDiscord is the part of the Discord configuration doctor checks
// (the adapter's own Config is not imported: doctor talks to the API
// itself).
type doctorDiscord struct {
	Token          string `env:"DISCORD_TOKEN"`
	APIURL         string `env:"DISCORD_API_URL, default=https://discord.com"`
	GuildID        string `env:"DISCORD_GUILD_ID"`
	MessageContent bool   `env:"DISCORD_MESSAGE_CONTENT, default=false"`
}

// doctorTelegram is the part of the Telegram configuration doctor checks.
type doctorTelegram struct {
	Token      string `env:"TELEGRAM_TOKEN"`
	APIURL     string `env:"TELEGRAM_API_URL, default=https://api.telegram.org"`
	WebhookURL string `env:"TELEGRAM_WEBHOOK_URL"`
}

// Discord permission bits the bot needs in a guild, in the order they are
// named when missing.
var discordPermissions = []struct {
	name string
	bit  uint64
}{
	{"View Channel", 1 << 10}, {"Send Messages", 1 << 11}, {"Send Messages in Threads", 1 << 38},
	{"Create Public Threads", 1 << 35}, {"Manage Webhooks", 1 << 29}, {"Attach Files", 1 << 15},
	{"Read Message History", 1 << 16}, {"Embed Links", 1 << 14},
}

const (
	discordAdministrator         = 1 << 3
	appFlagMessageContent        = 1 << 18 // GATEWAY_MESSAGE_CONTENT
	appFlagMessageContentLimited = 1 << 19 // GATEWAY_MESSAGE_CONTENT_LIMITED
)

// getJSON GETs url with the given headers into v, with the doctor's short
// timeout. The error names the HTTP status and never the URL (which may
// carry a token).
func getJSON(ctx context.Context, rawURL string, header http.Header, v any) (status int, err error) {
	ctx, cancel := context.WithTimeout(ctx, doctorNetTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return 0, errors.New("bad API URL")
	}
	if header != nil {
		req.Header = header
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL may carry a token
		}
		return 0, fmt.Errorf("cannot reach the API: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err := json.Unmarshal(body, v); err != nil && resp.StatusCode < 300 {
		return resp.StatusCode, fmt.Errorf("unreadable answer (HTTP %d)", resp.StatusCode)
	}
	return resp.StatusCode, nil
}

func (d *doctor) checkDiscord(ctx context.Context, l envconfig.Lookuper) {
	var c doctorDiscord
	if err := loadConfig(ctx, l, &c); err != nil {
		d.add(check{name: "Discord", status: checkFail, detail: err.Error(), fix: "fix that variable"})
		return
	}
	if c.Token == "" {
		return
	}
	base := strings.TrimRight(c.APIURL, "/") + "/api/v10"
	h := http.Header{"Authorization": {"Bot " + c.Token}, "User-Agent": {"DiscordBot (https://github.com/tableround/tableround, doctor)"}}
	var me struct{ ID, Username string }
	status, err := getJSON(ctx, base+"/users/@me", h, &me)
	switch {
	case err != nil:
		d.add(check{name: "Discord bot", status: checkFail, detail: err.Error(), fix: "check DISCORD_API_URL and the network"})
		return
	case status == http.StatusUnauthorized || status == http.StatusForbidden: // as serve's login (bot/discord loginError)
		d.add(check{name: "Discord bot", status: checkFail, detail: fmt.Sprintf("the token was rejected (HTTP %d)", status),
			fix: "check DISCORD_TOKEN (Developer Portal → your app → Bot → Reset Token)"})
		return
	case status != http.StatusOK:
		d.add(check{name: "Discord bot", status: checkFail, detail: fmt.Sprintf("GET /users/@me answered HTTP %d", status), fix: "check DISCORD_TOKEN and DISCORD_API_URL"})
		return
	}
	d.add(check{name: "Discord bot", status: checkOK, detail: "signed in as " + me.Username + " (" + me.ID + ")"})

	var app struct {
		ID    string
		Flags uint64
	}
	if status, err := getJSON(ctx, base+"/applications/@me", h, &app); err != nil || status != http.StatusOK {
		d.add(check{name: "Discord intents", status: checkWarn, detail: fmt.Sprintf("could not read the application (HTTP %d, %v)", status, err),
			fix: "check the Message Content intent in the Developer Portal by hand"})
	} else {
		d.add(discordIntent(c.MessageContent, app.Flags))
	}
	if c.GuildID == "" {
		d.add(check{name: "Discord permissions", status: checkWarn, detail: "DISCORD_GUILD_ID is not set, so no guild was checked",
			fix: "set DISCORD_GUILD_ID to check the bot's permissions there (and register commands instantly)"})
		return
	}
	d.add(discordGuild(ctx, base, h, c.GuildID, me.ID, orDefault(app.ID, me.ID)))
}

// discordIntent compares DISCORD_MESSAGE_CONTENT with the application's
// privileged intent: asking for an intent that is off makes the gateway
// refuse the connection.
func discordIntent(want bool, flags uint64) check {
	on := flags&(appFlagMessageContent|appFlagMessageContentLimited) != 0
	switch {
	case want && !on:
		return check{name: "Discord intents", status: checkFail, detail: "DISCORD_MESSAGE_CONTENT=true but the Message Content intent is off",
			fix: "enable it (Developer Portal → Bot → Privileged Gateway Intents → Message Content), or set DISCORD_MESSAGE_CONTENT=false"}
	case want:
		return check{name: "Discord intents", status: checkOK, detail: "Message Content intent on: plain thread messages become interjections"}
	case on:
		return check{name: "Discord intents", status: checkOK, detail: "Message Content intent on but not used (DISCORD_MESSAGE_CONTENT=false): people interject by mention or /roundtable say"}
	}
	return check{name: "Discord intents", status: checkOK, detail: "no privileged intent needed: people interject by mention or /roundtable say"}
}

// discordGuild computes the bot's guild-level permissions from its roles.
func discordGuild(ctx context.Context, base string, h http.Header, guild, botID, appID string) check {
	name := "Discord permissions in guild " + guild
	var member struct{ Roles []string }
	status, err := getJSON(ctx, base+"/guilds/"+url.PathEscape(guild)+"/members/"+url.PathEscape(botID), h, &member)
	invite := fmt.Sprintf("https://discord.com/oauth2/authorize?client_id=%s&scope=bot+applications.commands&permissions=%d", appID, neededPermissions())
	switch {
	case err != nil:
		return check{name: name, status: checkFail, detail: err.Error(), fix: "check DISCORD_API_URL and the network"}
	case status == http.StatusNotFound || status == http.StatusForbidden:
		return check{name: name, status: checkFail, detail: fmt.Sprintf("the bot is not a member of this guild (HTTP %d)", status),
			fix: "check DISCORD_GUILD_ID, or invite the bot: " + invite}
	case status != http.StatusOK:
		return check{name: name, status: checkFail, detail: fmt.Sprintf("reading the bot's membership answered HTTP %d", status), fix: "check DISCORD_GUILD_ID"}
	}
	var roles []struct {
		ID          string
		Permissions string
	}
	if status, err := getJSON(ctx, base+"/guilds/"+url.PathEscape(guild)+"/roles", h, &roles); err != nil || status != http.StatusOK {
		return check{name: name, status: checkFail, detail: fmt.Sprintf("could not read the guild's roles (HTTP %d, %v)", status, err), fix: "check DISCORD_GUILD_ID"}
	}
	var perms uint64
	for _, r := range roles {
		if r.ID == guild || containsString(member.Roles, r.ID) { // the @everyone role has the guild's ID
			p, _ := strconv.ParseUint(r.Permissions, 10, 64)
			perms |= p
		}
	}
	if perms&discordAdministrator != 0 {
		return check{name: name, status: checkOK, detail: "Administrator (every permission; a narrower role is safer)"}
	}
	var missing []string
	for _, p := range discordPermissions {
		if perms&p.bit == 0 {
			missing = append(missing, p.name)
		}
	}
	if len(missing) > 0 {
		return check{name: name, status: checkFail, detail: "missing " + strings.Join(missing, ", "),
			fix: "grant them to the bot's role (Server Settings → Roles), or re-invite it: " + invite}
	}
	return check{name: name, status: checkOK, detail: "all needed permissions at guild level (channel overrides can still deny them)"}
}

func neededPermissions() uint64 {
	var n uint64
	for _, p := range discordPermissions {
		n |= p.bit
	}
	return n
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// telegramReply is the Bot API's envelope.
type telegramReply[T any] struct {
	OK          bool   `json:"ok"`
	Description string `json:"description"`
	ErrorCode   int    `json:"error_code"`
	Result      T      `json:"result"`
}

func (d *doctor) checkTelegram(ctx context.Context, l envconfig.Lookuper) {
	var c doctorTelegram
	if err := loadConfig(ctx, l, &c); err != nil {
		d.add(check{name: "Telegram", status: checkFail, detail: err.Error(), fix: "fix that variable"})
		return
	}
	if c.Token == "" {
		return
	}
	base := strings.TrimRight(c.APIURL, "/") + "/bot" + c.Token
	var me telegramReply[struct {
		Username                string `json:"username"`
		CanReadAllGroupMessages bool   `json:"can_read_all_group_messages"`
	}]
	status, err := getJSON(ctx, base+"/getMe", nil, &me)
	switch {
	case err != nil:
		d.add(check{name: "Telegram bot", status: checkFail, detail: err.Error(), fix: "check TELEGRAM_API_URL and the network"})
		return
	case status == http.StatusUnauthorized || status == http.StatusNotFound:
		d.add(check{name: "Telegram bot", status: checkFail, detail: fmt.Sprintf("the token was rejected (%d %s)", me.ErrorCode, me.Description),
			fix: "check TELEGRAM_TOKEN (ask @BotFather with /token)"})
		return
	case !me.OK:
		d.add(check{name: "Telegram bot", status: checkFail, detail: fmt.Sprintf("getMe failed (HTTP %d %s)", status, me.Description), fix: "check TELEGRAM_TOKEN"})
		return
	}
	privacy := "privacy mode on: in groups the bot sees commands, mentions and replies (enough for TableRound)"
	if me.Result.CanReadAllGroupMessages {
		privacy = "privacy mode off: the bot receives every group message"
	}
	d.add(check{name: "Telegram bot", status: checkOK, detail: "@" + me.Result.Username + ", " + privacy})

	var wh telegramReply[struct {
		URL                string `json:"url"`
		PendingUpdateCount int    `json:"pending_update_count"`
		LastErrorMessage   string `json:"last_error_message"`
	}]
	if status, err := getJSON(ctx, base+"/getWebhookInfo", nil, &wh); err != nil || !wh.OK {
		d.add(check{name: "Telegram webhook", status: checkWarn, detail: fmt.Sprintf("getWebhookInfo failed (HTTP %d, %v)", status, err), fix: "try again"})
		return
	}
	d.add(telegramWebhook(c.WebhookURL, wh.Result.URL, wh.Result.PendingUpdateCount, wh.Result.LastErrorMessage))
}

// telegramWebhook compares the webhook Telegram has with the configured
// one. Only hosts are shown: a webhook path may carry a secret.
func telegramWebhook(want, have string, pending int, lastErr string) check {
	name := "Telegram webhook"
	if want == "" {
		if have != "" {
			return check{name: name, status: checkWarn, detail: "a webhook to " + hostOf(have) + " is set but TELEGRAM_WEBHOOK_URL is not",
				fix: "serve deletes it and uses long polling; stop any other deployment using this token first"}
		}
		return check{name: name, status: checkOK, detail: fmt.Sprintf("none: serve uses long polling (%d updates waiting)", pending)}
	}
	switch {
	case have == "":
		return check{name: name, status: checkOK, detail: "not set yet: serve sets it to " + hostOf(want) + " when it starts"}
	case have != want:
		return check{name: name, status: checkWarn, detail: "Telegram delivers to " + hostOf(have) + ", TELEGRAM_WEBHOOK_URL points at " + hostOf(want),
			fix: "serve sets it when it starts; if another deployment uses this token, it will take the updates back"}
	case lastErr != "":
		return check{name: name, status: checkWarn, detail: fmt.Sprintf("set to %s, but the last delivery failed: %s (%d waiting)", hostOf(want), lastErr, pending),
			fix: "check that TELEGRAM_WEBHOOK_URL reaches serve's HTTP listener over HTTPS"}
	}
	return check{name: name, status: checkOK, detail: fmt.Sprintf("set to %s (%d updates waiting)", hostOf(want), pending)}
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "an unreadable URL"
	}
	return u.Scheme + "://" + u.Host
}

// checkRedis pings Redis and reads its version and persistence.
func (d *doctor) checkRedis(ctx context.Context, raw string) {
	o, err := goredis.ParseURL(raw)
	if err != nil {
		d.add(check{name: "Redis", status: checkFail, detail: "REDIS_URL is not a valid redis:// or rediss:// URL", fix: "fix REDIS_URL"})
		return
	}
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.MaxRetries, o.DialerRetries = doctorNetTimeout/2, doctorNetTimeout/2, doctorNetTimeout/2, -1, 1
	ctx, cancel := context.WithTimeout(ctx, doctorNetTimeout)
	defer cancel()
	// Dial first: go-redis would log its own failed dials on stderr.
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", o.Addr)
	if err != nil {
		d.add(check{name: "Redis", status: checkFail, detail: "no answer from " + o.Addr + ": " + err.Error(),
			fix: "start Redis or fix REDIS_URL (unset it to use the embedded store)"})
		return
	}
	conn.Close()
	c := goredis.NewClient(o)
	defer c.Close()
	if err := c.Ping(ctx).Err(); err != nil {
		d.add(check{name: "Redis", status: checkFail, detail: "no answer from " + o.Addr + ": " + err.Error(),
			fix: "start Redis or fix REDIS_URL (unset it to use the embedded store)"})
		return
	}
	server, _ := c.Info(ctx, "server").Result()
	d.add(check{name: "Redis", status: checkOK, detail: "Redis " + orDefault(infoField(server, "redis_version"), "(version unknown)") + " at " + o.Addr})

	pers, _ := c.Info(ctx, "persistence").Result()
	aof := infoField(pers, "aof_enabled") == "1"
	rdb, rdbKnown := false, false
	if v, err := c.ConfigGet(ctx, "save").Result(); err == nil {
		rdbKnown, rdb = true, strings.TrimSpace(v["save"]) != ""
	}
	switch {
	case aof:
		d.add(check{name: "Redis persistence", status: checkOK, detail: "append-only file on"})
	case rdb:
		d.add(check{name: "Redis persistence", status: checkOK, detail: "RDB snapshots only: a crash loses the writes since the last snapshot",
			fix: "appendonly yes is safer"})
	case rdbKnown:
		d.add(check{name: "Redis persistence", status: checkWarn, detail: "neither AOF nor RDB snapshots are on: a Redis restart loses every session",
			fix: "run Redis with --appendonly yes"})
	default:
		d.add(check{name: "Redis persistence", status: checkWarn, detail: "AOF is off and snapshots could not be checked (CONFIG GET refused)",
			fix: "make sure the provider persists data, or enable appendonly yes"})
	}
}

// infoField reads "key:value" from an INFO section.
func infoField(info, key string) string {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), key+":"); ok {
			return v
		}
	}
	return ""
}

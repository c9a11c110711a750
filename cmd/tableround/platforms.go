package main

import (
	"context"
	"log/slog"

	"github.com/sethvargo/go-envconfig"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/bot/discord"
)

// buildPlatforms builds the adapters whose tokens are configured.
func buildPlatforms(ctx context.Context, l envconfig.Lookuper, h bot.Handler, logger *slog.Logger) ([]*platform, error) {
	var out []*platform
	var dc discord.Config
	if err := loadConfig(ctx, l, &dc); err != nil {
		return nil, err
	}
	if dc.Token != "" {
		a, err := discord.New(dc, h, discord.Options{Logger: logger.With("component", "discord")})
		if err != nil {
			return nil, &ConfigError{Msg: "DISCORD_TOKEN: " + err.Error()}
		}
		out = append(out, &platform{name: "discord", run: a.Run})
	}
	return out, nil
}

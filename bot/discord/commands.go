package discord

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/bwmarrin/discordgo"

	"github.com/tableround/tableround/bot"
)

// commandName is the one slash command; its subcommands map to bot.Command.
const commandName = "roundtable"

// Commands returns the /roundtable definition registered with a bulk
// overwrite.
func Commands() []*discordgo.ApplicationCommand {
	one := 1.0
	sub := func(name, desc string, opts ...*discordgo.ApplicationCommandOption) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionSubCommand, Name: name, Description: desc, Options: opts}
	}
	str := func(name, desc string, required bool, max int, choices ...string) *discordgo.ApplicationCommandOption {
		o := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: name, Description: desc, Required: required, MaxLength: max}
		for _, c := range choices {
			o.Choices = append(o.Choices, &discordgo.ApplicationCommandOptionChoice{Name: c, Value: c})
		}
		return o
	}
	return []*discordgo.ApplicationCommand{{
		Name:        commandName,
		Description: "Six personas discuss a topic at a roundtable",
		Options: []*discordgo.ApplicationCommandOption{
			sub("start", "Start a roundtable on a topic",
				str("topic", "What the table discusses", true, 500),
				&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionAttachment, Name: "image", Description: "A photo for the table to look at"},
				&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionInteger, Name: "turns", Description: "Discussion rounds", MinValue: &one, MaxValue: 5},
				str("language", "Language of the table", false, 0, "en", "zh"),
				str("pack", "Persona pack", false, 64)),
			sub("stop", "Stop the roundtable here"),
			sub("status", "Where the roundtable is"),
			sub("export", "Export the transcript", str("format", "File format", false, 0, "md", "json", "html")),
			sub("personas", "Who sits at the table"),
			sub("forget", "Forget what the table remembers of this channel"),
			sub("say", "Say something to the table", str("text", "What you say", true, 1000)),
			sub("help", "How to use the roundtable"),
		},
	}}
}

// publicReply tells the subcommands that answer publicly; the others are
// acknowledgements.
func publicReply(c bot.Command) bool { return c == bot.CmdExport || c == bot.CmdPersonas }

// register puts the /roundtable definition in guild (globally when
// empty) with a bulk overwrite.
func (a *responder) register(ctx context.Context, guild string) error {
	app := a.who.app()
	if app == "" {
		return fmt.Errorf("discord: register commands: READY carried no application")
	}
	var u string
	if guild != "" {
		u = discordgo.EndpointApplicationGuildCommands(app, guild)
	} else {
		u = discordgo.EndpointApplicationGlobalCommands(app)
	}
	body, err := jsonOf(Commands())
	if err != nil {
		return fmt.Errorf("discord: encode commands: %w", err)
	}
	if err := a.rest.setupCall(ctx, http.MethodPut, u, body, nil); err != nil {
		return fmt.Errorf("discord: register commands: %w", err)
	}
	return nil
}

// parseCommand turns /roundtable <sub> options into a Request (without
// channel, user or conversation).
func parseCommand(data discordgo.ApplicationCommandInteractionData) (bot.Request, string, bool) {
	if data.Name != commandName || len(data.Options) == 0 {
		return bot.Request{}, "", false
	}
	sub := data.Options[0]
	req := bot.Request{Command: bot.Command(sub.Name), Options: map[string]string{}}
	var attachment string
	for _, o := range sub.Options {
		switch o.Name {
		case "topic", "text":
			req.Text = o.StringValue()
		case "image":
			attachment, _ = o.Value.(string)
		case "turns":
			req.Options["turns"] = strconv.FormatInt(o.IntValue(), 10)
		default:
			req.Options[o.Name] = fmt.Sprint(o.Value)
		}
	}
	switch req.Command {
	case bot.CmdStart, bot.CmdStop, bot.CmdStatus, bot.CmdExport, bot.CmdPersonas, bot.CmdForget, bot.CmdSay, bot.CmdHelp:
		return req, attachment, true
	}
	return bot.Request{}, "", false
}

// user is the person behind an interaction; Admin means Manage Messages or
// Administrator in the channel.
func interactionUser(i *discordgo.Interaction) bot.User {
	var u *discordgo.User
	var perms int64
	if i.Member != nil {
		u, perms = i.Member.User, i.Member.Permissions
	} else {
		u = i.User
	}
	if u == nil {
		return bot.User{}
	}
	return bot.User{
		ID:    u.ID,
		Name:  userName(u),
		Admin: perms&(discordgo.PermissionManageMessages|discordgo.PermissionAdministrator) != 0,
	}
}

func userName(u *discordgo.User) string {
	if u.GlobalName != "" {
		return u.GlobalName
	}
	return u.Username
}

package discordfake

import (
	"fmt"
)

// PostUser posts a person's message to a channel and dispatches
// MESSAGE_CREATE. When mentionBot is true the content starts with the
// bot's mention and the bot is in mentions. Attachments are served by the
// fake at their URL. It returns the message ID.
func (s *Server) PostUser(channel string, u User, content string, mentionBot bool, files ...File) (string, error) {
	s.mu.Lock()
	c, ok := s.channel(channel)
	if !ok {
		s.mu.Unlock()
		return "", fmt.Errorf("discordfake: unknown channel %s", channel)
	}
	m := s.newMessage(channel, u.ID, u.Name)
	m.Content = content
	mentions := []any{}
	if mentionBot {
		m.Content = "<@" + s.bot.ID + "> " + content
		mentions = append(mentions, map[string]any{"id": s.bot.ID, "username": s.bot.Name, "bot": true})
	}
	m.History = []string{m.Content}
	var atts []any
	for _, f := range files {
		key := s.newID() + "/" + f.Name
		s.putAttachment(key, f)
		atts = append(atts, s.attachmentJSON(s.newID(), key, f))
	}
	ev := map[string]any{"id": m.ID, "channel_id": channel, "content": m.Content, "type": 0,
		"author": map[string]any{"id": u.ID, "username": u.Name}, "mentions": mentions, "attachments": atts}
	if c.GuildID != "" {
		ev["guild_id"] = c.GuildID
	}
	s.mu.Unlock()
	return m.ID, s.Dispatch("MESSAGE_CREATE", ev)
}

// Slash describes a /command use.
type Slash struct {
	Channel     string
	User        User
	Command     string         // "roundtable"
	Sub         string         // "start"
	Options     map[string]any // option name → value (strings, numbers)
	Image       *File          // the attachment option "image"
	Permissions int64          // the member's permissions in the channel
}

// Interact dispatches an INTERACTION_CREATE and returns its token, with
// which Interaction reads what the client answered.
func (s *Server) Interact(typ int, channel string, u User, data map[string]any, source string, perms int64) (string, error) {
	s.mu.Lock()
	in := &Interaction{ID: s.newID(), Token: "itok" + s.newID(), ChannelID: channel, source: source}
	s.interactions.add(in)
	ev := map[string]any{
		"id": in.ID, "application_id": s.appID, "type": typ, "data": data, "channel_id": channel, "token": in.Token, "version": 1,
		"member":          map[string]any{"user": map[string]any{"id": u.ID, "username": u.Name}, "permissions": fmt.Sprint(perms)},
		"app_permissions": "0",
	}
	if c, ok := s.channel(channel); ok && c.GuildID != "" {
		ev["guild_id"] = c.GuildID
	}
	if source != "" {
		if m := s.messages[source]; m != nil {
			ev["message"] = m.json(s.bot.ID)
		}
	}
	s.mu.Unlock()
	return in.Token, s.Dispatch("INTERACTION_CREATE", ev)
}

// SlashCommand dispatches a slash command interaction.
func (s *Server) SlashCommand(c Slash) (string, error) {
	var opts []any
	for k, v := range c.Options {
		t := 3
		switch v.(type) {
		case int, int64, float64:
			t = 4
		}
		opts = append(opts, map[string]any{"name": k, "type": t, "value": v})
	}
	data := map[string]any{"id": s.NewID(), "name": c.Command, "type": 1}
	if c.Image != nil {
		id := s.newID()
		key := id + "/" + c.Image.Name
		s.putAttachment(key, *c.Image)
		att := s.attachmentJSON(id, key, *c.Image)
		opts = append(opts, map[string]any{"name": "image", "type": 11, "value": id})
		data["resolved"] = map[string]any{"attachments": map[string]any{id: att}}
	}
	if c.Sub != "" {
		data["options"] = []any{map[string]any{"name": c.Sub, "type": 1, "options": opts}}
	} else {
		data["options"] = opts
	}
	return s.Interact(2, c.Channel, c.User, data, "", c.Permissions)
}

// Click presses a button on a message.
func (s *Server) Click(channel, message, customID string, u User) (string, error) {
	return s.Interact(3, channel, u, map[string]any{"custom_id": customID, "component_type": 2}, message, 0)
}

// SubmitModal submits a modal with text inputs (custom_id → value), as
// opened from a button on message.
func (s *Server) SubmitModal(channel, message, customID string, fields map[string]string, u User) (string, error) {
	var rows []any
	for k, v := range fields {
		rows = append(rows, map[string]any{"type": 1, "components": []any{map[string]any{"type": 4, "custom_id": k, "value": v}}})
	}
	return s.Interact(5, channel, u, map[string]any{"custom_id": customID, "components": rows}, message, 0)
}

package discord

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/tableround/tableround/bot"
)

// pendingAsk is an open people's turn in one channel. The first answer
// closes it; answers racing it before AskKeywords picks it up overwrite it
// (the last submission before the question closes wins).
type pendingAsk struct {
	*bot.Pending
	q     bot.Question
	msgID atomic.Value // string: the question's message, once sent
}

// messageID is the question's message ID ("" until it is sent).
func (p *pendingAsk) messageID() string {
	id, _ := p.msgID.Load().(string)
	return id
}

// AskKeywords posts the people's turn as the bot (never a persona) with
// Keep / Edit / Skip buttons and waits for the first answer or the timeout.
func (c *conv) AskKeywords(ctx context.Context, q bot.Question) (bot.Answer, error) {
	a := c.a
	if q.Timeout <= 0 {
		q.Timeout = a.o.PeopleTimeout
	}
	p := &pendingAsk{Pending: bot.NewPending(), q: q}
	a.asks.Open(c.channel, p)
	defer a.asks.Close(c.channel, p)

	comps := []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
		discordgo.Button{Label: "Keep", Style: discordgo.SuccessButton, CustomID: customID(actKeep, c.channel)},
		discordgo.Button{Label: "Edit", Style: discordgo.PrimaryButton, CustomID: customID(actEdit, c.channel)},
		discordgo.Button{Label: "Skip", Style: discordgo.SecondaryButton, CustomID: customID(actSkip, c.channel)},
	}}}
	msg, err := a.botMsgs.send(ctx, c.channel, botMessage{Content: askText(q, ""), Components: &comps}, nil)
	if err != nil {
		return bot.Answer{}, err
	}
	p.msgID.Store(msg.ID)

	tctx, cancel := context.WithCancel(ctx)
	timedOut := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if a.o.Clock.Sleep(tctx, q.Timeout) == nil {
			close(timedOut)
		}
	}()
	defer wg.Wait()
	defer cancel()

	select {
	case <-p.Done():
		return *p.Close(), nil
	case <-timedOut:
	case <-ctx.Done():
	}
	if ans := p.Close(); ans != nil { // answered at the last moment
		return *ans, nil
	}
	ans := bot.Answer{Action: bot.ActionTimeout, Keywords: q.Keywords}
	none := []discordgo.MessageComponent{}
	final := context.WithoutCancel(ctx)
	if err := a.botMsgs.edit(final, c.channel, msg.ID, botMessage{Content: askText(q, "⏱ No answer in time: the vote stands."), Components: &none}); err != nil {
		a.log.Warn("close people's turn", "err", err)
	}
	if ctx.Err() != nil {
		return bot.Answer{}, ctx.Err()
	}
	return ans, nil
}

func askText(q bot.Question, outcome string) string {
	var b strings.Builder
	b.WriteString("**" + q.Text + "**\n")
	b.WriteString(strings.Join(q.Keywords, " · "))
	if outcome == "" {
		b.WriteString("\n-# Anyone may answer: Keep, Edit or Skip (" + q.Timeout.Round(time.Second).String() + ").")
	} else {
		b.WriteString("\n" + outcome)
	}
	return truncate(b.String(), maxContent)
}

func (a *Adapter) pending(channel string) *pendingAsk { return a.asks.Get(channel) }

// onAskButton answers Keep and Skip by updating the question in place,
// and Edit with the keywords modal (a modal must be the first response).
//
// With no question open here (another replica asked it: the session was
// resumed there), the answer goes to the handler, which relays it; the
// question's text and keywords are read from the message itself.
func (a *Adapter) onAskButton(ctx context.Context, i *discordgo.Interaction, act, channel string) {
	p := a.pending(channel)
	user := interactionUser(i)
	if act == actEdit {
		var kws []string
		if p != nil {
			kws = p.q.Keywords
		} else {
			kws = keywordsOf(i.Message)
		}
		err := a.replies.respond(ctx, i, &discordgo.InteractionResponse{Type: respondModal, Data: &discordgo.InteractionResponseData{
			CustomID: customID(actKeywords, channel),
			Title:    "Edit the keywords",
			Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
				discordgo.TextInput{CustomID: keywordsInput, Label: "Keywords, comma-separated", Style: discordgo.TextInputParagraph,
					Value: truncate(strings.Join(kws, ", "), 4000), Required: true, MaxLength: 4000},
			}}},
		}})
		if err != nil {
			a.log.Warn("open keywords modal", "err", err)
		}
		return
	}
	ans := bot.Answer{Action: bot.ActionKeep, By: user.Name}
	if p != nil {
		ans.Keywords = p.q.Keywords
	}
	outcome := "✅ Kept by " + user.Name + "."
	if act == actSkip {
		ans.Action, outcome = bot.ActionSkip, "⏭ Skipped by "+user.Name+": the vote stands."
	}
	a.settle(ctx, i, channel, p, ans, outcome)
}

// onModal takes the keywords modal's comma list.
func (a *Adapter) onModal(ctx context.Context, i *discordgo.Interaction) {
	data := i.ModalSubmitData()
	act, channel, ok := parseCustomID(data.CustomID)
	if !ok || act != actKeywords {
		return
	}
	p := a.pending(channel)
	var text string
	for _, row := range data.Components {
		if r, ok := row.(*discordgo.ActionsRow); ok {
			for _, c := range r.Components {
				if ti, ok := c.(*discordgo.TextInput); ok && ti.CustomID == keywordsInput {
					text = ti.Value
				}
			}
		}
	}
	kws := SplitKeywords(text)
	user := interactionUser(i)
	a.settle(ctx, i, channel, p, bot.Answer{Action: bot.ActionEdit, Keywords: kws, By: user.Name},
		"✏️ Edited by "+user.Name+": "+strings.Join(kws, " · "))
}

// settle records an answer and updates the question message in the same
// response (no buttons left).
func (a *Adapter) settle(ctx context.Context, i *discordgo.Interaction, channel string, p *pendingAsk, ans bot.Answer, outcome string) {
	var content string
	if p != nil {
		if !p.Submit(ans) {
			a.closedQuestion(ctx, i)
			return
		}
		content = askText(p.q, outcome)
	} else {
		ref := ""
		if i.Message != nil {
			ref = i.Message.ID
		}
		if _, err := a.h.Handle(ctx, bot.Request{Command: bot.CmdAnswer, Channel: chanKey(channel),
			User: interactionUser(i), Answer: &ans, Ref: ref}); err != nil {
			if !errors.Is(err, bot.ErrNoQuestion) {
				a.log.Warn("relay an answer", "channel", channel, "err", err)
			}
			a.closedQuestion(ctx, i)
			return
		}
		content = settledText(i.Message, outcome)
	}
	err := a.replies.respond(ctx, i, &discordgo.InteractionResponse{Type: respondUpdateMessage, Data: &discordgo.InteractionResponseData{
		Content: content, Components: []discordgo.MessageComponent{},
	}})
	if err != nil {
		a.log.Warn("update people's turn", "err", err)
	}
}

// SubmitAnswer takes an answer relayed from another replica
// (bot.Answerable): ref is the question's message ID.
func (c *conv) SubmitAnswer(ref string, ans bot.Answer) bool {
	a := c.a
	p := a.asks.Get(c.channel)
	msgID := ""
	if p != nil {
		msgID = p.messageID()
	}
	if p == nil || (ref != "" && msgID != "" && ref != msgID) {
		return false
	}
	if ans.Action == bot.ActionKeep && len(ans.Keywords) == 0 {
		ans.Keywords = p.q.Keywords
	}
	return p.Submit(ans)
}

// keywordsOf reads the keywords back from a question message (askText's
// second line).
func keywordsOf(m *discordgo.Message) []string {
	if m == nil {
		return nil
	}
	lines := strings.Split(m.Content, "\n")
	if len(lines) < 2 {
		return nil
	}
	return strings.Split(lines[1], " · ")
}

// settledText is a question message's text with its instructions replaced
// by the outcome.
func settledText(m *discordgo.Message, outcome string) string {
	if m == nil {
		return outcome
	}
	text := m.Content
	if i := strings.LastIndex(text, "\n-# "); i >= 0 {
		text = text[:i]
	}
	return truncate(text+"\n"+outcome, maxContent)
}

func (a *Adapter) closedQuestion(ctx context.Context, i *discordgo.Interaction) {
	err := a.replies.respond(ctx, i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Content: questionClosedMessage, Flags: ephemeral}})
	if err != nil {
		a.log.Warn("answer closed question", "err", err)
	}
}

// SplitKeywords splits an edited keyword list on commas (ASCII and CJK),
// semicolons and newlines, trimming blanks.
func SplitKeywords(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == '，' || r == '、' || r == ';' || r == '；' || r == '\n'
	}) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

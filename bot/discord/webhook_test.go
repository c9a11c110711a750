package discord

import (
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/tableround/tableround/bot"
)

func testPool(n int) *hookPool {
	p := &hookPool{parent: "1"}
	global := bot.NewScheduler(bot.Budget{Rate: 45}, nil, nil)
	for i := range n {
		p.slots = append(p.slots, &hookSlot{index: i, sched: bot.NewScheduler(bot.Budget{Rate: 2.25}, global, nil)})
	}
	return p
}

func TestPoolChoosesTheLeastBusyWebhook(t *testing.T) {
	p := testPool(3)
	p.slots[1].hook = &discordgo.Webhook{ID: "11"}
	// Nothing streams: an existing webhook before creating one.
	if s := p.choose(); s.index != 1 {
		t.Fatalf("chose slot %d, want 1 (the one with a webhook)", s.index)
	}
	leave1 := p.slots[1].sched.Join()
	// Slot 1 is busy: an idle slot, even one whose webhook is still to be
	// created.
	s := p.choose()
	if s.index == 1 {
		t.Fatal("chose the busy slot while others were idle")
	}
	s.sched.Join()
	other := 2
	if s.index == 2 {
		other = 0
	}
	if s := p.choose(); s.index != other {
		t.Fatalf("chose slot %d, want the last idle slot %d", s.index, other)
	}
	p.slots[other].sched.Join()
	p.slots[0].hook, p.slots[2].hook = &discordgo.Webhook{ID: "10"}, &discordgo.Webhook{ID: "12"}
	// All busy once and all created: the least recently chosen goes first.
	if s := p.choose(); s.index != 1 {
		t.Fatalf("chose slot %d, want 1 (chosen longest ago)", s.index)
	}
	leave1()
	leave1()
	// At Discord's cap only slots with a webhook are chosen.
	p.slots[0].hook, p.slots[2].hook = nil, nil
	p.full = true
	for range 3 {
		if s := p.choose(); s.index != 1 {
			t.Fatalf("at the cap chose slot %d, which has no webhook", s.index)
		}
	}
}

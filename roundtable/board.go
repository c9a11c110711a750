package roundtable

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/transcript"
)

// ui are the lines people see from the moderator, per language.
var ui = map[string]map[string]string{
	"en": {
		"opening":        "**Roundtable:** %s\nAt the table:",
		"how":            "Talk to the table by mentioning me (or /say); the next speaker will answer. Stop any time with the Stop button or /stop.",
		"remember":       "Last time in this channel: %s",
		"resuming":       "▶️ Resuming the session at: %s",
		"stopped":        "⏹️ The session was stopped. Everything said so far is saved.",
		"capped":         "⏹️ We stop here: %s. Everything is saved; export it with the session ID %s.",
		"interrupted":    "⏸️ Paused. Resume with: tableround console --resume %s",
		"failed":         "⚠️ Sorry — the session could not go on. What was said is saved (session %s).",
		"cut":            "…(stopped)",
		"seat_failed":    "⚠️ %s could not speak this time (%s). The table goes on. (session %s)",
		"regenerated":    "_(regenerated after a connection problem)_",
		"looking":        "📷 Looking at the photo…",
		"photo_failed":   "I couldn't read that photo.",
		"vision_failed":  "📷 I couldn't read the photo (%s). The table will go on without it. (session %s)",
		"grouping":       "🗂️ Grouping the keywords…",
		"kj_title":       "🗂️ **Affinity groups (KJ)**",
		"core":           "Core concept",
		"vote_result":    "🗳️ **Vote result** (a keyword needs %d votes of %d voters):",
		"filled":         "_(Too few keywords reached the threshold; topped up by vote count.)_",
		"people":         "the people",
		"ask":            "🙋 Your turn: keep these keywords, skip, or send your own (comma-separated).",
		"people_keep":    "✅ Keywords kept: %s",
		"people_edit":    "✏️ The people chose: %s",
		"people_skip":    "⏭️ Keeping the table's vote: %s",
		"people_timeout": "⌛ No answer in time; keeping the vote: %s",
		"people_chose":   "The people in the chat chose these keywords themselves: %s.",
		"no_images":      "🖼️ Image generation is off (IMAGE_PROVIDER=none). Here is the image prompt to use elsewhere:\n%s",
		"image_failed":   "🖼️ The image could not be generated (%s; session %s). The prompt:\n%s",
		"drawing":        "drawing the design",
		"closing":        "🏁 **That's the roundtable on** %s\nFinal keywords: %s",
		"usage":          "Model calls: %d · %s",
		"export":         "Session ID: %s — export it with /export (or `tableround export <id>`).",
		"demo":           "🧪 This session ran on the built-in demo model (scripted text, no AI). Set AI_PROVIDER and a key for real discussions.",
		"board_title":    "🪑 **TableRound** — %s",
		"board_stage":    "Stage: **%s** (%d/%d)",
		"board_speak":    "Speaking: %s",
		"board_wait":     "⏳ Waiting for a model slot: place %d",
		"board_chat":     "⏳ Waiting for the chat to catch up",
		"board_moved":    "🪑 This board has moved: the session resumed after a restart (see below).",
		"cut_restart":    "…(cut off by a restart; the table picks up below)",
		"board_usage":    "Calls: %d · %s",
		"board_end":      "Status: **%s**",
		"overran":        "✂️ _(cut: too long)_",
		"board_overrun":  "✂️ Cut for length: %s",
	},
	"zh": {
		"opening":        "**圆桌主题：** %s\n在座：",
		"how":            "提到我（或用 /say）即可向大家发言，下一位发言人会回应。随时可以用停止按钮或 /stop 结束。",
		"remember":       "上次在本频道：%s",
		"resuming":       "▶️ 从这里继续：%s",
		"stopped":        "⏹️ 会议已停止，目前的内容都已保存。",
		"capped":         "⏹️ 就到这里：%s。内容都已保存，可用会话ID %s 导出。",
		"interrupted":    "⏸️ 已暂停。继续：tableround console --resume %s",
		"failed":         "⚠️ 抱歉，会议无法继续。已说的内容都已保存（会话 %s）。",
		"cut":            "…（已停止）",
		"seat_failed":    "⚠️ %s 这次没能发言（%s）。会议继续。（会话 %s）",
		"regenerated":    "_（连接出问题后重新生成）_",
		"looking":        "📷 正在看照片…",
		"photo_failed":   "我读不了这张照片。",
		"vision_failed":  "📷 没能读取这张照片（%s），会议将不带照片继续。（会话 %s）",
		"grouping":       "🗂️ 正在给关键词分组…",
		"kj_title":       "🗂️ **亲和分组（KJ法）**",
		"core":           "核心概念",
		"vote_result":    "🗳️ **投票结果**（需 %d 票，共 %d 人投票）：",
		"filled":         "_（达到门槛的关键词太少，按票数补足。）_",
		"people":         "大家",
		"ask":            "🙋 轮到你们了：保留这些关键词、跳过，或发送你们自己的（用逗号分隔）。",
		"people_keep":    "✅ 保留关键词：%s",
		"people_edit":    "✏️ 大家选定：%s",
		"people_skip":    "⏭️ 沿用投票结果：%s",
		"people_timeout": "⌛ 没有及时回复，沿用投票结果：%s",
		"people_chose":   "聊天中的大家亲自选定了这些关键词：%s。",
		"no_images":      "🖼️ 图像生成已关闭（IMAGE_PROVIDER=none）。可在别处使用的提示词：\n%s",
		"image_failed":   "🖼️ 图像没能生成（%s；会话 %s）。提示词：\n%s",
		"drawing":        "正在绘制设计图",
		"closing":        "🏁 **圆桌结束：** %s\n最终关键词：%s",
		"usage":          "模型调用：%d 次 · %s",
		"export":         "会话ID：%s —— 用 /export（或 `tableround export <id>`）导出。",
		"demo":           "🧪 本次会议使用内置演示模型（脚本文字，非AI）。设置 AI_PROVIDER 和密钥即可进行真实讨论。",
		"board_title":    "🪑 **TableRound** —— %s",
		"board_stage":    "阶段：**%s**（%d/%d）",
		"board_speak":    "发言：%s",
		"board_wait":     "⏳ 正在排队等待模型：第 %d 位",
		"board_chat":     "⏳ 正在等待聊天跟上",
		"board_moved":    "🪑 看板已移到下方：会议在重启后继续。",
		"cut_restart":    "…（因重启中断，会议在下方继续）",
		"board_usage":    "调用：%d · %s",
		"board_end":      "状态：**%s**",
		"overran":        "✂️ _（太长，已截断）_",
		"board_overrun":  "✂️ 因过长被截断：%s",
	},
}

var stageTitles = map[string]map[string]string{
	"en": {StageOpening: "Opening", StageIntro: "Introductions", StagePhoto: "Stories from the photo",
		StageDiscussion: "Discussion", StageKeywords: "Keyword extraction", StageKJ: "KJ grouping", StageVoting: "Voting",
		StagePeople: "The people's turn", StageSwitch: "Role switch", StageWorkshop: "Workshop in new roles",
		StageCards: "Design cards", StageFinal: "Final design", StageClosing: "Closing"},
	"zh": {StageOpening: "开场", StageIntro: "自我介绍", StagePhoto: "看图讲故事", StageDiscussion: "讨论",
		StageKeywords: "提取关键词", StageKJ: "KJ分组", StageVoting: "投票", StagePeople: "大家的决定",
		StageSwitch: "角色互换", StageWorkshop: "新角色工作坊", StageCards: "设计卡片", StageFinal: "最终设计", StageClosing: "结束"},
}

// StopButton is the ID of the board's Stop button.
const StopButton = "stop"

// board is the session's live status message: the stage and its progress,
// who speaks, the waits (a model slot, the chat), usage and overruns.
type board struct {
	*table
	out *outbox

	// mu guards the fields below. The State the board also shows is read
	// under the table's lock, taken after this one is released: never both.
	mu       sync.Mutex
	stream   bot.Stream
	stage    string
	inStage  time.Time // when stage began in this process (stuck-stage metric)
	speaker  string
	slots    map[int]int // place in line for a model slot, per waiting seat (-1: the moderator)
	chatWait bool        // the session waits for its chat
	steps    int         // len(plan()), fixed for the session
}

// open posts the board with its Stop button.
func (b *board) open(ctx context.Context) {
	st, err := b.out.open(ctx, bot.Post{From: b.moderator(), Kind: bot.KindBoard, Placeholder: b.text(false),
		Buttons: []bot.Button{{ID: StopButton, Label: "⏹ Stop"}}})
	if err != nil {
		b.log.Warn("open board failed", "err", err)
		return
	}
	b.mu.Lock()
	b.stream = st
	b.mu.Unlock()
}

// update refreshes the live board; final closes it.
func (b *board) update(final bool) {
	b.mu.Lock()
	st := b.stream
	b.mu.Unlock()
	if st == nil {
		return
	}
	text := b.text(final)
	if final {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := st.Close(cctx, text); err == nil || errors.Is(err, bot.ErrGone) {
			if t, ok := st.(*tracked); ok {
				b.out.record(cctx, transcript.Outbox{N: t.n, Op: transcript.OutboxShown})
			}
		}
		return
	}
	st.Update(text)
}

// releaseWait bounds how long a session stopping here waits for its
// board's last refresh and its final edits, together. The chat's budget
// may hold those writes for long (a Telegram 429's retry_after, the
// speeches queued ahead), and a shutdown must not wait it out: the board
// is not owed to anyone, since whoever resumes the session opens a new
// one, and the final edits stay owed in the outbox.
const releaseWait = 2 * time.Second

// release ends the board's stream when the session stops here without
// a final board (suspended, or its lease lost; whoever resumes it opens a
// new board): the message keeps the state it last showed, or its last
// refresh if the chat takes it within releaseWait, and the stream's
// writer, which would otherwise wait for a Close for the rest of the
// process's life, ends.
func (b *board) release(by time.Time) {
	b.mu.Lock()
	st := b.stream
	b.stream = nil
	b.mu.Unlock()
	if st == nil {
		return
	}
	cctx, cancel := context.WithDeadline(context.Background(), by)
	defer cancel()
	err := st.Close(cctx, "")
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		b.log.Info("the board's last refresh did not reach the chat before the session stopped here", "wait", releaseWait)
	case err != nil && !errors.Is(err, bot.ErrGone):
		b.log.Warn("release the board", "err", err)
	}
}

// setSteps sets how many steps the session has (the progress shown).
func (b *board) setSteps(n int) {
	b.mu.Lock()
	b.steps = n
	b.mu.Unlock()
}

// setStage records the stage now running; nobody speaks yet.
func (b *board) setStage(stage string) {
	b.mu.Lock()
	if b.stage != stage || b.inStage.IsZero() {
		b.inStage = b.deps.Now()
	}
	b.stage = stage
	b.speaker = ""
	b.mu.Unlock()
}

// setSpeaker shows who speaks now.
func (b *board) setSpeaker(name string) {
	b.mu.Lock()
	b.speaker = name
	b.mu.Unlock()
	b.update(false)
}

// progress is the stage, the speaker and when the stage began here.
func (b *board) progress() (stage, speaker string, inStage time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stage, b.speaker, b.inStage
}

// showChatWait shows (or clears) that the session waits for its chat.
func (b *board) showChatWait(on bool) {
	b.mu.Lock()
	b.chatWait = on
	b.mu.Unlock()
	b.update(false)
}

// waitSlot is the onWait of a seat's model calls (-1: the moderator's): it
// keeps the seat's place in line for a model slot (LLM_CONCURRENCY) and
// refreshes the board, which shows the nearest place.
func (b *board) waitSlot(seat int) func(place int) {
	return func(place int) {
		b.mu.Lock()
		if place > 0 {
			if b.slots == nil {
				b.slots = map[int]int{}
			}
			b.slots[seat] = place
		} else {
			delete(b.slots, seat)
		}
		b.mu.Unlock()
		b.update(false)
	}
}

// text is the board's text; final is the closed board's.
func (b *board) text(final bool) string {
	b.mu.Lock()
	stage, speaker, place, chatWait, total := b.stage, b.speaker, minPlace(b.slots), b.chatWait, b.steps
	b.mu.Unlock()
	b.table.mu.Lock()
	defer b.table.mu.Unlock()
	var w strings.Builder
	fmt.Fprintf(&w, b.ui("board_title"), b.st.Meta.Topic)
	if b.deps.Demo {
		w.WriteString("\n🧪 demo model")
	}
	var seats []string
	for i := range b.st.Pack.Seats {
		p := b.persona(i)
		seats = append(seats, p.Emoji+" "+p.Name)
	}
	w.WriteString("\n" + strings.Join(seats, " · "))
	if final {
		fmt.Fprintf(&w, "\n"+b.ui("board_end"), b.st.Meta.Status)
	} else {
		if stage == "" {
			stage = StageOpening
		}
		fmt.Fprintf(&w, "\n"+b.ui("board_stage"), b.stageTitle(stage), b.st.Meta.Step+1, total)
		if speaker != "" {
			fmt.Fprintf(&w, "\n"+b.ui("board_speak"), speaker)
		}
		if place > 0 {
			fmt.Fprintf(&w, "\n"+b.ui("board_wait"), place)
		}
		if chatWait {
			w.WriteString("\n" + b.ui("board_chat"))
		}
	}
	u := b.st.Usage
	line := usageLine(b.lang(), u)
	if u.CostUSD == 0 && b.deps.ModelName != "" {
		line += " · " + b.deps.ModelName
	}
	if o := b.overrunLine(); o != "" {
		fmt.Fprintf(&w, "\n"+b.ui("board_overrun"), o)
	}
	fmt.Fprintf(&w, "\n"+b.ui("board_usage"), u.Calls, line)
	fmt.Fprintf(&w, "\nID: %s", b.st.Meta.ID)
	return w.String()
}

// overrunLine names the seats whose speeches were cut, with a count;
// the table's lock is held.
func (b *board) overrunLine() string {
	var parts []string
	for i, seat := range b.st.Pack.Seats {
		if n := b.st.Overruns[seat.ID]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s ×%d", b.persona(i).Name, n))
		}
	}
	return strings.Join(parts, " · ")
}

// minPlace is the nearest place in line of the session's waiting calls,
// 0 when none waits.
func minPlace(slots map[int]int) int {
	least := 0
	for _, p := range slots {
		if least == 0 || p < least {
			least = p
		}
	}
	return least
}

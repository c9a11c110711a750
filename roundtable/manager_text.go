package roundtable

// managerText are the manager's short replies, per language.
var managerText = map[string]map[string]string{
	"en": {
		"help": "🪑 **TableRound** — six AI personas hold a roundtable on your topic or photo and design something together.\n" +
			"• start: mention me with a topic (and optionally a photo), or /roundtable <topic>\n" +
			"• talk to the table: mention me or /say <text> while it runs — the next speaker answers\n" +
			"• /stop (the starter or an admin) · /status · /export [md|json|html] · /personas · /forget (admins)",
		"unknown":        "I don't know that command. Try /help.",
		"need_topic":     "Give me a topic (and optionally a photo), e.g. “a paper-cut lantern for Spring Festival”.",
		"already":        "A roundtable is already running here %s. Stop it first, or wait for it to finish.",
		"busy":           "I'm running as many roundtables as I can right now. Please try again in a few minutes.",
		"user_limit":     "You've started %d roundtables in the last hour, which is the limit. You can start again at %s.",
		"call_limit":     "Your roundtables used their %d model calls for the last hour. You can start again at %s.",
		"photo_topic":    "What this photo could become",
		"bad_pack":       "I don't know that persona pack. Available: %s.",
		"start_failed":   "Sorry, something went wrong on my side. Please try again in a moment.",
		"started":        "🪑 Starting roundtable %s…",
		"none":           "No roundtable is running here. Start one with a topic: /roundtable <topic>.",
		"not_yours":      "Only %s (who started it) or an admin can stop this roundtable.",
		"stopping":       "⏹️ Stopping roundtable %s. Everything said so far is saved.",
		"heard":          "👂 Passed to the table; the next speaker will answer.",
		"status":         "Roundtable %s — stage: %s · speaking: %s · running %s · %d tokens",
		"last":           "No roundtable is running. The last one here was %s («%s», %s). /export to get it.",
		"alerts":         "⚠️ Recent warnings of this bot process (admins only, UTC):",
		"no_alerts":      "No warnings from this bot process recently (admins only).",
		"bad_format":     "Export formats are md, json and html.",
		"none_to_export": "There is no roundtable to export in this chat yet.",
		"not_found":      "I can't find session %s in this chat.",
		"export_failed":  "Sorry, I couldn't export session %s. Please try again.",
		"exported":       "📄 Session %s",
		"admins_only":    "Only an admin can make the table forget this chat.",
		"forgot":         "🧹 Done: the table no longer remembers earlier sessions in this chat.",
		"relay_failed":   "The roundtable here runs on another of my servers, which did not answer just now. Please try again in a moment.",
	},
	"zh": {
		"help": "🪑 **TableRound** —— 六位AI角色围绕你的主题或照片开圆桌会，一起做设计。\n" +
			"• 开始：@我 并附上主题（可附照片），或 /roundtable <主题>\n" +
			"• 进行中发言：@我 或 /say <内容>，下一位发言人会回应\n" +
			"• /stop（发起人或管理员）· /status · /export [md|json|html] · /personas · /forget（管理员）",
		"unknown":        "我不认识这个命令。试试 /help。",
		"need_topic":     "请给我一个主题（可附照片），例如“春节剪纸灯笼”。",
		"already":        "这里已经有一场圆桌会 %s 在进行。请先停止它，或等它结束。",
		"busy":           "我现在同时进行的圆桌会太多了，请过几分钟再试。",
		"user_limit":     "你在过去一小时里已经发起了 %d 场圆桌会，达到上限。你可以在 %s 再次发起。",
		"call_limit":     "你的圆桌会在过去一小时里已用完 %d 次模型调用。你可以在 %s 再次发起。",
		"photo_topic":    "这张照片可以变成什么",
		"bad_pack":       "没有这个角色包。可用：%s。",
		"start_failed":   "抱歉，我这边出了点问题，请稍后再试。",
		"started":        "🪑 圆桌会 %s 开始…",
		"none":           "这里没有进行中的圆桌会。用 /roundtable <主题> 开始一场。",
		"not_yours":      "只有发起人 %s 或管理员可以停止这场圆桌会。",
		"stopping":       "⏹️ 正在停止圆桌会 %s，已说的内容都已保存。",
		"heard":          "👂 已转达，下一位发言人会回应。",
		"status":         "圆桌会 %s —— 阶段：%s · 发言：%s · 已进行 %s · %d tokens",
		"last":           "没有进行中的圆桌会。这里上一场是 %s（«%s»，%s）。用 /export 获取。",
		"alerts":         "⚠️ 本机器人进程最近的警告（仅管理员可见，UTC）：",
		"no_alerts":      "本机器人进程最近没有警告（仅管理员可见）。",
		"bad_format":     "导出格式有 md、json 和 html。",
		"none_to_export": "这个聊天里还没有可导出的圆桌会。",
		"not_found":      "在这个聊天里找不到会话 %s。",
		"export_failed":  "抱歉，会话 %s 导出失败，请再试一次。",
		"exported":       "📄 会话 %s",
		"admins_only":    "只有管理员可以让圆桌忘记这个聊天。",
		"forgot":         "🧹 好了：圆桌不再记得这个聊天里以前的会议。",
		"relay_failed":   "这场圆桌会在我的另一台服务器上进行，它刚才没有回应。请稍后再试。",
	},
}

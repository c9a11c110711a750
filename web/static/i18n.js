// The page's words in English and Chinese. The language is ?lang=, else the
// browser's, else English; the switch button flips it.
const words = {
  en: {
    brand: "TableRound", lead: "Six personas hold a roundtable on your topic or photo. Watch it live and share the link.",
    topic: "Topic", drop: "Drop a photo here (JPEG, PNG, HEIC…), or choose one:", language: "Language",
    pack: "Persona pack", token: "Access token", start: "Start the roundtable",
    demo: "🧪 No model is configured: tables run on the built-in demo model (scripted text, not an AI).",
    projector: "Projector", people: "The people's turn", keep: "Keep", edit: "Use my keywords", skip: "Skip",
    wait: "Waiting for the starter to answer…", say: "Say something to the table…", send: "Send", stop: "Stop",
    rotate: "New view link", download: "Download:", kj: "Affinity groups (KJ)", votes: "Votes",
    cards: "Design cards", share: "View-only link (anyone with it can watch):", live: "live", reconnecting: "reconnecting…",
    ended: "ended", switched: "Role switch", answered: "Answer:", photo: "Photo", connecting: "connecting…",
    stopconfirm: "Stop the roundtable for everyone?",
  },
  zh: {
    brand: "圆桌 TableRound", lead: "六位角色围绕你的主题或照片开一场圆桌会议。可实时观看并分享链接。",
    topic: "主题", drop: "把照片拖到这里（JPEG、PNG、HEIC……），或选择一张：", language: "语言",
    pack: "角色包", token: "访问令牌", start: "开始圆桌会议",
    demo: "🧪 未配置模型：会议使用内置演示模型（脚本文字，非AI）。",
    projector: "投影模式", people: "大家的决定", keep: "保留", edit: "用我的关键词", skip: "跳过",
    wait: "等待发起人回答……", say: "对大家说点什么……", send: "发送", stop: "停止",
    rotate: "生成新的观看链接", download: "下载：", kj: "亲和分组（KJ法）", votes: "投票",
    cards: "设计卡片", share: "只读链接（任何拿到的人都能观看）：", live: "直播中", reconnecting: "正在重连……",
    ended: "已结束", switched: "角色互换", answered: "回答：", photo: "照片", connecting: "连接中……",
    stopconfirm: "要为所有人停止这场圆桌会议吗？",
  },
};

export function pickLang() {
  const q = new URLSearchParams(location.search).get("lang");
  if (q === "en" || q === "zh") return q;
  return (navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en";
}

let lang = pickLang();

export function t(key) { return (words[lang] && words[lang][key]) || words.en[key] || key; }

export function currentLang() { return lang; }

// apply fills every [data-i18n] element and [data-i18n-placeholder] input.
export function apply(root = document) {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
}

export function setLang(l) { lang = l; apply(); }

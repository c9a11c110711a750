// The live table: reads the server-sent event stream and draws the board,
// the seats, every speech growing as it streams, the transcript by stage,
// the KJ diagram and the vote chart (SVG shown as images, which cannot run
// code), design cards and images. Everything from the server is set as
// text or built as elements (markdown.js), never parsed as HTML.
import { apply, currentLang, setLang, t } from "./i18n.js";
import { renderMarkdown } from "./markdown.js";

const id = location.pathname.split("/")[2];
const key = new URLSearchParams(location.search).get("k") || "";
const q = (k) => `k=${encodeURIComponent(k)}`;
const $ = (sel) => document.querySelector(sel);

const msgs = new Map(); // message number -> {el, text, kind}
const seats = new Map(); // seat id -> speaker
let stage = null; // the transcript section of the current stage
let participant = false;
let source = null;
let lastID = 0;
let connects = 0; // how many times the stream opened: more than 1 is a resume

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

// avatar draws a speaker's picture, or its emoji on its colour.
function avatar(from) {
  const a = el("span", "avatar");
  if (from && from.color) a.style.setProperty("--c", from.color);
  if (from && from.avatar && /^https?:\/\//.test(from.avatar)) {
    const img = el("img");
    img.src = from.avatar;
    img.alt = "";
    img.referrerPolicy = "no-referrer";
    a.append(img);
  } else {
    a.textContent = (from && (from.emoji || (from.name || "?").slice(0, 1))) || "•";
  }
  return a;
}

function newStage(title) {
  stage = el("section", "stage");
  stage.append(el("h2", "stage-title", title));
  $("#transcript").append(stage);
  return stage;
}

function section() { return stage || newStage(""); }

function onOpen(e) {
  const from = e.from || {};
  if (e.kind === "board") {
    const box = $("#board");
    box.replaceChildren();
    const text = el("div", "board-text", e.s);
    box.append(text);
    msgs.set(e.m, { el: text, text: "", kind: "board" });
    return;
  }
  if (e.kind === "banner") {
    const s = newStage(e.s.replace(/^[─\s-]+|[─\s-]+$/g, ""));
    msgs.set(e.m, { el: s.firstChild, text: "", kind: "banner" });
    return;
  }
  const m = el("article", `msg ${e.kind} streaming`);
  m.dataset.m = e.m;
  if (from.id) m.dataset.seat = from.id;
  if (from.color) m.style.setProperty("--c", from.color);
  if (e.kind === "speech") {
    const head = el("header", "who");
    head.append(avatar(from), el("b", "name", from.name || ""));
    if (from.role) head.append(el("span", "role", from.role));
    m.append(head);
    if (from.id && !seats.has(from.id)) { seats.set(from.id, from); drawSeats(); }
  }
  const text = el("div", "text", e.s);
  text.dataset.placeholder = "1";
  m.append(text);
  section().append(m);
  msgs.set(e.m, { el: text, text: "", kind: e.kind, box: m });
  speaking(from.id);
}

// setText shows a message's text, its Markdown rendered as elements
// (markdown.js: never as HTML). While the message streams, partial
// Markdown is shown as it will end (an open **bold** is bold already).
// The source stays on the element (source) for the browser test, which
// compares it with the export.
function setText(rec, s) {
  rec.text = s;
  if (rec.kind === "banner") return;
  rec.el.source = s;
  renderMarkdown(rec.el, s, Boolean(rec.box && rec.box.classList.contains("streaming")));
  delete rec.el.dataset.placeholder;
}

function onDelta(e) {
  const rec = msgs.get(e.m);
  if (!rec) return;
  const at = e.o || 0;
  if (at === rec.text.length) setText(rec, rec.text + e.s);
  else if (at > rec.text.length) console.warn("gap in message", e.m); // cannot happen with Last-Event-ID
  // at < length: a duplicate after a reconnect; already shown.
}

function onClose(e) {
  const rec = msgs.get(e.m);
  if (rec && rec.box) {
    rec.box.classList.remove("streaming");
    if (rec.text) setText(rec, rec.text); // final: unclosed markers as written
  }
  if (rec && rec.box && rec.box.dataset.seat) speaking(null);
}

function speaking(seat) {
  for (const s of document.querySelectorAll(".seat")) s.classList.toggle("speaking", s.dataset.seat === seat);
}

function drawSeats(list) {
  const box = $("#seats");
  box.replaceChildren();
  for (const s of list || seats.values()) {
    const d = el("div", "seat");
    d.dataset.seat = s.id;
    if (s.color) d.style.setProperty("--c", s.color);
    const who = el("div", "seat-who");
    who.append(el("b", "", s.name), el("span", "role", s.role || ""));
    d.append(avatar(s), who);
    box.append(d);
  }
}

function svgImage(target, svg) {
  const fig = $(target);
  for (const old of fig.querySelectorAll("img")) { URL.revokeObjectURL(old.src); old.remove(); }
  const img = el("img");
  img.src = URL.createObjectURL(new Blob([svg], { type: "image/svg+xml" }));
  img.alt = fig.querySelector("figcaption").textContent;
  fig.prepend(img);
  fig.hidden = false;
}

function onRecord(r) {
  switch (r.type) {
    case "session": {
      const seatsList = (r.data && r.data.seats) || [];
      for (const s of seatsList) seats.set(s.id, s);
      drawSeats();
      if (r.text) { $("#topic").textContent = r.text; document.title = `${r.text} — TableRound`; }
      break;
    }
    case "kj": if (r.svg) svgImage("#kj", r.svg); break;
    case "vote_result": if (r.svg) svgImage("#votes", r.svg); break;
    case "role_switch": {
      const d = r.data || {};
      section().append(el("p", "switch", `🔁 ${r.name}: ${d.from} → ${d.to}`));
      break;
    }
    case "card": {
      const c = el("div", "card");
      const s = seats.get(r.seat);
      if (s && s.color) c.style.setProperty("--c", s.color);
      const text = el("div", "text");
      renderMarkdown(text, r.text || "");
      c.append(el("b", "", r.name || ""), text);
      $("#cards").append(c);
      $("#cards").hidden = false;
      break;
    }
  }
}

function onAsk(e) {
  const box = $("#people");
  box.hidden = false;
  box.dataset.ref = e.ref;
  $("#ask-text").textContent = e.s;
  const ul = $("#ask-words");
  ul.replaceChildren(...(e.words || []).map((w) => el("li", "chip", w)));
  $("#answer-words").value = (e.words || []).join(", ");
  $("#answer").hidden = !participant;
  $("#ask-wait").hidden = participant;
}

function onAnswered(e) {
  const box = $("#people");
  if (box.dataset.ref !== e.ref) return;
  $("#answer").hidden = true;
  $("#ask-wait").hidden = true;
  $("#ask-text").textContent = `${t("answered")} ${e.action}${e.words ? ": " + e.words.join(", ") : ""}`;
}

function onImage(e) {
  const f = el("figure", "image");
  if (e.image) {
    const img = el("img");
    img.src = `/s/${id}/img/${e.image}?${q(key)}`;
    img.alt = e.s || "";
    f.append(img);
  }
  const caption = e.kind === "photo" ? t("photo") : e.s;
  if (caption) f.append(el("figcaption", "", caption));
  section().append(f);
}

function handle(ev) {
  lastID = parseInt(ev.lastEventId, 10) || lastID; // IDs are "N-SUM"
  const e = JSON.parse(ev.data);
  switch (e.t) {
    // The table was rebuilt differently (a crash): what this page shows is
    // not its events. A reload shows them from the start.
    case "restart": source.close(); location.reload(); return;
    case "open": onOpen(e); break;
    case "delta": onDelta(e); break;
    case "reset": { const r = msgs.get(e.m); if (r) setText(r, e.s); break; }
    case "close": onClose(e); break;
    case "record": onRecord(e.record); break;
    case "ask": onAsk(e); break;
    case "answered": onAnswered(e); break;
    case "image": onImage(e); break;
    case "end":
      document.body.dataset.ended = "1";
      conn("ended");
      source.close();
      break;
  }
  document.body.dataset.events = String(lastID);
}

function conn(state) {
  const c = $("#conn");
  c.dataset.state = state;
  c.textContent = t(state);
}

function connect() {
  source = new EventSource(`/s/${id}/events?${q(key)}`);
  source.onmessage = handle;
  source.onopen = () => { connects++; document.body.dataset.connects = String(connects); conn("live"); };
  source.onerror = () => { if (!document.body.dataset.ended) conn("reconnecting"); };
}

async function post(action, body) {
  const r = await fetch(`/s/${id}/${action}`, {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ k: key, ...body }),
  });
  return r.json();
}

function setupControls() {
  $("#controls").hidden = false;
  for (const f of ["md", "html", "json"]) $(`#x-${f}`).href = `/s/${id}/export?format=${f}&${q(key)}`;
  $("#say").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const input = $("#say-text");
    if (!input.value.trim()) return;
    await post("say", { text: input.value });
    input.value = "";
  });
  $("#stop").addEventListener("click", () => { if (confirm(t("stopconfirm"))) post("stop", {}); });
  $("#rotate").addEventListener("click", async () => {
    const r = await post("rotate", {});
    if (r.view) showShare(r.view);
  });
  for (const b of document.querySelectorAll("#answer button")) {
    b.addEventListener("click", () => {
      const words = $("#answer-words").value.split(/[,，、;；]/).map((s) => s.trim()).filter(Boolean);
      post("answer", { ref: $("#people").dataset.ref, action: b.dataset.action, keywords: words });
    });
  }
}

function showShare(view) {
  const p = $("#share");
  p.replaceChildren(el("span", "", t("share") + " "));
  const url = `${location.origin}/s/${id}?${q(view)}`;
  const a = el("a", "", url);
  a.href = url;
  p.append(a);
}

async function init() {
  // Count what the Content-Security-Policy blocks: the page is built to
  // need nothing it forbids, and the browser test checks this stays 0.
  document.body.dataset.cspViolations = "0";
  document.addEventListener("securitypolicyviolation", () => {
    document.body.dataset.cspViolations = String(Number(document.body.dataset.cspViolations) + 1);
  });
  apply();
  $("#langswitch").textContent = currentLang() === "zh" ? "English" : "中文";
  $("#langswitch").addEventListener("click", () => {
    setLang(currentLang() === "zh" ? "en" : "zh");
    $("#langswitch").textContent = currentLang() === "zh" ? "English" : "中文";
  });
  $("#projector").addEventListener("click", () => document.body.classList.toggle("projector"));
  if (new URLSearchParams(location.search).get("view") === "projector") document.body.classList.add("projector");
  conn("connecting");
  try {
    const r = await (await fetch(`/s/${id}/role?${q(key)}`)).json();
    participant = r.role === "participant";
  } catch { participant = false; }
  if (participant) setupControls();
  connect();
}

init();

// A safe subset of Markdown, built as DOM nodes: the text is never parsed
// as HTML, so a model (or a person) writing <script> or an onerror
// attribute gets exactly those characters on the page. Supported:
// paragraphs and line breaks, # headings, - and 1. lists, > quotes,
// ``` code blocks, `code`, **bold**, *italic* (and __ _), and
// [links](https://…) opening in a new tab with rel="noopener noreferrer";
// a link to anything but http(s) stays text.
//
// While a message streams (partial), an opened emphasis, code span or
// fence runs to the end of the text, so a bold word is bold as it
// arrives instead of showing its asterisks until it closes; once the
// message is final, an unclosed marker is shown as written.

function el(tag, text) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  return e;
}

const HEADING = /^(#{1,6})\s+(.*?)\s*#*\s*$/;
const BULLET = /^\s{0,3}[-*+•]\s+(.*)$/;
const ORDERED = /^\s{0,3}(\d{1,9})[.)]\s+(.*)$/;
const QUOTE = /^\s{0,3}>\s?(.*)$/;
const FENCE = /^\s{0,3}(```|~~~)/;

// renderMarkdown replaces target's children with src rendered.
export function renderMarkdown(target, src, partial = false) {
  target.replaceChildren(...blocks(src.replace(/\r\n?/g, "\n").split("\n"), partial));
}

function blocks(lines, partial) {
  const out = [];
  let para = null; // the open paragraph's lines
  let list = null; // the open list element
  const endPara = () => {
    if (para) out.push(paragraph(para, partial));
    para = null;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const fence = FENCE.exec(line);
    if (fence) {
      endPara();
      list = null;
      const body = [];
      let j = i + 1;
      while (j < lines.length && !lines[j].trimStart().startsWith(fence[1])) body.push(lines[j++]);
      if (j === lines.length && !partial) { // unclosed when final: not a fence
        para = [line];
        continue;
      }
      const pre = el("pre");
      pre.append(el("code", body.join("\n")));
      out.push(pre);
      i = j;
      continue;
    }
    if (line.trim() === "") {
      endPara();
      list = null;
      continue;
    }
    const h = HEADING.exec(line);
    if (h) {
      endPara();
      list = null;
      const e = el(`h${Math.min(h[1].length + 2, 6)}`);
      inline(e, h[2], partial);
      out.push(e);
      continue;
    }
    const b = BULLET.exec(line);
    const o = b ? null : ORDERED.exec(line);
    if (b || o) {
      endPara();
      const tag = b ? "ul" : "ol";
      if (!list || list.tagName.toLowerCase() !== tag) {
        list = el(tag);
        if (o && o[1] !== "1") list.start = Number(o[1]);
        out.push(list);
      }
      const li = el("li");
      inline(li, b ? b[1] : o[2], partial);
      list.append(li);
      continue;
    }
    const q = QUOTE.exec(line);
    if (q) {
      endPara();
      list = null;
      const quote = el("blockquote");
      inline(quote, q[1], partial);
      out.push(quote);
      continue;
    }
    if (list && /^\s{2,}\S/.test(line)) { // a list item's continuation
      list.lastChild.append(el("br"));
      inline(list.lastChild, line.trim(), partial);
      continue;
    }
    list = null;
    (para ||= []).push(line);
  }
  endPara();
  return out;
}

// paragraph keeps the text's single line breaks: models and chats mean them.
function paragraph(lines, partial) {
  const p = el("p");
  lines.forEach((l, i) => {
    if (i > 0) p.append(el("br"));
    inline(p, l, partial);
  });
  return p;
}

const ESCAPABLE = "\\`*_[]()#+-.!>~|";
const LINK = /^\[([^\]\n]+)\]\(\s*([^()\s]+)\s*\)/;

// inline appends s's text with its emphasis, code and links to parent.
function inline(parent, s, partial) {
  let text = "";
  const flush = () => {
    if (text) parent.append(document.createTextNode(text));
    text = "";
  };
  for (let i = 0; i < s.length;) {
    const c = s[i];
    if (c === "\\" && ESCAPABLE.includes(s[i + 1] || "\n")) {
      text += s[i + 1];
      i += 2;
      continue;
    }
    if (c === "`") {
      let j = s.indexOf("`", i + 1);
      if (j < 0 && partial) j = s.length;
      if (j > i + 1) {
        flush();
        parent.append(el("code", s.slice(i + 1, j)));
        i = j + 1;
        continue;
      }
    }
    if (c === "*" || c === "_") {
      const mark = s[i + 1] === c ? c + c : c;
      const j = opens(s, i, mark) ? closing(s, i + mark.length, mark, partial) : -1;
      if (j > i + mark.length) {
        flush();
        const e = el(mark.length === 2 ? "strong" : "em");
        inline(e, s.slice(i + mark.length, j), partial);
        parent.append(e);
        i = j + mark.length;
        continue;
      }
    }
    if (c === "[") {
      const m = LINK.exec(s.slice(i));
      if (m) {
        flush();
        parent.append(link(m[1], m[2], partial));
        i += m[0].length;
        continue;
      }
    }
    text += c;
    i++;
  }
  flush();
}

const isSpace = (ch) => ch === undefined || /\s/.test(ch);
const isWord = (ch) => ch !== undefined && /[\p{L}\p{N}]/u.test(ch);

// opens says whether mark at i can open emphasis: followed by a non-space,
// and for _ not inside a word (snake_case stays as written).
function opens(s, i, mark) {
  if (isSpace(s[i + mark.length])) return false;
  return mark[0] !== "_" || !isWord(s[i - 1]);
}

// closing finds where mark closes emphasis opened before from, or -1;
// while streaming, an unclosed mark runs to the end.
function closing(s, from, mark, partial) {
  const c = mark[0];
  for (let j = from + 1; j < s.length; j++) {
    if (s[j] === "\\") { j++; continue; }
    if (s[j] === "`") { // a code span inside is skipped whole
      const k = s.indexOf("`", j + 1);
      if (k > 0) { j = k; continue; }
    }
    if (!s.startsWith(mark, j) || isSpace(s[j - 1])) continue;
    if (mark.length === 1 && (s[j + 1] === c || s[j - 1] === c)) continue; // part of a double
    if (c === "_" && isWord(s[j + mark.length])) continue;
    return j;
  }
  return partial ? s.length : -1;
}

// link shows [text](url) as a link only for http(s) URLs.
function link(label, href, partial) {
  let url = null;
  try { url = new URL(href); } catch { url = null; }
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:")) {
    const span = el("span");
    inline(span, label, partial);
    return span;
  }
  const a = el("a");
  a.href = url.href;
  a.target = "_blank";
  a.rel = "noopener noreferrer nofollow";
  inline(a, label, partial);
  return a;
}

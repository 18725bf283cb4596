// markdown.js: a small Markdown renderer that builds DOM nodes and never
// HTML. Answers and documents are untrusted: raw HTML in them stays
// text, links keep only http and https URLs (and open with
// rel="noopener noreferrer"), images are not loaded. Citation markers
// [n] become buttons handled by the caller.
//
// Supported: paragraphs, hard line breaks, # headings, - * + and 1.
// lists, > quotes, ``` fenced code, `code`, **bold**, *italic*, _italic_,
// ~~strike~~, [text](url), <http://autolinks>, and [n] citations.

import { h } from './dom.js';

// safeURL returns url if it is an absolute http(s) URL, else null.
export function safeURL(url) {
  try {
    const u = new URL(url);
    if (u.protocol === 'http:' || u.protocol === 'https:') return u.href;
  } catch (e) { /* not a URL */ }
  return null;
}

// render returns a DocumentFragment for text. opts.citation(n) returns a
// node for marker [n] or null to leave it as text.
export function render(text, opts = {}) {
  const frag = document.createDocumentFragment();
  const lines = String(text).replace(/\r\n?/g, '\n').split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (/^\s*$/.test(line)) { i++; continue; }
    let m;
    if ((m = line.match(/^\s*(```|~~~)(.*)$/))) {
      const fence = m[1];
      const body = [];
      i++;
      while (i < lines.length && !lines[i].trimStart().startsWith(fence)) body.push(lines[i++]);
      i++;
      frag.append(h('pre', {}, h('code', {}, body.join('\n'))));
      continue;
    }
    if ((m = line.match(/^(#{1,6})\s+(.*)$/))) {
      const level = Math.min(m[1].length + 2, 6); // inside an answer, # is not the page title
      frag.append(inline(h('h' + level, {}), m[2], opts));
      i++;
      continue;
    }
    if (/^\s*>/.test(line)) {
      const body = [];
      while (i < lines.length && /^\s*>/.test(lines[i])) body.push(lines[i++].replace(/^\s*>\s?/, ''));
      const q = h('blockquote', {});
      q.append(render(body.join('\n'), opts));
      frag.append(q);
      continue;
    }
    if (/^\s*([-*+]|\d{1,9}[.)])\s+/.test(line)) {
      const ordered = /^\s*\d/.test(line);
      const list = h(ordered ? 'ol' : 'ul', {});
      while (i < lines.length && /^\s*([-*+]|\d{1,9}[.)])\s+/.test(lines[i])) {
        let item = lines[i++].replace(/^\s*([-*+]|\d{1,9}[.)])\s+/, '');
        while (i < lines.length && /^\s{2,}\S/.test(lines[i]) && !/^\s*([-*+]|\d{1,9}[.)])\s+/.test(lines[i])) item += '\n' + lines[i++].trim();
        list.append(inlineLines(h('li', {}), item, opts));
      }
      frag.append(list);
      continue;
    }
    if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) { frag.append(h('hr', {})); i++; continue; }
    const para = [];
    while (i < lines.length && !/^\s*$/.test(lines[i]) && !/^\s*(```|~~~|#{1,6}\s|>|([-*+]|\d{1,9}[.)])\s+)/.test(lines[i])) para.push(lines[i++]);
    if (para.length === 0) para.push(lines[i++]);
    frag.append(inlineLines(h('p', {}), para.join('\n'), opts));
  }
  return frag;
}

// inlineLines renders text with its line breaks kept.
function inlineLines(el, text, opts) {
  text.split('\n').forEach((line, k) => {
    if (k > 0) el.append(h('br', {}));
    inline(el, line, opts);
  });
  return el;
}

// inline appends the inline content of one line to el.
function inline(el, text, opts) {
  let buf = '';
  const flush = () => { if (buf) { el.append(document.createTextNode(buf)); buf = ''; } };
  let i = 0;
  while (i < text.length) {
    const rest = text.slice(i);
    let m;
    if (rest[0] === '\\' && rest.length > 1 && /[\\`*_{}\[\]()#+\-.!~>]/.test(rest[1])) { buf += rest[1]; i += 2; continue; }
    if ((m = rest.match(/^`([^`]+)`/))) { flush(); el.append(h('code', {}, m[1])); i += m[0].length; continue; }
    if ((m = rest.match(/^\[(\d{1,3})\](?!\()/))) {
      const node = opts.citation ? opts.citation(Number(m[1])) : null;
      if (node) { flush(); el.append(node); i += m[0].length; continue; }
    }
    if ((m = rest.match(/^!?\[([^\]\n]{0,500})\]\(((?:[^()\s]|\([^()\s]{0,200}\)){0,2000})(?:\s+"[^"]*")?\)/))) {
      flush();
      const url = safeURL(m[2]);
      if (url && rest[0] !== '!') {
        el.append(inline(h('a', { href: url, rel: 'noopener noreferrer nofollow', target: '_blank' }), m[1], {}));
      } else {
        // Not a web link (javascript:, data:, relative) or an image: text.
        el.append(document.createTextNode(m[1] + (url ? ' (' + url + ')' : '')));
      }
      i += m[0].length;
      continue;
    }
    if ((m = rest.match(/^<(https?:\/\/[^\s<>]+)>/))) {
      flush();
      const url = safeURL(m[1]);
      el.append(url ? h('a', { href: url, rel: 'noopener noreferrer nofollow', target: '_blank' }, m[1]) : m[0]);
      i += m[0].length;
      continue;
    }
    if ((m = rest.match(/^(\*\*|__)(?=\S)([\s\S]*?\S)\1/))) { flush(); el.append(inline(h('strong', {}), m[2], opts)); i += m[0].length; continue; }
    if ((m = rest.match(/^~~(?=\S)([\s\S]*?\S)~~/))) { flush(); el.append(inline(h('del', {}), m[1], opts)); i += m[0].length; continue; }
    if ((m = rest.match(/^(\*|_)(?=[^\s*_])([^*_]*?[^\s*_])\1(?![*_\w])/)) && (m[1] === '*' || !/\w/.test(text[i - 1] || ''))) {
      flush(); el.append(inline(h('em', {}), m[2], opts)); i += m[0].length; continue;
    }
    buf += rest[0];
    i++;
  }
  flush();
  return el;
}

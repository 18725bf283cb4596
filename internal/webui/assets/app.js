// app.js: the web chat. It talks to kura's JSON API only (api.js),
// renders every text from documents and models through dom.js and
// markdown.js (text nodes, never HTML), and keeps conversations on the
// server, so a reload or a server restart loses nothing.

import { h, clear, $, $$ } from './dom.js';
import { t } from './i18n.js';
import { render } from './markdown.js';
import * as api from './api.js';
import { applyLabels, setupKeyDialog, faces, thumbs } from './common.js';

const SETTINGS = 'kura.settings';
const LAST = 'kura.lastConversation';

const state = {
  info: null,
  settings: {},
  conversationId: null,
  conversations: [],
  busy: false,
  abort: null,
};

// ---------- settings ----------

// The sidebar's fields. `send` maps the value into the request; a value
// equal to the server's default is left out, so an answerer that does
// not take an option never receives it.
// [setting, label, search_type sent]; '' leaves the collection's default.
const searchTypes = [
  ['', 'searchDefault', ''], ['similarity', 'similarity', 'dense'], ['mmr', 'mmr', 'mmr'], ['threshold', 'scoreThreshold', 'dense'],
  ['bm25', 'bm25', 'bm25'], ['hybrid', 'hybrid', 'hybrid'],
];

function fields() {
  const d = (state.info && state.info.defaults) || {};
  return [
    { group: 'retrieval' },
    { key: 'collection', label: 'collection', type: 'select', options: () => state.collections.map((c) => [c, c]), def: state.info ? state.info.default_collection : '' },
    { key: 'searchType', label: 'searchType', type: 'select', options: () => searchTypes.map(([v, l]) => [v, t(l)]), def: '' },
    { key: 'k', label: 'k', type: 'number', min: 1, max: 50, step: 1, def: d.k ?? 3 },
    { key: 'fetchK', label: 'fetchK', type: 'number', min: 1, max: 500, step: 1, def: d.fetch_k ?? 20, when: (s) => s.searchType === 'mmr' },
    { key: 'lambda', label: 'lambda', type: 'range', min: 0, max: 1, step: 0.05, def: d.lambda ?? 0.5, when: (s) => s.searchType === 'mmr' },
    { key: 'threshold', label: 'threshold', type: 'range', min: 0, max: 1, step: 0.01, def: d.score_threshold ?? 0.5, when: (s) => s.searchType === 'threshold' },
    { group: 'generation' },
    { key: 'llm', label: 'llm', type: 'select', options: () => ((state.info && state.info.llms) || ['extractive']).map((x) => [x, x]), def: (state.info && state.info.llm) || 'extractive' },
    { key: 'model', label: 'model', type: 'text', def: '', placeholder: t('modelDefault'), gen: true },
    { key: 'max_tokens', label: 'maxTokens', type: 'number', min: 1, max: 8192, step: 1, def: d.max_tokens ?? 500, gen: true },
    { key: 'temperature', label: 'temperature', type: 'range', min: 0, max: 1, step: 0.05, def: d.temperature ?? 0.3, gen: true },
    { key: 'top_k', label: 'topK', type: 'number', min: 0, max: 500, step: 1, def: d.top_k ?? 0, gen: true },
    { key: 'top_p', label: 'topP', type: 'range', min: 0, max: 1, step: 0.01, def: d.top_p ?? 0.75, gen: true },
    { key: 'frequency_penalty', label: 'frequencyPenalty', type: 'range', min: 0, max: 1, step: 0.05, def: d.frequency_penalty ?? 0, gen: true },
    { key: 'presence_penalty', label: 'presencePenalty', type: 'range', min: 0, max: 1, step: 0.05, def: d.presence_penalty ?? 0, gen: true },
    { key: 'stream', label: 'streaming', type: 'checkbox', def: true },
    { key: 'feedbackKind', label: 'feedbackKind', type: 'select', options: () => [['thumbs', t('thumbs')], ['faces', t('faces')]], def: 'faces' },
  ];
}

function loadSettings() {
  let saved = {};
  try { saved = JSON.parse(localStorage.getItem(SETTINGS) || '{}'); } catch (e) { /* start afresh */ }
  for (const f of fields()) if (f.key) state.settings[f.key] = saved[f.key] ?? f.def;
}

function saveSettings() {
  localStorage.setItem(SETTINGS, JSON.stringify(state.settings));
}

function renderSettings() {
  const form = clear($('#settings-form'));
  const s = state.settings;
  const extractive = s.llm === 'extractive';
  for (const f of fields()) {
    if (f.group) { form.append(h('h3', {}, t(f.group))); continue; }
    if (f.when && !f.when(s)) continue;
    const id = 'set-' + f.key;
    let input;
    if (f.type === 'select') {
      input = h('select', { id, name: f.key }, f.options().map(([v, l]) => h('option', { value: v, selected: String(s[f.key]) === String(v) }, l)));
    } else if (f.type === 'checkbox') {
      input = h('input', { id, name: f.key, type: 'checkbox', checked: !!s[f.key] });
    } else {
      input = h('input', { id, name: f.key, type: f.type, min: f.min, max: f.max, step: f.step, placeholder: f.placeholder || '' });
      input.value = s[f.key] ?? '';
    }
    if (f.gen && extractive) input.disabled = true;
    const out = f.type === 'range' ? h('output', { for: id }, String(s[f.key])) : null;
    input.addEventListener('input', () => {
      let v = f.type === 'checkbox' ? input.checked : input.value;
      if (f.type === 'number' || f.type === 'range') v = v === '' ? f.def : Number(v);
      s[f.key] = v;
      if (out) out.textContent = String(v);
      saveSettings();
      if (f.key === 'searchType' || f.key === 'llm') renderSettings();
      if (f.key === 'collection') refreshConversations();
    });
    form.append(h('div', { class: 'field field-' + f.type }, h('label', { for: id }, t(f.label)), input, out));
  }
}

// askBody turns the settings into the fields of an ask request.
function askBody(question) {
  const s = state.settings;
  const body = { question, stream: !!s.stream };
  if (state.conversationId) body.conversation_id = state.conversationId;
  if (s.collection) body.collection = s.collection;
  const def = Object.fromEntries(fields().filter((f) => f.key).map((f) => [f.key, f.def]));
  const type = searchTypes.find(([v]) => v === s.searchType);
  if (s.searchType) body.search_type = type ? type[2] : s.searchType;
  if (s.k !== def.k) body.k = s.k;
  if (s.searchType === 'mmr') { body.fetch_k = s.fetchK; body.lambda = s.lambda; }
  if (s.searchType === 'threshold') body.score_threshold = s.threshold;
  if (s.llm && s.llm !== def.llm) body.llm = s.llm;
  if (s.llm !== 'extractive') {
    if (s.model) body.model = s.model;
    for (const k of ['max_tokens', 'temperature', 'top_k', 'top_p', 'frequency_penalty', 'presence_penalty']) {
      if (s[k] !== def[k]) body[k] = s[k];
    }
  }
  return body;
}

// ---------- conversations ----------

async function refreshConversations() {
  try {
    const list = await api.json('GET', '/api/v1/conversations?limit=100');
    state.conversations = list.conversations;
  } catch (e) {
    state.conversations = [];
  }
  renderConversations();
}

function renderConversations() {
  const ul = clear($('#conv-list'));
  if (state.conversations.length === 0) ul.append(h('li', { class: 'empty' }, t('noConversations')));
  for (const c of state.conversations) {
    const li = h('li', { class: 'conv' + (c.id === state.conversationId ? ' active' : ''), 'data-id': c.id });
    const title = h('button', { type: 'button', class: 'conv-title', title: c.title, onclick: () => openConversation(c.id) }, c.title || '…');
    const rename = h('button', { type: 'button', class: 'icon conv-rename', title: t('rename'), 'aria-label': t('rename'), onclick: () => startRename(li, c) }, '✎');
    const del = h('button', { type: 'button', class: 'icon conv-delete', title: t('delete'), 'aria-label': t('delete') }, '✕');
    del.addEventListener('click', async () => {
      // Two clicks delete: no confirm() dialog.
      if (!del.classList.contains('armed')) {
        del.classList.add('armed');
        del.textContent = t('delete') + '?';
        setTimeout(() => { del.classList.remove('armed'); del.textContent = '✕'; }, 4000);
        return;
      }
      await api.json('DELETE', '/api/v1/conversations/' + encodeURIComponent(c.id));
      if (state.conversationId === c.id) newChat();
      refreshConversations();
    });
    li.append(title, rename, del);
    ul.append(li);
  }
}

function startRename(li, c) {
  const input = h('input', { type: 'text', class: 'conv-rename-input', value: c.title, maxLength: 200 });
  let finished = false;
  const finish = async (save) => {
    if (finished) return; // Enter removes the input, which then blurs
    finished = true;
    const title = input.value.trim();
    if (save && title && title !== c.title) {
      try { await api.json('PATCH', '/api/v1/conversations/' + encodeURIComponent(c.id), { title }); } catch (e) { /* keep the old title */ }
    }
    refreshConversations();
  };
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.isComposing && e.keyCode !== 229) { e.preventDefault(); finish(true); }
    if (e.key === 'Escape') finish(false);
  });
  input.addEventListener('blur', () => finish(true), { once: true });
  clear(li).append(input);
  input.focus();
  input.select();
}

async function openConversation(id) {
  if (state.busy) return;
  const conv = await api.json('GET', '/api/v1/conversations/' + encodeURIComponent(id));
  state.conversationId = conv.id;
  localStorage.setItem(LAST, conv.id);
  history.replaceState(null, '', '#' + encodeURIComponent(conv.id));
  const turns = clear($('#turns'));
  for (const a of conv.turns) {
    const turn = new Turn(a.question);
    turns.append(turn.el);
    turn.finish(a);
  }
  renderConversations();
  turns.scrollTop = turns.scrollHeight;
}

function newChat() {
  if (state.abort) state.abort.abort();
  state.conversationId = null;
  localStorage.removeItem(LAST);
  history.replaceState(null, '', location.pathname + location.search);
  clear($('#turns')).append(h('p', { class: 'welcome' }, t('welcome')));
  renderConversations();
  $('#question').focus();
}

// ---------- one question and its answer ----------

class Turn {
  constructor(question) {
    this.answer = null; // the finished api Answer
    this.text = '';
    this.sources = [];
    this.citations = [];
    this.meta = null;
    this.body = h('div', { class: 'md answer-text' });
    this.head = h('div', { class: 'answer-head' });
    this.notices = h('div', { class: 'notices' });
    this.sourceList = h('div', { class: 'sources' });
    this.actions = h('div', { class: 'actions' });
    this.el = h('article', { class: 'turn' },
      h('div', { class: 'question' }, h('p', {}, question)),
      h('div', { class: 'answer streaming' }, this.head, this.body, this.notices, this.sourceList, this.actions));
    this.pending = false;
  }

  onMeta(m) {
    this.meta = m;
    this.renderHead(m);
  }

  renderHead(m) {
    clear(this.head);
    if (m.extractive) this.head.append(h('span', { class: 'badge extractive', title: t('extractive') }, t('extractive')));
    else if (m.llm) this.head.append(h('span', { class: 'badge llm' }, m.llm + (m.model ? ' · ' + m.model : '')));
    if (m.rewritten_question) this.head.append(h('span', { class: 'rewritten' }, t('rewritten') + ': ', h('q', {}, m.rewritten_question)));
  }

  onSources(list) {
    this.sources = list || [];
    this.renderSources();
  }

  onDelta(text) {
    this.text += text;
    // Re-render at most once a frame: Markdown needs the whole text.
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => { this.pending = false; this.renderText(); });
  }

  onCitation(c) {
    this.citations.push(c);
  }

  onNotice(n) {
    this.notices.append(h('p', { class: 'notice notice-' + n.code }, n.message));
    // The fallback's extracted text follows: label it before it streams in.
    if (n.code === 'fallback' && this.meta && !this.meta.extractive) this.onMeta({ ...this.meta, extractive: true });
  }

  renderText() {
    clear(this.body).append(render(this.text, { citation: (n) => this.marker(n) }));
  }

  // marker is the button for citation [n], when source n exists.
  marker(n) {
    if (!this.sources.some((s) => s.n === n)) return null;
    return h('button', { type: 'button', class: 'cite', 'data-n': n, title: this.sourceTitle(n), onclick: () => this.openSource(n) }, '[' + n + ']');
  }

  sourceTitle(n) {
    const s = this.sources.find((x) => x.n === n);
    if (!s) return '';
    const e = s.entity || {};
    return String(e.title || e.source || ('#' + s.id));
  }

  openSource(n) {
    const s = this.sources.find((x) => x.n === n);
    if (!s) return;
    const e = s.entity || {};
    const cite = this.citations.find((c) => c.n === n);
    $('#cite-title').textContent = '[' + n + '] ' + String(e.title || e.source || '#' + s.id);
    const meta = [];
    if (e.source) meta.push(String(e.source));
    if (e.chunk_index !== undefined) meta.push(t('chunk') + ' ' + e.chunk_index);
    meta.push('id ' + s.id, 'score ' + Number(s.score).toFixed(3));
    $('#cite-meta').textContent = meta.join(' · ');
    const box = clear($('#cite-text'));
    const text = String(e.text ?? (cite ? cite.text : ''));
    const span = cite && cite.text ? cite.text : '';
    const at = span ? text.indexOf(span) : -1;
    if (at >= 0) {
      box.append(text.slice(0, at), h('mark', { class: 'cited' }, span), text.slice(at + span.length));
    } else {
      box.append(text);
      if (span) box.append(h('p', { class: 'cited-span' }, t('cited') + ': ', h('mark', { class: 'cited' }, span)));
    }
    $('#cite-dialog').showModal();
    const mark = $('#cite-text mark');
    if (mark) mark.scrollIntoView({ block: 'center' });
  }

  renderSources() {
    clear(this.sourceList);
    if (this.sources.length === 0) return;
    const ol = h('ol', { class: 'source-list' });
    for (const s of this.sources) {
      const e = s.entity || {};
      ol.append(h('li', { value: s.n },
        h('button', { type: 'button', class: 'source-link', 'data-n': s.n, onclick: () => this.openSource(s.n) },
          String(e.title || e.source || '#' + s.id)),
        e.source && e.title ? h('span', { class: 'source-path' }, String(e.source)) : null,
        h('span', { class: 'score' }, Number(s.score).toFixed(3))));
    }
    this.sourceList.append(h('details', { open: true }, h('summary', {}, t('sources') + ' (' + this.sources.length + ')'), ol));
  }

  // finish shows the finished answer: text, citations, actions.
  finish(a) {
    this.answer = a;
    this.text = a.answer;
    this.sources = a.sources || [];
    this.citations = a.citations || [];
    this.onMeta(a);
    this.renderText();
    this.renderSources();
    clear(this.notices);
    for (const n of a.notices || []) this.onNotice(n);
    this.el.querySelector('.answer').classList.remove('streaming');
    this.el.dataset.answerId = a.id;
    this.renderActions();
  }

  fail(message, stopped) {
    this.el.querySelector('.answer').classList.remove('streaming');
    if (this.pending) this.renderText();
    this.notices.append(h('p', { class: stopped ? 'notice stopped' : 'notice error' }, stopped ? t('stopped') : t('error') + ': ' + message));
  }

  renderActions() {
    clear(this.actions);
    const copy = h('button', { type: 'button', class: 'copy', title: t('copy') }, t('copy'));
    copy.addEventListener('click', async () => {
      await copyText(this.text);
      copy.textContent = t('copied');
      setTimeout(() => { copy.textContent = t('copy'); }, 1500);
    });
    this.actions.append(copy, this.feedbackWidget());
  }

  feedbackWidget() {
    const a = this.answer;
    const box = h('div', { class: 'feedback' });
    const draw = () => {
      clear(box);
      const kind = (a.feedback && a.feedback.kind) || state.settings.feedbackKind || 'faces';
      const choices = kind === 'thumbs' ? thumbs : faces;
      const labels = kind === 'thumbs' ? [t('thumbUp'), t('thumbDown')] : t('faceLabels');
      let chosen = a.feedback ? a.feedback.value : null;
      const comment = h('textarea', { class: 'feedback-comment', rows: 2, placeholder: t('commentPlaceholder'), maxLength: 4000 });
      comment.value = (a.feedback && a.feedback.comment) || '';
      const submit = h('button', { type: 'button', class: 'feedback-submit' }, t('submitFeedback'));
      const status = h('span', { class: 'feedback-status', 'aria-live': 'polite' }, a.feedback ? t('thanks') : '');
      const form = h('div', { class: 'feedback-form', hidden: chosen === null }, comment, submit);
      const buttons = choices.map((c, i) => h('button', {
        type: 'button', class: 'fb fb-' + kind + (chosen === c.value ? ' chosen' : ''), 'data-value': c.value,
        title: labels[i], 'aria-label': labels[i], 'aria-pressed': chosen === c.value ? 'true' : 'false',
        onclick: () => {
          chosen = c.value;
          for (const b of $$('.fb', box)) { b.classList.toggle('chosen', Number(b.dataset.value) === c.value); b.setAttribute('aria-pressed', String(Number(b.dataset.value) === c.value)); }
          form.hidden = false;
          comment.focus();
        },
      }, c.icon));
      submit.addEventListener('click', async () => {
        if (chosen === null) return;
        submit.disabled = true;
        try {
          a.feedback = await api.json('POST', '/api/v1/feedback', { answer_id: a.id, value: chosen, kind, comment: comment.value.trim() });
          status.textContent = t('thanks');
          form.hidden = true;
        } catch (e) {
          status.textContent = t('feedbackFailed') + ': ' + e.message;
        } finally {
          submit.disabled = false;
        }
      });
      box.append(h('div', { class: 'fb-choices', role: 'group', 'aria-label': t('feedback') }, buttons), form, status);
    };
    draw();
    return box;
  }
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch (e) {
    const ta = h('textarea', { class: 'offscreen', value: text });
    document.body.append(ta);
    ta.select();
    document.execCommand('copy');
    ta.remove();
  }
}

// ---------- asking ----------

async function ask(question) {
  if (state.busy || !question.trim()) return;
  state.busy = true;
  setBusy(true);
  const welcome = $('#turns .welcome');
  if (welcome) welcome.remove();
  const turn = new Turn(question);
  $('#turns').append(turn.el);
  turn.el.scrollIntoView({ block: 'end' });
  const body = askBody(question);
  state.abort = new AbortController();
  const wasNew = !state.conversationId;
  try {
    if (body.stream) {
      let done = null;
      await api.stream('/api/v1/ask', body, (name, data) => {
        switch (name) {
          case 'meta':
            turn.onMeta(data);
            if (data.conversation_id) state.conversationId = data.conversation_id;
            break;
          case 'sources': turn.onSources(data.sources); break;
          case 'delta': turn.onDelta(data.text); break;
          case 'citation': turn.onCitation(data); break;
          case 'notice': turn.onNotice(data); break;
          case 'done': done = data; break;
          case 'error': throw new api.APIError(0, data);
        }
        $('#turns').scrollTop = $('#turns').scrollHeight;
      }, state.abort.signal);
      if (!done) throw new Error('the answer stream ended early');
      turn.finish(done);
      state.conversationId = done.conversation_id || state.conversationId;
    } else {
      const resp = await api.request('POST', '/api/v1/ask', body, { signal: state.abort.signal });
      const data = await resp.json().catch(() => null);
      if (!resp.ok) throw new api.APIError(resp.status, data);
      turn.finish(data);
      state.conversationId = data.conversation_id || state.conversationId;
    }
  } catch (e) {
    turn.fail(e.message, e.name === 'AbortError');
  } finally {
    state.busy = false;
    state.abort = null;
    setBusy(false);
    if (state.conversationId) {
      history.replaceState(null, '', '#' + encodeURIComponent(state.conversationId));
      localStorage.setItem(LAST, state.conversationId);
    }
    if (wasNew || state.conversationId) refreshConversations();
  }
}

function setBusy(busy) {
  $('#send').hidden = busy;
  $('#stop').hidden = !busy;
  document.body.classList.toggle('busy', busy);
}

function setupAskBox() {
  const q = $('#question');
  q.placeholder = t('placeholder');
  let composing = false;
  q.addEventListener('compositionstart', () => { composing = true; });
  q.addEventListener('compositionend', () => { composing = false; });
  q.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' || e.shiftKey || e.altKey || e.ctrlKey || e.metaKey) return;
    // Enter that confirms an IME conversion must never send.
    if (e.isComposing || composing || e.keyCode === 229) return;
    e.preventDefault();
    submit();
  });
  const submit = () => {
    const text = q.value;
    if (!text.trim() || state.busy) return;
    q.value = '';
    ask(text);
  };
  $('#ask-form').addEventListener('submit', (e) => { e.preventDefault(); submit(); });
  $('#stop').addEventListener('click', () => { if (state.abort) state.abort.abort(); });
  $('#new-chat').addEventListener('click', newChat);
}

// ---------- uploads ----------

function setupUpload() {
  const chat = $('#chat');
  const overlay = $('#drop-overlay');
  let depth = 0;
  chat.addEventListener('dragenter', (e) => { if (hasFiles(e)) { depth++; overlay.hidden = false; e.preventDefault(); } });
  chat.addEventListener('dragover', (e) => { if (hasFiles(e)) e.preventDefault(); });
  chat.addEventListener('dragleave', () => { if (--depth <= 0) { depth = 0; overlay.hidden = true; } });
  chat.addEventListener('drop', (e) => {
    depth = 0;
    overlay.hidden = true;
    if (!hasFiles(e)) return;
    e.preventDefault();
    uploadFiles([...e.dataTransfer.files]);
  });
  $('#file-input').addEventListener('change', (e) => {
    uploadFiles([...e.target.files]);
    e.target.value = '';
  });
}

function hasFiles(e) {
  return e.dataTransfer && [...e.dataTransfer.types].includes('Files');
}

async function uploadFiles(files) {
  if (files.length === 0) return;
  const status = $('#upload-status');
  const bar = h('progress', { max: 1, value: 0 });
  const label = h('span', { class: 'upload-label' }, t('uploading') + ' ' + files.length);
  const rows = new Map(files.map((f) => [f.name, h('li', { class: 'upload-file', 'data-name': f.name }, f.name)]));
  const problems = h('ul', { class: 'upload-problems' });
  const box = h('div', { class: 'upload-job' }, label, bar, h('ul', { class: 'upload-files' }, [...rows.values()]), problems);
  status.prepend(box);
  try {
    const job = await api.upload(files, { collection: state.settings.collection }, (p) => { bar.value = p; });
    label.textContent = t('ingesting');
    bar.value = 0;
    bar.max = Math.max(1, job.progress.files_total);
    const resp = await api.request('GET', '/api/v1/ingest/' + encodeURIComponent(job.job_id) + '/events');
    if (!resp.ok) throw new api.APIError(resp.status, await resp.json().catch(() => null));
    await api.readEvents(resp, (name, data) => {
      if (name === 'progress') {
        bar.value = data.files_done;
        label.textContent = t('ingesting') + ' ' + data.files_done + '/' + data.files_total + ' ' + t('filesDone') + ', ' + data.chunks + ' ' + t('chunks');
      } else if (name === 'problem') {
        problems.append(h('li', { class: 'problem' }, h('strong', {}, String(data.source)), ': ', String(data.message)));
        const row = rows.get(String(data.source).replace(/^upload\//, ''));
        if (row) row.classList.add('failed');
      } else if (name === 'done') {
        bar.value = bar.max;
        const s = data.summary || {};
        label.textContent = t('uploadDone') + ': ' + (s.files ?? 0) + ' ' + t('filesDone') + ', ' + (s.added ?? 0) + ' ' + t('chunks');
        for (const [name, row] of rows) if (!row.classList.contains('failed')) row.classList.add('ok');
      } else if (name === 'error') {
        throw new api.APIError(0, data);
      }
    });
    loadCollections();
  } catch (e) {
    problems.append(h('li', { class: 'problem' }, e.message));
    label.textContent = t('error');
  }
}

// ---------- start ----------

async function loadCollections() {
  try {
    const list = await api.json('GET', '/api/v1/collections');
    state.collections = list.collections.map((c) => c.name);
    if (state.info && !state.collections.includes(state.info.default_collection)) state.collections.unshift(state.info.default_collection);
  } catch (e) {
    state.collections = state.info ? [state.info.default_collection] : [];
  }
  renderSettings();
}

async function start() {
  applyLabels();
  document.title = t('title');
  setupKeyDialog();
  setupAskBox();
  setupUpload();
  state.collections = [];
  state.info = await api.json('GET', '/api/v1/info');
  loadSettings();
  if (state.settings.collection === '') state.settings.collection = state.info.default_collection;
  await loadCollections();
  await refreshConversations();
  // The conversation in the address, else the last one open here.
  const id = decodeURIComponent(location.hash.slice(1)) || localStorage.getItem(LAST) || '';
  if (id && state.conversations.some((c) => c.id === id)) await openConversation(id);
  else newChat();
  document.body.dataset.ready = 'true';
}

start().catch((e) => {
  document.body.dataset.ready = 'error';
  $('#turns').append(h('p', { class: 'notice error' }, t('error') + ': ' + e.message));
});

// traces.js: the local trace view — recent questions with their latency,
// tokens and feedback at a glance, and one answer in detail — for teams
// without Langfuse.

import { h, clear, $ } from './dom.js';
import { t, lang } from './i18n.js';
import { render } from './markdown.js';
import * as api from './api.js';
import { applyLabels, setupKeyDialog, fmtMS, feedbackIcon } from './common.js';

async function start() {
  applyLabels();
  document.title = 'kura · ' + t('traces');
  setupKeyDialog();
  const list = await api.json('GET', '/api/v1/traces?limit=500');
  const rows = clear($('#trace-rows'));
  if (list.traces.length === 0) rows.append(h('tr', {}, h('td', { colSpan: 7, class: 'empty' }, t('noTraces'))));
  for (const tr of list.traces) {
    const fb = tr.feedback;
    const row = h('tr', { class: 'trace' + (tr.not_found ? ' not-found' : ''), 'data-id': tr.answer_id, tabIndex: 0 },
      h('td', { class: 'time' }, new Date(tr.created).toLocaleString(lang)),
      h('td', { class: 'q' }, tr.question),
      h('td', {}, tr.llm + (tr.model ? ' · ' + tr.model : '')),
      h('td', { class: 'num' }, fmtMS(tr.timings.first_token_ms) + ' / ' + fmtMS(tr.timings.total_ms)),
      h('td', { class: 'num' }, tr.usage.input_tokens + ' / ' + tr.usage.output_tokens),
      h('td', { class: 'num' }, tr.not_found ? t('notFound') : String(tr.source_count)),
      h('td', { class: 'fb', title: fb && fb.comment ? fb.comment : '' }, feedbackIcon(fb), fb && fb.comment ? ' 💬' : ''));
    row.addEventListener('click', () => show(tr.answer_id));
    row.addEventListener('keydown', (e) => { if (e.key === 'Enter') show(tr.answer_id); });
    rows.append(row);
  }
  document.body.dataset.ready = 'true';
}

async function show(id) {
  const a = await api.json('GET', '/api/v1/traces/' + encodeURIComponent(id));
  const box = clear($('#trace-detail'));
  box.hidden = false;
  const src = h('ol', {});
  for (const s of a.sources) {
    const e = s.entity || {};
    src.append(h('li', { value: s.n }, h('strong', {}, String(e.title || e.source || '#' + s.id)), ' ', h('span', { class: 'score' }, Number(s.score).toFixed(3)),
      h('p', { class: 'source-text' }, String(e.text ?? ''))));
  }
  box.append(
    h('h2', {}, a.question),
    a.rewritten_question ? h('p', { class: 'rewritten' }, t('rewritten') + ': ', h('q', {}, a.rewritten_question)) : null,
    h('p', { class: 'meta' }, [a.llm, a.model, 'trace ' + (a.trace_id || '–'), 'retrieve ' + fmtMS(a.timings.retrieve_ms),
      'first token ' + fmtMS(a.timings.first_token_ms), 'total ' + fmtMS(a.timings.total_ms)].filter(Boolean).join(' · ')),
    h('div', { class: 'md' }, render(a.answer)),
    a.feedback ? h('p', { class: 'feedback-shown' }, t('feedback') + ': ', feedbackIcon(a.feedback), a.feedback.comment ? ' — ' + a.feedback.comment : '') : null,
    h('h3', {}, t('sources')), src);
  box.scrollIntoView({ block: 'start' });
}

start().catch((e) => {
  document.body.dataset.ready = 'error';
  $('#trace-rows').append(h('tr', {}, h('td', { colSpan: 7, class: 'error' }, t('error') + ': ' + e.message)));
});

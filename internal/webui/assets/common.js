// common.js: what the chat and the trace pages share: labels from
// data-i18n, the API key dialog, small formatters.

import { t } from './i18n.js';
import { $, $$ } from './dom.js';
import { onKeyNeeded } from './api.js';

export function applyLabels(root = document) {
  for (const el of $$('[data-i18n]', root)) el.textContent = t(el.dataset.i18n);
}

// setupKeyDialog makes the API key dialog answer the API client's
// requests for a key.
export function setupKeyDialog() {
  const dialog = $('#key-dialog');
  const input = $('#key-input');
  let pending = null;
  $('#key-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const key = input.value.trim();
    if (!key || !pending) return;
    input.value = '';
    dialog.close();
    const resolve = pending;
    pending = null;
    resolve(key);
  });
  dialog.addEventListener('cancel', (e) => e.preventDefault()); // Escape cannot skip it
  onKeyNeeded((wrong) => new Promise((resolve) => {
    pending = resolve;
    $('#key-wrong').hidden = !wrong;
    if (!dialog.open) dialog.showModal();
    input.focus();
  }));
}

export function fmtMS(ms) {
  if (!ms && ms !== 0) return '–';
  return ms < 1000 ? Math.round(ms) + ' ms' : (ms / 1000).toFixed(1) + ' s';
}

export const faces = [
  { value: 1, icon: '😀' }, { value: 0.75, icon: '🙂' }, { value: 0.5, icon: '😐' }, { value: 0.25, icon: '🙁' }, { value: 0, icon: '😞' },
];
export const thumbs = [{ value: 1, icon: '👍' }, { value: 0, icon: '👎' }];

export function feedbackIcon(fb) {
  if (!fb) return '';
  const list = fb.kind === 'thumbs' ? thumbs : faces;
  const hit = list.find((x) => x.value === fb.value);
  return hit ? hit.icon : String(fb.value);
}

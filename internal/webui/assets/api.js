// api.js: the client of kura's JSON API. The API key, when the server
// needs one, is asked for once and kept in sessionStorage (gone when the
// browser session ends); a 401 asks again.

const KEY = 'kura.apiKey';
let askForKey = null;

// onKeyNeeded registers the function that asks the user for a key; it
// returns a promise of the key.
export function onKeyNeeded(fn) { askForKey = fn; }

export class APIError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || ('HTTP ' + status));
    this.status = status;
    this.code = e.code || 'http_' + status;
    this.field = e.field;
  }
}

function headers(extra) {
  const hd = Object.assign({}, extra);
  const key = sessionStorage.getItem(KEY);
  if (key) hd['Authorization'] = 'Bearer ' + key;
  return hd;
}

// request sends a request; on 401 it asks for a key and tries again.
export async function request(method, path, body, opts = {}) {
  for (let attempt = 0; ; attempt++) {
    const init = { method, headers: headers(body !== undefined ? { 'Content-Type': 'application/json' } : {}), signal: opts.signal };
    if (body !== undefined) init.body = JSON.stringify(body);
    const resp = await fetch(path, init);
    if (resp.status === 401 && askForKey && attempt < 5) {
      const wrong = attempt > 0 || !!sessionStorage.getItem(KEY);
      sessionStorage.removeItem(KEY);
      const key = await askForKey(wrong);
      sessionStorage.setItem(KEY, key);
      continue;
    }
    return resp;
  }
}

export async function json(method, path, body) {
  const resp = await request(method, path, body);
  if (resp.status === 204) return null;
  const data = await resp.json().catch(() => null);
  if (!resp.ok) throw new APIError(resp.status, data);
  return data;
}

// readEvents reads a text/event-stream body, calling onEvent(name, data)
// for each event (data parsed as JSON).
export async function readEvents(resp, onEvent) {
  const reader = resp.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let cut;
    while ((cut = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      let name = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        if (line.startsWith('event: ')) name = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (data.length) onEvent(name, JSON.parse(data.join('\n')));
    }
  }
}

// stream posts body and feeds the answer's events to onEvent; a plain
// JSON error before the stream starts is thrown as an APIError.
export async function stream(path, body, onEvent, signal) {
  const resp = await request('POST', path, body, { signal });
  if (!resp.ok) throw new APIError(resp.status, await resp.json().catch(() => null));
  await readEvents(resp, onEvent);
}

// upload sends files as multipart/form-data with progress (fetch cannot
// report upload progress, XMLHttpRequest can).
export function upload(files, fields, onProgress) {
  return new Promise((resolve, reject) => {
    const send = (retry) => {
      const form = new FormData();
      for (const [k, v] of Object.entries(fields)) if (v) form.append(k, v);
      for (const f of files) form.append('files', f, f.name);
      const xhr = new XMLHttpRequest();
      xhr.open('POST', '/api/v1/ingest');
      const key = sessionStorage.getItem(KEY);
      if (key) xhr.setRequestHeader('Authorization', 'Bearer ' + key);
      xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
      xhr.onload = async () => {
        let data = null;
        try { data = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
        if (xhr.status === 401 && askForKey && retry) {
          sessionStorage.removeItem(KEY);
          sessionStorage.setItem(KEY, await askForKey(true));
          send(false);
          return;
        }
        if (xhr.status >= 200 && xhr.status < 300) resolve(data);
        else reject(new APIError(xhr.status, data));
      };
      xhr.onerror = () => reject(new APIError(0, { error: { message: 'network error' } }));
      xhr.send(form);
    };
    send(true);
  });
}

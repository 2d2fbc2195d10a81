// Shared by the dashboard (index.html: app.js and page_*.js) and the host page (host.html:
// host.js), loaded before them: the access token, the DOM builder, score and time formatting and
// the JSON API request. Every string goes into the page as a text node: nothing assigns innerHTML.
'use strict';

const TOKEN = new URLSearchParams(location.search).get('token') || '';

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') el.textContent = String(v);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'value' || k === 'checked' || k === 'disabled') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Element with attributes/properties and children (strings become text nodes). */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/** A score with 6 significant digits; '–' for a missing one. */
function fmtScore(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  return String(Number(Number(v).toPrecision(6)));
}

/** An ISO-8601 UTC time as "YYYY-MM-DD hh:mm:ss"; '–' for a missing one. */
function fmtTime(iso) {
  return iso ? iso.replace('T', ' ').slice(0, 19) : '–';
}

function tableWrap(table) { return h('div', { class: 'table-wrap' }, table); }

/** One request to /api/<path> with the token; the JSON answer, or an Error with the server's message. */
async function apiRequest(method, path, body, contentType) {
  const headers = TOKEN ? { Authorization: 'Bearer ' + TOKEN } : {};
  if (contentType) headers['Content-Type'] = contentType;
  const res = await fetch('/api/' + path, { method, headers, body });
  let doc = null;
  try { doc = await res.json(); } catch (e) { doc = null; }
  if (!res.ok) throw new Error((doc && doc.error) || res.status + ' ' + res.statusText);
  return doc;
}

// compe host page: a team uploads submissions, marks finals and follows the leaderboards.
// Every string from the server goes into the page as text nodes: nothing here assigns innerHTML.
'use strict';

// TOKEN, h(), fmtScore(), tableWrap() and apiRequest(): common.js.

/** A UTC time as "YYYY-MM-DD hh:mm:ss UTC" (the host shows teams in several zones). */
function fmtUtc(iso) { return iso ? fmtTime(iso) + ' UTC' : '–'; }

const api = apiRequest;

function section(title, id, ...children) {
  return h('section', { class: 'card', id }, h('h2', { text: title }), children);
}

const state = { info: null, lb: null, subs: null, result: null };

function uploadCard() {
  const info = state.info;
  if (info.closed) {
    return h('div', { class: 'closed-note', id: 'closed' },
      'The competition has ended (', fmtUtc(info.revealed_at), '): submissions are closed and the private leaderboard is shown below.');
  }
  const file = h('input', { type: 'file', id: 'file', accept: '.csv,text/csv' });
  const button = h('button', { class: 'primary', id: 'submit', text: 'Submit' });
  button.addEventListener('click', async () => {
    if (!file.files.length) { state.result = { error: 'Choose a CSV file first.' }; render(); return; }
    const form = new FormData();
    form.append('file', file.files[0], file.files[0].name);
    button.disabled = true;
    try {
      const s = await api('POST', `teams/${encodeURIComponent(info.team)}/submissions`, form);
      state.result = { ok: s };
    } catch (err) {
      state.result = { error: String(err.message || err) };
    }
    await load();
  });
  let result = null;
  if (state.result && state.result.error) {
    result = h('div', { class: 'error result', role: 'alert', id: 'upload-error' }, h('strong', { text: 'Not accepted: ' }), state.result.error);
  } else if (state.result && state.result.ok) {
    const s = state.result.ok;
    result = h('div', { class: 'ok result', id: 'upload-ok' }, `Submission ${s.id} (${s.name}) accepted: public score `,
      h('strong', { id: 'upload-score', text: fmtScore(s.public) }));
  }
  return section('Submit', 'submit-card',
    h('p', { class: 'subtitle' }, 'A CSV with the columns ', h('code', { text: info.columns.join(', ') }), ` and ${info.rows} rows. `,
      `${info.remaining_today} of ${info.daily_limit} submissions left today (UTC).`),
    h('div', { class: 'upload' }, file, button), result);
}

function submissionsCard() {
  const info = state.info, subs = state.subs;
  const revealed = info.revealed;
  const counted = new Set(subs.counted);
  const head = h('tr', {}, h('th', { class: 'num', text: '#' }), h('th', { class: 'num', text: 'Public' }),
    revealed ? h('th', { class: 'num', text: 'Private' }) : null, h('th', { text: 'Final' }), h('th', { text: 'File' }),
    h('th', { text: 'Time' }));
  const rows = subs.submissions.slice().reverse().map(s => h('tr', { 'data-id': s.id },
    h('td', { class: 'num', text: s.id }), h('td', { class: 'num public', text: fmtScore(s.public) }),
    revealed ? h('td', { class: 'num private', text: fmtScore(s.private) }) : null,
    h('td', { class: 'nowrap' }, h('input', { type: 'checkbox', class: 'final', 'data-id': s.id, checked: s.final, disabled: info.closed,
      'aria-label': 'final ' + s.id }), counted.has(s.id) ? h('span', { class: 'muted', text: s.final ? '' : ' (auto)' }) : null),
    h('td', { class: 'name', title: 'sha256 ' + s.sha256, text: s.name }),
    h('td', { class: 'nowrap', text: fmtUtc(s.time) })));
  const note = h('span', { class: 'muted', id: 'finals-note' },
    subs.finals.length ? `Finals: ${subs.finals.join(', ')}.` : 'No finals marked: your two best public submissions count.');
  const save = h('button', { id: 'save-finals', text: 'Save finals', disabled: info.closed });
  save.addEventListener('click', async () => {
    const ids = [...document.querySelectorAll('input.final:checked')].map(c => Number(c.getAttribute('data-id')));
    try {
      await api('PUT', `teams/${encodeURIComponent(info.team)}/finals`, JSON.stringify({ ids }), 'application/json');
      state.result = null;
    } catch (err) {
      state.result = { error: String(err.message || err) };
    }
    await load();
  });
  return section('Your submissions', 'subs-card',
    subs.submissions.length ? tableWrap(h('table', { id: 'subs' }, h('thead', {}, head), h('tbody', {}, rows)))
      : h('p', { class: 'muted', text: 'No submissions yet.' }),
    subs.submissions.length ? h('div', { class: 'finals-bar' }, save, note) : null);
}

function publicCard() {
  const lb = state.lb;
  const rows = lb.public.map(r => h('tr', { class: r.you ? 'you' : null, 'data-team': r.team },
    h('td', { class: 'num', text: r.rank }), h('td', { class: 'name', text: r.team }),
    h('td', { class: 'num score', text: fmtScore(r.score) }), h('td', { class: 'num', text: r.entries }),
    h('td', { class: 'nowrap', text: fmtUtc(r.last) })));
  const head = h('tr', {}, h('th', { class: 'num', text: '#' }), h('th', { text: 'Team' }), h('th', { class: 'num', text: 'Public' }),
    h('th', { class: 'num', text: 'Entries' }), h('th', { text: 'Last' }));
  return section('Public leaderboard', 'public-card',
    h('p', { class: 'subtitle', text: `${lb.metric}, ${lb.direction === 'maximize' ? 'higher' : 'lower'} is better; the best public score of each team.` }),
    lb.public.length ? tableWrap(h('table', { id: 'public-lb' }, h('thead', {}, head), h('tbody', {}, rows)))
      : h('p', { class: 'muted', text: 'No submissions yet.' }));
}

function privateCard() {
  const lb = state.lb;
  if (!lb.revealed) return null;
  const rows = lb.private.map(r => {
    const arrow = r.change > 0 ? `▲ ${r.change}` : r.change < 0 ? `▼ ${-r.change}` : '–';
    return h('tr', { class: r.you ? 'you' : null, 'data-team': r.team },
      h('td', { class: 'num', text: r.rank }), h('td', { class: 'name', text: r.team }),
      h('td', { class: 'num score', text: fmtScore(r.score) }),
      h('td', { class: 'num change ' + (r.change > 0 ? 'up' : r.change < 0 ? 'down' : ''), text: arrow }),
      h('td', { class: 'num', text: r.public_rank }),
      h('td', { class: 'nowrap', text: r.finals.join(', ') + (r.auto_selected ? ' (auto)' : '') }));
  });
  const head = h('tr', {}, h('th', { class: 'num', text: '#' }), h('th', { text: 'Team' }), h('th', { class: 'num', text: 'Private' }),
    h('th', { class: 'num', text: 'Shake' }), h('th', { class: 'num', text: 'Public rank' }), h('th', { text: 'Finals' }));
  return section('Private leaderboard', 'private-card',
    h('p', { class: 'subtitle', text: 'The best private score among each team\'s finals; shake = places moved from the public board.' }),
    tableWrap(h('table', { id: 'private-lb' }, h('thead', {}, head), h('tbody', {}, rows))));
}

function render() {
  const info = state.info;
  document.getElementById('title').textContent = info.title;
  document.getElementById('team').textContent = 'team ' + info.team;
  document.getElementById('deadline').textContent = (info.closed ? 'ended ' : 'deadline ') + fmtUtc(info.closed ? info.revealed_at : info.deadline);
  document.title = info.title + ' · compe host';
  const cards = [h('h1', { text: info.title }), uploadCard(), privateCard(), publicCard(), submissionsCard()];
  document.getElementById('app').replaceChildren(...cards.filter(Boolean));
}

async function load() {
  document.body.removeAttribute('data-ready');
  try {
    state.info = await api('GET', 'info');
    const [lb, subs] = await Promise.all([api('GET', 'leaderboard'), api('GET', `teams/${encodeURIComponent(state.info.team)}/submissions`)]);
    state.lb = lb;
    state.subs = subs;
    render();
    document.body.setAttribute('data-ready', 'ok');
  } catch (err) {
    document.getElementById('app').replaceChildren(h('div', { class: 'error', role: 'alert' }, h('strong', { text: 'Error: ' }), String(err.message || err)));
    document.body.setAttribute('data-ready', 'error');
  }
}

document.addEventListener('DOMContentLoaded', load);

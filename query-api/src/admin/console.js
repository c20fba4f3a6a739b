'use strict';
// The AgentHub admin console. Every value from the server is rendered as text (never as
// HTML); the token lives in this tab's sessionStorage and goes only to this origin.

const TOKEN_KEY = 'agenthub.admin.token';
const REFRESH_MS = 5000;
const LAG_HISTORY = 120;
const SAGA_ACTIONS = { retry: ['parked'], cancel: ['running', 'compensating', 'parked'] };

const ui = {
  token: sessionStorage.getItem(TOKEN_KEY),
  tab: 'overview',
  timer: null,
  lagHistory: [],
  sagaStatus: 'parked',
  openSaga: null,
  dlqCursor: null,
  /** Counts dead-letter loads, so a slower earlier answer never overwrites a later one. */
  dlqLoad: 0,
  eventsCursor: null,
  aggregate: null,
};

const $ = (id) => document.getElementById(id);

/** An element with attributes (class, data-*, …) and children (strings become text). */
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name === 'text') node.textContent = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function fill(tbody, rows, columns, emptyText) {
  tbody.replaceChildren(...(rows.length ? rows
    : [el('tr', {}, el('td', { class: 'empty-row', colspan: columns, text: emptyText }))]));
}

// ---------- formatting ----------
const fmtInt = (n) => (n === null || n === undefined ? '—' : Number(n).toLocaleString('en-US'));
function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}
const shortId = (id) => (id && id.length > 13 ? `${id.slice(0, 8)}…${id.slice(-4)}` : id || '—');
const isUuid = (text) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(text || '');

// ---------- talking to the API ----------
class Problem extends Error {
  constructor(status, body) {
    const title = (body && body.title) || `HTTP ${status}`;
    super(title);
    this.status = status;
    this.body = body || {};
  }
  describe() {
    const parts = [this.body.title || this.message];
    if (this.body.detail) parts.push(this.body.detail);
    for (const field of this.body.errors || []) parts.push(`${field.field}: ${field.reason}`);
    return parts.join(' — ');
  }
}

async function api(method, path) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: { authorization: `Bearer ${ui.token}`, accept: 'application/json' },
      cache: 'no-store',
    });
  } catch (error) {
    throw new Problem(0, { title: 'The query API did not answer', detail: String(error) });
  }
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (_) { body = null; }
  if (response.status === 401) {
    signOut((body && body.detail) ? `Token refused: ${body.detail}` : 'Token refused.');
    throw new Problem(401, body);
  }
  if (!response.ok) throw new Problem(response.status, body);
  return body;
}

function notice(kind, text) {
  const box = $('notice');
  box.className = `notice ${kind}`;
  box.textContent = text;
  box.hidden = false;
  clearTimeout(notice.timer);
  notice.timer = setTimeout(() => { box.hidden = true; }, 12000);
}

// ---------- session ----------
function claimsOf(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part + '==='.slice((part.length + 3) % 4)));
  } catch (_) {
    return null;
  }
}

function signOut(message) {
  ui.token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  clearInterval(ui.timer);
  $('console').hidden = true;
  $('session').hidden = true;
  $('sign-in').hidden = false;
  $('sign-in-error').textContent = message || '';
}

function signIn(token) {
  const claims = claimsOf(token);
  if (!claims) {
    $('sign-in-error').textContent = 'That is not a JWT (three base64url parts separated by dots).';
    return;
  }
  ui.token = token;
  sessionStorage.setItem(TOKEN_KEY, token);
  const roles = (claims.roles || []).join(',') || 'no roles';
  $('who').textContent = `${claims.sub || '?'} · ${claims.tenant || '?'} · ${roles}`;
  $('sign-in').hidden = true;
  $('session').hidden = false;
  $('console').hidden = false;
  $('sign-in-error').textContent = '';
  showTab(location.hash.slice(1) || 'overview');
  schedule();
}

function schedule() {
  clearInterval(ui.timer);
  // Only the overview refreshes by itself: the other tabs hold forms and confirmations that a
  // redraw would throw away; they refresh on demand.
  if ($('auto-refresh').checked) {
    ui.timer = setInterval(() => { if (ui.tab === 'overview') refresh(false); }, REFRESH_MS);
  }
}

// ---------- tabs ----------
const TABS = ['overview', 'dead-letters', 'sagas', 'events'];
function showTab(name) {
  if (!TABS.includes(name)) name = 'overview';
  ui.tab = name;
  for (const link of document.querySelectorAll('.tabs a')) {
    link.classList.toggle('active', link.dataset.tab === name);
    link.setAttribute('aria-selected', String(link.dataset.tab === name));
  }
  for (const panel of document.querySelectorAll('.tab')) panel.hidden = panel.dataset.panel !== name;
  refresh(true);
}

async function refresh(userAsked) {
  if (!ui.token) return;
  try {
    if (ui.tab === 'overview') await loadOverview();
    else if (ui.tab === 'dead-letters') await Promise.all([loadDeadLetters(false), loadParkedEvents()]);
    else if (ui.tab === 'sagas') await loadSagas();
    else if (ui.tab === 'events' && ui.aggregate && userAsked) await loadEvents(false).catch(showEventsError);
    $('refreshed').textContent = `updated ${new Date().toISOString().slice(11, 19)}Z`;
  } catch (problem) {
    if (problem.status === 401) return;
    if (problem.status === 403) {
      signOut('This token has no admin role: the console needs one.');
      return;
    }
    notice('bad', problem.describe ? problem.describe() : String(problem));
  }
}

// ---------- overview: projections, lag, charts ----------
async function loadOverview() {
  const [projections, lag, series] = await Promise.all([
    api('GET', '/v1/admin/projections'),
    api('GET', '/v1/admin/lag'),
    api('GET', '/v1/admin/timeseries?minutes=15'),
  ]);
  ui.lagHistory.push({ at: series.lag.at, total: series.lag.total });
  if (ui.lagHistory.length > LAG_HISTORY) ui.lagHistory.shift();
  renderSummary(projections, series);
  renderBroker(projections.broker);
  renderProjections(projections);
  renderPartitions(lag);
  renderRateChart(series);
  renderLagChart(series.lag);
}

function stat(label, value, hint, tone, dynamic) {
  return el('div', { class: `stat${dynamic ? ' dynamic' : ''}` },
    el('div', { class: 'label', text: label }),
    el('div', { class: `value ${tone || ''}`, text: value }),
    el('div', { class: 'hint', text: hint || '' }));
}

function renderSummary(projections, series) {
  const pending = projections.items.reduce((sum, p) => sum + p.dead_letters, 0);
  const rebuilding = projections.items.filter((p) => p.rebuild).length;
  const live = projections.items.filter((p) => p.live_generation !== null).length;
  const last = series.command_rate.slice(-7, -1);
  const rate = last.length ? last.reduce((s, p) => s + p.events, 0) / (last.length * series.bucket_seconds) : 0;
  const lag = series.lag.total;
  $('dlq-count').textContent = pending ? String(pending) : '';
  $('summary').replaceChildren(
    stat('Events, 15 min', fmtInt(series.total_events), `${rate.toFixed(2)}/s in the last minute`, '', true),
    stat('Total lag', lag === null ? 'unknown' : fmtInt(lag),
      lag === null ? 'broker unreachable' : 'records behind the topics', lag === null ? 'warn' : lag ? 'bad' : 'ok'),
    stat('Dead letters', fmtInt(pending), 'waiting for a retry', pending ? 'bad' : 'ok'),
    stat('Projections live', `${live} / ${projections.items.length}`, 'with a live generation'),
    stat('Rebuilds', fmtInt(rebuilding), rebuilding ? 'in progress' : 'none running'),
  );
}

function renderBroker(broker) {
  const box = $('broker');
  if (broker.reachable) {
    box.className = 'broker up';
    const missing = broker.missing_topics.length ? ` Topics not on the broker yet: ${broker.missing_topics.join(', ')}.` : '';
    box.textContent = `Broker ${broker.brokers} reachable; lag from its high watermarks.${missing}`;
  } else {
    box.className = 'broker down';
    box.textContent = `Broker ${broker.brokers} unreachable — lag is unknown (${broker.error || 'no answer'}). Applied offsets are still shown.`;
  }
}

function rebuildCell(rebuild) {
  if (!rebuild) return el('span', { class: 'muted', text: '—' });
  const pct = rebuild.progress === null ? null : Math.round(rebuild.progress * 1000) / 10;
  const bar = el('span', { class: `progress${rebuild.stalled ? ' stalled' : ''}` }, el('span'));
  bar.firstChild.style.width = `${pct || 0}%`;
  return el('div', {},
    el('div', {}, bar, el('strong', { text: `g${rebuild.generation}` }), ' ',
      pct === null ? 'nothing to apply yet' : `${pct}%`,
      rebuild.stalled ? el('span', { class: 'badge stalled', text: 'stalled' }) : null),
    el('div', { class: 'muted small',
      text: `${fmtInt(rebuild.applied)} of ${fmtInt(rebuild.target)} records (${rebuild.target_source.replace('-', ' ')})` }),
    el('div', { class: 'muted small dynamic',
      text: rebuild.last_progress_at ? `last batch ${fmtTime(rebuild.last_progress_at)}` : 'no batch yet' }));
}

function renderProjections(data) {
  const rows = data.items.map((p) => el('tr', { 'data-projection': p.projection },
    el('td', {}, el('strong', { text: p.projection }), el('div', { class: 'muted small', text: p.topics.join(', ') })),
    el('td', {}, p.live_generation === null ? el('span', { class: 'badge', text: 'not started' })
      : el('span', {}, `g${p.live_generation}`, el('div', { class: 'muted small', text: `since ${fmtTime(p.live_since)}` }))),
    el('td', { class: 'num', text: fmtInt(p.applied) }),
    el('td', { class: 'num lag-cell', text: p.lag === null ? 'unknown' : fmtInt(p.lag) }),
    el('td', { class: 'num' }, p.dead_letters ? el('button', { type: 'button', class: 'link',
      onclick: () => { $('dlq-projection').value = p.projection; location.hash = 'dead-letters'; },
      text: fmtInt(p.dead_letters) }) : '0'),
    el('td', {}, rebuildCell(p.rebuild)),
    el('td', { class: 'time', text: fmtTime(p.last_applied_at) })));
  fill($('projections').tBodies[0], rows, 7, 'No projections.');
}

function renderPartitions(data) {
  const rows = data.items.map((l) => el('tr', {},
    el('td', { text: l.projection }), el('td', { text: `g${l.generation}` }),
    el('td', { class: 'mono', text: l.topic }), el('td', { class: 'num', text: l.partition }),
    el('td', { class: 'num', text: fmtInt(l.applied_until) }),
    el('td', { class: 'num lag-cell', text: l.high_watermark === null ? 'unknown' : fmtInt(l.high_watermark) }),
    el('td', { class: 'num lag-cell', text: l.lag === null ? 'unknown' : fmtInt(l.lag) })));
  fill($('partitions').tBodies[0], rows, 7,
    data.broker.reachable ? 'No partitions: the topics have no records yet.' : 'No stored offsets, and the broker is unreachable.');
}

const CHART = { w: 560, h: 190, left: 44, right: 10, top: 12, bottom: 24 };

function niceMax(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 2.5, 5, 10].map((m) => m * power).find((m) => m >= value);
}

function axes(max, format) {
  const parts = [];
  const plotH = CHART.h - CHART.top - CHART.bottom;
  for (let i = 0; i <= 4; i += 1) {
    const y = CHART.top + plotH - (plotH * i) / 4;
    parts.push(svg('line', { class: 'grid', x1: CHART.left, x2: CHART.w - CHART.right, y1: y, y2: y }));
    parts.push(svg('text', { x: CHART.left - 6, y: y + 3, 'text-anchor': 'end' }, format((max * i) / 4)));
  }
  parts.push(svg('line', { class: 'axis', x1: CHART.left, x2: CHART.w - CHART.right,
    y1: CHART.top + plotH, y2: CHART.top + plotH }));
  return parts;
}

function renderRateChart(series) {
  const points = series.command_rate;
  const plotW = CHART.w - CHART.left - CHART.right;
  const plotH = CHART.h - CHART.top - CHART.bottom;
  const max = niceMax(Math.max(...points.map((p) => p.per_second), 0));
  const step = plotW / Math.max(points.length, 1);
  const fmt = (v) => (max < 4 ? v.toFixed(1) : String(Math.round(v)));
  const chart = svg('svg', { viewBox: `0 0 ${CHART.w} ${CHART.h}`, preserveAspectRatio: 'none', role: 'img' },
    ...axes(max, fmt));
  points.forEach((p, i) => {
    const h = (p.per_second / max) * plotH;
    if (h > 0) {
      const bar = svg('rect', { class: `bar${p.per_second >= max * 0.8 ? ' hot' : ''}`,
        x: CHART.left + i * step + 0.5, y: CHART.top + plotH - h, width: Math.max(step - 1, 1), height: h },
      svg('title', {}, `${fmtTime(p.at)}: ${p.events} events (${p.per_second.toFixed(2)}/s)`));
      chart.append(bar);
    }
    if (i % Math.ceil(points.length / 5) === 0) {
      chart.append(svg('text', { x: CHART.left + i * step, y: CHART.h - 6 }, p.at.slice(11, 16)));
    }
  });
  if (!series.total_events) {
    chart.append(svg('text', { class: 'empty', x: CHART.w / 2, y: CHART.h / 2, 'text-anchor': 'middle' },
      'No events committed in the last 15 minutes'));
  }
  $('rate-chart').replaceChildren(chart,
    el('div', { class: 'chart-note', text: `${fmtInt(series.total_events)} events; buckets of ${series.bucket_seconds} s, UTC` }));
}

function renderLagChart(lag) {
  const box = $('lag-chart');
  if (lag.total === null) {
    box.replaceChildren(el('div', { class: 'broker down',
      text: `Lag unknown: the broker ${lag.broker.brokers} is unreachable (${lag.broker.error || 'no answer'}).` }));
    return;
  }
  const entries = Object.entries(lag.by_projection);
  const plotW = CHART.w - CHART.left - CHART.right;
  const plotH = CHART.h - CHART.top - CHART.bottom;
  const max = niceMax(Math.max(...entries.map(([, v]) => v || 0), 0));
  const chart = svg('svg', { viewBox: `0 0 ${CHART.w} ${CHART.h}`, preserveAspectRatio: 'none', role: 'img' },
    ...axes(max, (v) => String(Math.round(v))));
  const slot = plotW / entries.length;
  entries.forEach(([name, value], i) => {
    const h = ((value || 0) / max) * plotH;
    chart.append(svg('rect', { class: `bar${value ? ' hot' : ''}`, x: CHART.left + i * slot + slot * 0.2,
      y: CHART.top + plotH - h, width: slot * 0.6, height: Math.max(h, 0) }, svg('title', {}, `${name}: ${value}`)));
    chart.append(svg('text', { x: CHART.left + i * slot + slot / 2, y: CHART.h - 6, 'text-anchor': 'middle' }, name));
    chart.append(svg('text', { x: CHART.left + i * slot + slot / 2, y: CHART.top + plotH - h - 4,
      'text-anchor': 'middle' }, fmtInt(value)));
  });
  // Total lag since this page opened, as a line over the bars.
  const history = ui.lagHistory.filter((s) => s.total !== null);
  if (history.length > 1) {
    const hmax = niceMax(Math.max(...history.map((s) => s.total)));
    const path = history.map((s, i) => {
      const x = CHART.left + (plotW * i) / (LAG_HISTORY - 1);
      const y = CHART.top + plotH - (s.total / hmax) * plotH;
      return `${i ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`;
    }).join(' ');
    chart.append(svg('path', { class: 'line', d: path }, svg('title', {}, 'total lag since this page opened')));
  }
  box.replaceChildren(chart, el('div', { class: 'chart-note',
    text: `total ${fmtInt(lag.total)} at ${fmtTime(lag.at)}; the line is the total since this page opened` }));
}

// ---------- dead letters ----------
async function loadDeadLetters(more) {
  const params = new URLSearchParams({ state: $('dlq-state').value, limit: '50' });
  if ($('dlq-projection').value) params.set('projection', $('dlq-projection').value);
  if (more && ui.dlqCursor) params.set('cursor', ui.dlqCursor);
  // A filter changed while an earlier load was on its way: only the latest one fills the table.
  ui.dlqLoad += 1;
  const load = ui.dlqLoad;
  const page = await api('GET', `/v1/admin/dead-letters?${params}`);
  if (load !== ui.dlqLoad) return;
  const tbody = $('dead-letters').tBodies[0];
  const rows = page.items.map(deadLetterRow);
  if (more) tbody.append(...rows);
  else fill(tbody, rows, 8, 'No dead letters here.');
  ui.dlqCursor = page.next_cursor;
  $('dlq-more').hidden = !page.next_cursor;
}

/** The tab's badge: dead letters waiting, over every projection. */
async function refreshDeadLetterCount() {
  const projections = await api('GET', '/v1/admin/projections');
  const pending = projections.items.reduce((sum, p) => sum + p.dead_letters, 0);
  $('dlq-count').textContent = pending ? String(pending) : '';
}

function deadLetterRow(d) {
  const key = d.record_key;
  return el('tr', { 'data-dead-letter': d.id },
    el('td', { class: 'num', text: d.id }),
    el('td', { text: d.projection }),
    el('td', { class: 'mono small', text: `${d.topic}[${d.partition}]@${d.offset}` }),
    el('td', {}, isUuid(key) ? el('button', { type: 'button', class: 'link mono', title: key,
      onclick: () => openAggregate(key), text: shortId(key) }) : (key || '—')),
    el('td', { class: 'truncate', title: d.error, text: d.error }),
    el('td', { class: 'time', text: fmtTime(d.failed_at) }),
    el('td', {}, d.retried_at ? el('span', { class: 'badge retried', title: fmtTime(d.retried_at), text: 'retried' })
      : el('span', { class: 'badge pending', text: 'pending' })),
    el('td', {}, d.retried_at ? '' : el('button', { type: 'button', class: 'small', onclick: (e) => retryDeadLetter(d, e.target),
      text: 'Retry' })));
}

async function retryDeadLetter(letter, button) {
  button.disabled = true;
  button.textContent = 'Retrying…';
  try {
    const result = await api('POST', `/v1/admin/dead-letters/${letter.id}/retry`);
    notice('ok', result.outcome === 'retried' ? `Dead letter ${letter.id} re-applied to ${letter.projection}.`
      : `Dead letter ${letter.id} had already been retried.`);
    await loadDeadLetters(false);
    await refreshDeadLetterCount();
  } catch (problem) {
    if (problem.status === 401) return;
    notice('bad', `Dead letter ${letter.id} not retried: ${problem.describe()}`);
    button.disabled = false;
    button.textContent = 'Retry';
  }
}

// ---------- parked outbox events ----------
async function loadParkedEvents() {
  const tbody = $('parked-events').tBodies[0];
  try {
    const parked = await api('GET', '/v1/admin/outbox/parked');
    fill(tbody, parked.items.map(parkedRow), 6, 'No parked events: the relay publishes everything.');
  } catch (problem) {
    if (problem.status === 401) throw problem;
    // No event store in this database (503): say so in the panel, keep the dead letters.
    fill(tbody, [], 6, `Parked events unavailable: ${problem.describe ? problem.describe() : String(problem)}`);
  }
}

function parkedRow(p) {
  return el('tr', { 'data-parked': p.id },
    el('td', { class: 'num', text: p.id }),
    el('td', {}, el('span', { class: 'muted', text: `${p.aggregate_type} ` }),
      isUuid(p.aggregate_id) ? el('button', { type: 'button', class: 'link mono', title: p.aggregate_id,
        onclick: () => openAggregate(p.aggregate_id), text: shortId(p.aggregate_id) }) : p.aggregate_id),
    el('td', { class: 'num', text: p.sequence }),
    el('td', { class: 'truncate', title: p.reason, text: p.reason }),
    el('td', { class: 'time', text: fmtTime(p.parked_at) }),
    el('td', {}, el('button', { type: 'button', class: 'small', onclick: (e) => requeueParked(p, e.target),
      text: 'Re-queue' })));
}

async function requeueParked(parked, button) {
  button.disabled = true;
  button.textContent = 'Re-queuing…';
  try {
    await api('POST', `/v1/admin/outbox/parked/${parked.id}/requeue`);
    notice('ok', `Event ${parked.aggregate_type} ${parked.aggregate_id}#${parked.sequence} is back in the outbox.`);
    await loadParkedEvents();
  } catch (problem) {
    if (problem.status === 401) return;
    notice('bad', `Event ${parked.id} not re-queued: ${problem.describe()}`);
    button.disabled = false;
    button.textContent = 'Re-queue';
  }
}

// ---------- sagas ----------
async function loadSagas() {
  for (const chip of document.querySelectorAll('#saga-statuses button')) {
    chip.classList.toggle('active', chip.dataset.status === ui.sagaStatus);
  }
  const params = new URLSearchParams({ limit: '100' });
  if (ui.sagaStatus) params.set('status', ui.sagaStatus);
  const list = await api('GET', `/v1/admin/sagas?${params}`);
  $('saga-tenant').textContent = `of tenant ${list.tenant} (the sagas service shows a token its own tenant's)`;
  const rows = list.items.map((s) => el('tr', { class: `clickable${ui.openSaga === s.saga_id ? ' selected' : ''}`,
    'data-saga': s.saga_id, onclick: () => openSaga(s.saga_id) },
  el('td', { class: 'mono', title: s.saga_id, text: shortId(s.saga_id) }),
  el('td', { text: s.saga_type }),
  el('td', {}, el('span', { class: `badge ${s.status}`, text: s.status })),
  el('td', { text: s.step }),
  el('td', { class: 'num', text: s.attempts }),
  el('td', { class: 'time', text: fmtTime(s.updated_at) }),
  el('td', { class: 'truncate', title: s.last_error || '', text: s.last_error || '—' })));
  fill($('sagas').tBodies[0], rows, 7, ui.sagaStatus ? `No ${ui.sagaStatus} sagas.` : 'No sagas.');
  if (ui.openSaga) await openSaga(ui.openSaga, true);
}

async function openSaga(id, quiet) {
  ui.openSaga = id;
  for (const row of $('sagas').tBodies[0].rows) row.classList.toggle('selected', row.dataset.saga === id);
  let detail;
  try {
    detail = await api('GET', `/v1/admin/sagas/${id}`);
  } catch (problem) {
    if (problem.status === 404) { ui.openSaga = null; $('saga-detail').hidden = true; }
    if (!quiet) throw problem;
    return;
  }
  renderSaga(detail);
}

function renderSaga({ saga, steps }) {
  const box = $('saga-detail');
  const actions = el('div', { class: 'actions' });
  const button = (action, label, css) => el('button', { type: 'button', class: css, 'data-action': action,
    disabled: !SAGA_ACTIONS[action].includes(saga.status), onclick: () => confirmAction(saga, action, actions) }, label);
  actions.append(button('retry', 'Retry compensation', 'primary'), button('cancel', 'Cancel saga…', 'danger'));
  const correlation = isUuid(saga.correlation_id)
    ? el('button', { type: 'button', class: 'link mono', onclick: () => openAggregate(saga.correlation_id), text: saga.correlation_id })
    : el('span', { class: 'mono', text: saga.correlation_id });
  const kv = (k, v) => [el('dt', { text: k }), el('dd', {}, v)];
  box.replaceChildren(
    el('div', { class: 'detail-head' }, el('h2', {}, `Saga ${saga.saga_id}`), el('span', { class: `badge ${saga.status}`, text: saga.status })),
    el('dl', { class: 'kv' },
      kv('Type', saga.saga_type), kv('Correlation', correlation), kv('Step', saga.step),
      kv('Attempts', String(saga.attempts)), kv('Deadline', fmtTime(saga.deadline_at)),
      kv('Created', fmtTime(saga.created_at)), kv('Updated', fmtTime(saga.updated_at)),
      kv('Last error', saga.last_error || '—'),
      kv('Data', el('details', {}, el('summary', { text: 'show' }), el('pre', { class: 'json', text: JSON.stringify(saga.data, null, 2) })))),
    actions,
    el('h2', { text: `Step log (${steps.length})` }),
    el('table', { class: 'table', id: 'saga-steps' },
      el('thead', {}, el('tr', {}, ['#', 'At', 'Step', 'Action', 'Outcome', 'Detail', 'Idempotency key'].map((h) => el('th', { text: h })))),
      el('tbody', {}, steps.length ? steps.map((s) => el('tr', {},
        el('td', { class: 'num', text: s.seq }), el('td', { class: 'time', text: fmtTime(s.at) }), el('td', { text: s.step }),
        el('td', { text: s.action }), el('td', {}, el('span', { class: `badge ${outcomeTone(s.outcome)}`, text: s.outcome })),
        el('td', { class: 'wrap', text: s.detail || '—' }),
        el('td', { class: 'mono small', text: s.idempotency_key || '—' })))
        : el('tr', {}, el('td', { class: 'empty-row', colspan: 7, text: 'No steps recorded.' })))));
  box.hidden = false;
}

function outcomeTone(outcome) {
  if (outcome === 'ok' || outcome === 'compensated') return 'ok';
  if (outcome === 'rejected' || outcome === 'failed') return 'bad';
  if (outcome === 'parked' || outcome === 'transient') return 'pending';
  return '';
}

function confirmAction(saga, action, actions) {
  const verb = action === 'retry' ? 'retry its compensation' : 'cancel it';
  actions.replaceChildren(
    el('span', { text: `Really ${verb}? ` }),
    el('button', { type: 'button', class: action === 'retry' ? 'primary' : 'danger', 'data-confirm': action,
      onclick: () => runAction(saga, action) }, action === 'retry' ? 'Yes, retry' : 'Yes, cancel'),
    el('button', { type: 'button', onclick: () => openSaga(saga.saga_id) }, 'No'));
}

async function runAction(saga, action) {
  try {
    await api('POST', `/v1/admin/sagas/${saga.saga_id}/${action}`);
    notice('ok', `Saga ${shortId(saga.saga_id)}: ${action} accepted.`);
  } catch (problem) {
    if (problem.status === 401) return;
    notice('bad', `Saga ${shortId(saga.saga_id)}: ${action} refused — ${problem.describe()}`);
  }
  await loadSagas();
  await openSaga(saga.saga_id, true);
}

// ---------- events ----------
function openAggregate(id) {
  $('aggregate-id').value = id;
  ui.aggregate = id;
  if (location.hash !== '#events') location.hash = 'events';
  else loadEvents(false).catch(showEventsError);
}

function showEventsError(problem) {
  if (problem.status === 401) return;
  $('events-error').textContent = problem.status === 404 ? 'No events of this aggregate.' : problem.describe();
  fill($('events').tBodies[0], [], 7, 'No events.');
  $('events-more').hidden = true;
}

async function loadEvents(more) {
  $('events-error').textContent = '';
  const params = new URLSearchParams({ limit: '50' });
  if (more && ui.eventsCursor) params.set('cursor', ui.eventsCursor);
  const page = await api('GET', `/v1/admin/aggregates/${encodeURIComponent(ui.aggregate)}/events?${params}`);
  const rows = page.items.map((e) => el('tr', { 'data-sequence': e.sequence },
    el('td', { class: 'num', text: e.sequence }),
    el('td', {}, el('strong', { text: e.event_type }), el('span', { class: 'muted small', text: ` v${e.event_version}` })),
    el('td', { text: e.aggregate_type }),
    el('td', { class: 'time', text: fmtTime(e.occurred_at) }),
    el('td', { text: e.tenant_id || '—' }),
    el('td', { text: e.actor || '—' }),
    el('td', {}, el('details', {}, el('summary', { text: 'payload' }),
      el('pre', { class: 'json', text: JSON.stringify(e.payload, null, 2) })))));
  const tbody = $('events').tBodies[0];
  if (more) tbody.append(...rows);
  else fill(tbody, rows, 7, 'No events.');
  ui.eventsCursor = page.next_cursor;
  $('events-more').hidden = !page.next_cursor;
}

// ---------- wiring ----------
$('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const token = $('token-input').value.trim().replace(/^Bearer\s+/i, '');
  $('token-input').value = '';
  signIn(token);
});
$('sign-out').addEventListener('click', () => signOut(''));
$('refresh').addEventListener('click', () => refresh(true));
$('auto-refresh').addEventListener('change', schedule);
window.addEventListener('hashchange', () => showTab(location.hash.slice(1)));
$('dlq-filters').addEventListener('change', () => loadDeadLetters(false).catch((p) => notice('bad', p.describe())));
$('dlq-more').addEventListener('click', () => loadDeadLetters(true).catch((p) => notice('bad', p.describe())));
$('events-more').addEventListener('click', () => loadEvents(true).catch(showEventsError));
$('saga-statuses').addEventListener('click', (event) => {
  const chip = event.target.closest('button');
  if (!chip) return;
  ui.sagaStatus = chip.dataset.status;
  loadSagas().catch((p) => notice('bad', p.describe()));
});
$('events-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const id = $('aggregate-id').value.trim();
  if (!isUuid(id)) {
    $('events-error').textContent = 'An aggregate id is a UUID, e.g. 0196a3c2-…';
    return;
  }
  ui.aggregate = id;
  loadEvents(false).catch(showEventsError);
});

if (ui.token) signIn(ui.token);
else signOut('');

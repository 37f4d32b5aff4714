// alerts.ts — the Alerts page: firing and pending alerts with their operator
// state (acknowledged, silenced, in maintenance), buttons to acknowledge and
// to silence for operators, the silences with an expire button, and the
// maintenance windows. Reads and writes /api/alerting (docs/ALERTING.md).
import { ApiError, type Labels, type Who } from './api';
import { sortTable } from './table';
import { dur, h, mount, when } from './util';

interface Ack { fingerprint: string; acknowledgedBy: string; acknowledgedAt: string; comment: string }
interface OpsAlert {
  fingerprint: string; labels: Labels; annotations: Labels; state: string; activeAt: string;
  firingSince: string | null; value: number; rule: string; group: string;
  acknowledged: Ack | null; silencedBy: string[]; maintenance: string[];
}
interface Matcher { name: string; value: string; isRegex: boolean; isEqual: boolean }
interface Silence {
  id: string; status: { state: string }; updatedAt: string; matchers: Matcher[];
  startsAt: string; endsAt: string; createdBy: string; comment: string;
}
interface Window {
  id: string | null; source: string; name: string; node?: string; group?: string; matchers: Matcher[];
  startsAt?: string; endsAt?: string; weekly?: { days: string[]; from: string; to: string };
  active: boolean; createdBy?: string; comment?: string;
}

const DURATIONS: [string, number][] = [['1 hour', 3600], ['4 hours', 4 * 3600], ['1 day', 86400], ['1 week', 7 * 86400]];

/** A request to /api/alerting: JSON in and out; a session's CSRF token on changes. */
async function call(who: Who | null, method: string, path: string, body?: unknown): Promise<any> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (method !== 'GET') {
    headers['X-CSRF-Token'] = who?.csrf_token ?? '';
    if (body !== undefined) headers['Content-Type'] = 'application/json';
  }
  const r = await fetch('/api/alerting/' + path, {
    method, credentials: 'same-origin', headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (r.status === 401) {
    location.assign('/login?next=' + encodeURIComponent(location.pathname + location.hash));
    throw new ApiError('session expired');
  }
  const text = await r.text();
  let b: any = null;
  try { b = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  if (!r.ok) throw new ApiError(b?.error ?? `HTTP ${r.status}`);
  return b;
}

const secs = (t: string | null | undefined): number => (t ? Date.parse(t) / 1000 : NaN);
const ago = (t: string | null | undefined): string => {
  const s = secs(t);
  return isFinite(s) ? `${when(s)} (${dur(Date.now() / 1000 - s)} ago)` : '–';
};

function matcherText(m: Matcher): string {
  return `${m.name}${m.isEqual ? '' : '!'}${m.isRegex ? '~' : '='}"${m.value}"`;
}

function labelChips(ls: Labels, skip: string[]): HTMLElement {
  return h('span', { class: 'chips' }, Object.entries(ls).filter(([k]) => !skip.includes(k))
    .map(([k, v]) => h('span', { class: 'chip', title: `${k}="${v}"` }, `${k}=${v}`)));
}

function opsStatus(a: OpsAlert): HTMLElement {
  const bits: HTMLElement[] = [];
  if (a.acknowledged) bits.push(h('span', { class: 'badge ack', title: a.acknowledged.comment || 'acknowledged' },
    `Acknowledged by ${a.acknowledged.acknowledgedBy}`));
  if (a.silencedBy.length) bits.push(h('span', { class: 'badge silenced', title: a.silencedBy.join(', ') }, 'Silenced'));
  for (const m of a.maintenance) bits.push(h('span', { class: 'badge maint', title: m }, 'Maintenance'));
  return bits.length ? h('span', { class: 'chips', 'data-ops': 'status' }, bits) : h('span', { class: 'muted' }, 'Not acknowledged');
}

export async function alertsPage(view: HTMLElement, who: Who | null): Promise<() => Promise<void>> {
  const operator = who?.role === 'operator' || who?.role === 'admin';
  const msg = h('div', { 'aria-live': 'polite' });
  const cards = h('div', { class: 'cards' });
  const alertsBox = h('div'), silencesBox = h('div'), windowsBox = h('div');
  const comment = h('input', { placeholder: 'comment for acknowledge / silence (optional)', 'aria-label': 'comment', size: 44 });
  const showExpired = h('input', { type: 'checkbox', 'aria-label': 'show expired silences' });
  const say = (text: string, err = false) => mount(msg, h('p', { class: err ? 'err' : 'muted' }, text));
  const act = async (what: () => Promise<unknown>, done: string) => {
    try { await what(); say(done); await load(); } catch (e) { say((e as Error).message, true); }
  };

  const ackButton = (a: OpsAlert) => h('button', {
    type: 'button', 'data-action': 'ack',
    onclick: () => act(() => call(who, 'POST', 'ack', { fingerprint: a.fingerprint, comment: comment.value }),
      `Acknowledged ${a.labels.alertname ?? a.fingerprint}.`),
  }, 'Acknowledge');
  const unackButton = (a: OpsAlert) => h('button', {
    type: 'button', 'data-action': 'unack',
    onclick: () => act(() => call(who, 'DELETE', `ack/${a.fingerprint}`), `Acknowledgement of ${a.labels.alertname ?? ''} removed.`),
  }, 'Unacknowledge');
  const silenceControls = (a: OpsAlert) => {
    const sel = h('select', { 'aria-label': 'silence for' }, DURATIONS.map(([t, s]) => h('option', { value: s }, t)));
    const go = h('button', {
      type: 'button', 'data-action': 'silence',
      onclick: () => {
        const now = Date.now();
        const matchers = Object.entries(a.labels).map(([name, value]) => ({ name, value, isRegex: false, isEqual: true }));
        return act(() => call(who, 'POST', 'silences', {
          matchers, startsAt: new Date(now).toISOString(), endsAt: new Date(now + parseInt(sel.value, 10) * 1000).toISOString(),
          createdBy: who?.user ?? '', comment: comment.value || 'silenced from the console',
        }), `Silenced ${a.labels.alertname ?? ''} for ${sel.selectedOptions[0]?.textContent ?? ''}.`);
      },
    }, 'Silence');
    return h('span', { class: 'chips' }, sel, go);
  };

  const load = async () => {
    const [alerts, silences, windows] = await Promise.all([
      call(who, 'GET', 'alerts') as Promise<OpsAlert[]>,
      call(who, 'GET', 'silences') as Promise<Silence[]>,
      call(who, 'GET', 'maintenance') as Promise<Window[]>,
    ]);
    const firing = alerts.filter((a) => a.state === 'firing');
    const n = (c: string, label: string, v: number) => h('div', { class: `card ${c}` }, h('div', { class: 'n' }, v), h('div', { class: 'muted' }, label));
    mount(cards, n('down', 'firing', firing.length), n('warning', 'pending', alerts.length - firing.length),
      n('up', 'acknowledged', alerts.filter((a) => a.acknowledged).length),
      n('alerts', 'silenced', alerts.filter((a) => a.silencedBy.length).length));
    mount(alertsBox, sortTable<OpsAlert>([
      { title: 'State', cell: (a) => h('span', { class: `badge ${a.state}` }, a.state), key: (a) => (a.state === 'firing' ? 0 : 1) },
      { title: 'Alert', cell: (a) => h('span', { 'data-fp': a.fingerprint, title: a.annotations.summary ?? a.annotations.description ?? '' }, a.labels.alertname ?? a.rule), key: (a) => a.labels.alertname ?? '' },
      { title: 'Severity', cell: (a) => a.labels.severity ?? '–', key: (a) => a.labels.severity ?? '' },
      { title: 'Labels', cell: (a) => labelChips(a.labels, ['alertname', 'severity']) },
      { title: 'Active since', cell: (a) => ago(a.firingSince ?? a.activeAt), key: (a) => secs(a.firingSince ?? a.activeAt) },
      { title: 'Status', cell: (a) => opsStatus(a), key: (a) => (a.acknowledged ? 1 : 0) + (a.silencedBy.length ? 2 : 0) },
      ...(operator ? [{ title: '', cell: (a: OpsAlert) => h('span', { class: 'chips' },
        a.acknowledged ? unackButton(a) : ackButton(a), silenceControls(a)) }] : []),
    ], alerts, 0, false, 'No firing or pending alerts'));
    const shown = silences.filter((s) => showExpired.checked || s.status.state !== 'expired');
    mount(silencesBox, sortTable<Silence>([
      { title: 'State', cell: (s) => h('span', { class: `badge ${s.status.state === 'active' ? 'silenced' : ''}` }, s.status.state), key: (s) => s.status.state },
      { title: 'Matchers', cell: (s) => h('span', { class: 'mono', title: s.matchers.map(matcherText).join(', ') }, s.matchers.map(matcherText).join(', ')) },
      { title: 'Starts', cell: (s) => when(secs(s.startsAt)), key: (s) => secs(s.startsAt) },
      { title: 'Ends', cell: (s) => when(secs(s.endsAt)), key: (s) => secs(s.endsAt) },
      { title: 'Created by', cell: (s) => s.createdBy, key: (s) => s.createdBy },
      { title: 'Comment', cell: (s) => h('span', { title: s.comment }, s.comment) },
      ...(operator ? [{ title: '', cell: (s: Silence) => (s.status.state === 'expired' ? '' : h('button', {
        type: 'button', 'data-action': 'expire',
        onclick: () => act(() => call(who, 'DELETE', `silences/${s.id}`), 'Silence expired.'),
      }, 'Expire')) }] : []),
    ], shown, 3, true, 'No silences'));
    mount(windowsBox, sortTable<Window>([
      { title: 'Name', cell: (w) => w.name, key: (w) => w.name },
      { title: 'Source', cell: (w) => w.source, key: (w) => w.source },
      { title: 'Covers', cell: (w) => [w.node ? `node ${w.node}` : '', w.group ? `group ${w.group}` : '', ...w.matchers.map(matcherText)].filter(Boolean).join(', ') || 'every alert' },
      { title: 'When', cell: (w) => (w.weekly ? `weekly ${w.weekly.days.join(',')} ${w.weekly.from}–${w.weekly.to} UTC` : `${when(secs(w.startsAt))} – ${when(secs(w.endsAt))}`) },
      { title: 'Active', cell: (w) => (w.active ? h('span', { class: 'badge maint' }, 'active') : 'no'), key: (w) => (w.active ? 0 : 1) },
      { title: 'Comment', cell: (w) => w.comment ?? '' },
      ...(operator ? [{ title: '', cell: (w: Window) => (w.source !== 'api' || !w.id ? '' : h('button', {
        type: 'button', 'data-action': 'delete-window',
        onclick: () => act(() => call(who, 'DELETE', `maintenance/${w.id}`), 'Maintenance window deleted.'),
      }, 'Delete')) }] : []),
    ], windows, 4, false, 'No maintenance windows'));
  };
  showExpired.addEventListener('change', () => { load().catch((e) => say((e as Error).message, true)); });

  // New maintenance window for a node or group (operators).
  const mwTarget = h('input', { placeholder: 'node or instance', 'aria-label': 'maintenance node' });
  const mwKind = h('select', { 'aria-label': 'maintenance covers' }, h('option', { value: 'node' }, 'node'), h('option', { value: 'group' }, 'group'));
  const mwFor = h('select', { 'aria-label': 'maintenance for' }, DURATIONS.map(([t, s]) => h('option', { value: s }, t)));
  const mwAdd = h('button', {
    type: 'button', onclick: () => {
      const now = Date.now(), v = mwTarget.value.trim();
      if (!v) { say('Name a node or a group for the window.', true); return; }
      act(() => call(who, 'POST', 'maintenance', {
        [mwKind.value]: v, startsAt: new Date(now).toISOString(),
        endsAt: new Date(now + parseInt(mwFor.value, 10) * 1000).toISOString(), comment: comment.value,
      }), `Maintenance window for ${mwKind.value} ${v} created.`);
    },
  }, 'Add window');

  mount(view,
    h('h1', null, 'Alerts'),
    cards,
    operator ? h('div', { class: 'toolbar' }, comment) : h('p', { class: 'muted' }, 'Acknowledging and silencing need the operator role.'),
    msg,
    h('section', { class: 'panel', 'data-panel': 'alerts' }, h('h2', null, 'Firing and pending'), alertsBox),
    h('div', { class: 'grid wide', style: 'margin-top:12px' },
      h('section', { class: 'panel', 'data-panel': 'silences' }, h('h2', null, 'Silences'),
        h('label', { class: 'muted' }, showExpired, ' show expired'), silencesBox),
      h('section', { class: 'panel', 'data-panel': 'maintenance' }, h('h2', null, 'Maintenance windows'),
        operator ? h('div', { class: 'toolbar' }, mwKind, mwTarget, mwFor, mwAdd) : null, windowsBox)));
  await load();
  return load;
}

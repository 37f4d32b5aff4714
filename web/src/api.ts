// api.ts — the only place that talks to the server. Reads the documented
// Prometheus-compatible /api/v1, the inventory API and /api/auth (docs/CONSOLE.md).

export type Labels = Record<string, string>;
export interface Sample { metric: Labels; value: [number, string] }
export interface Series { metric: Labels; values: [number, string][] }
export interface Alert { labels: Labels; annotations: Labels; state: string; activeAt?: string; value?: string }
export interface Who { user: string; role: string; csrf_token: string; via: string }

export class ApiError extends Error {}

let csrf = '';

function toLogin(): never {
  const next = location.pathname + location.hash;
  location.assign('/login?next=' + encodeURIComponent(next));
  throw new ApiError('session expired');
}

async function getJSON(path: string, params?: Record<string, string>): Promise<unknown> {
  const url = params ? `${path}?${new URLSearchParams(params)}` : path;
  const r = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (r.status === 401) toLogin();
  let body: any;
  try { body = await r.json(); } catch { throw new ApiError(`${path}: HTTP ${r.status}, not JSON`); }
  if (!r.ok || (body && body.status === 'error'))
    throw new ApiError(`${path}: ${body?.error ?? 'HTTP ' + r.status}`);
  return body;
}

async function prom(path: string, params?: Record<string, string>): Promise<any> {
  const body = (await getJSON(path, params)) as { status: string; data: any };
  return body.data;
}

/** Instant query; scalar and string results become one sample with no labels. */
export async function query(q: string, time?: number): Promise<Sample[]> {
  const p: Record<string, string> = { query: q };
  if (time !== undefined) p.time = String(time);
  const d = await prom('/api/v1/query', p);
  if (d.resultType === 'vector') return d.result as Sample[];
  if (d.resultType === 'scalar' || d.resultType === 'string') return [{ metric: {}, value: d.result }];
  if (d.resultType === 'matrix') return (d.result as Series[]).map((s) => ({ metric: s.metric, value: s.values[s.values.length - 1] }));
  return [];
}

export async function queryRange(q: string, start: number, end: number, step: number): Promise<Series[]> {
  const d = await prom('/api/v1/query_range', { query: q, start: String(start), end: String(end), step: String(step) });
  if (d.resultType === 'matrix') return d.result as Series[];
  if (d.resultType === 'vector') return (d.result as Sample[]).map((s) => ({ metric: s.metric, values: [s.value] }));
  return [];
}

export async function labelValues(name: string): Promise<string[]> {
  return (await prom(`/api/v1/label/${encodeURIComponent(name)}/values`)) as string[];
}

export async function labelNames(): Promise<string[]> {
  return (await prom('/api/v1/labels')) as string[];
}

export async function alerts(): Promise<Alert[]> {
  return ((await prom('/api/v1/alerts')) as { alerts: Alert[] }).alerts ?? [];
}

/** The inventory API (all nodes, or the one with that instance label), or null
 * when the server does not offer it (404). */
export async function inventory(instance?: string): Promise<any[] | null> {
  const url = '/api/inventory/nodes' + (instance === undefined ? '' : `?instance=${encodeURIComponent(instance)}`);
  const r = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (r.status === 401) toLogin();
  if (!r.ok) return null;
  try {
    const b = await r.json();
    return Array.isArray(b) ? b : Array.isArray(b?.data) ? b.data : null;
  } catch { return null; }
}

export interface StatusEvent { node: string; instance: string; from: string; to: string; time: number; source: string }

/** Node status changes since a Unix time, newest first; null when the server has no inventory API. */
export async function inventoryEvents(since: number): Promise<StatusEvent[] | null> {
  const r = await fetch(`/api/inventory/events?since=${since}`, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (r.status === 401) toLogin();
  if (!r.ok) return null;
  try {
    const b = await r.json();
    return Array.isArray(b?.data) ? (b.data as StatusEvent[]) : null;
  } catch { return null; }
}

/** The busiest interfaces of all nodes (inventory API), as samples of utilization
 * percent labelled instance and ifName; null when the server has no inventory API. */
export async function inventoryTopInterfaces(n: number): Promise<Sample[] | null> {
  const r = await fetch(`/api/inventory/interfaces?top=${n}`, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (r.status === 401) toLogin();
  if (!r.ok) return null;
  try {
    const b = await r.json();
    if (!Array.isArray(b?.data)) return null;
    return (b.data as any[]).map((i) => ({ metric: { instance: String(i.instance), ifName: String(i.ifName) }, value: [0, String(i.util_percent)] }));
  } catch { return null; }
}

export async function whoami(): Promise<Who | null> {
  const r = await fetch('/api/auth/whoami', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (r.status === 401) toLogin();
  if (!r.ok) return null;
  const w = (await r.json()) as Who;
  csrf = w.csrf_token;
  return w;
}

/** A request to /api/auth or /logout: form-encoded fields, carries the session's CSRF token. */
export async function send(method: string, path: string, fields?: Record<string, string>): Promise<any> {
  const r = await fetch(path, {
    method, credentials: 'same-origin',
    headers: { Accept: 'application/json', 'X-CSRF-Token': csrf },
    body: fields === undefined ? undefined : new URLSearchParams(fields),
  });
  if (r.status === 401) toLogin();
  const text = await r.text();
  let b: any = null;
  try { b = text ? JSON.parse(text) : null; } catch { /* keep null */ }
  if (!r.ok) throw new ApiError(b?.error ?? `HTTP ${r.status}`);
  return b;
}

export const num = (s: Sample | undefined): number | null =>
  s === undefined ? null : parseFloat(s.value[1]);

/** Map instant-query results by one label. */
export function byLabel(rs: Sample[], label: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const s of rs) m.set(s.metric[label] ?? '', parseFloat(s.value[1]));
  return m;
}

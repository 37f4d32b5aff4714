// range.ts — the time-range picker and the query grid it implies.
import { h } from './util';

export const RANGES: [string, number][] = [['15m', 900], ['1h', 3600], ['3h', 10800], ['6h', 21600], ['12h', 43200],
  ['24h', 86400], ['2d', 172800], ['7d', 604800], ['30d', 2592000]];
const POINTS = 240;	// samples per series on a chart

export interface Grid { start: number; end: number; step: number; rate: string }

/** The grid for a range name: about POINTS steps, a rate window that always holds samples. */
export function grid(range: string): Grid {
  const secs = (RANGES.find(([n]) => n === range) ?? RANGES[1])[1];
  const step = Math.max(15, Math.ceil(secs / POINTS / 15) * 15);
  const end = Math.floor(Date.now() / 1000);
  return { start: end - secs, end, step, rate: `${Math.max(60, 4 * step)}s` };
}

/** Range and refresh selectors; onChange gets (range, refreshSeconds). */
export function rangePicker(range: string, refresh: number, onChange: (r: string, s: number) => void): HTMLElement {
  const r = h('select', { 'aria-label': 'time range', 'data-range': '' }, RANGES.map(([n]) => h('option', { value: n }, `Last ${n}`)));
  r.value = range;
  const s = h('select', { 'aria-label': 'refresh' }, [[0, 'Refresh off'], [10, 'Every 10 s'], [30, 'Every 30 s'], [60, 'Every 1 min']]
    .map(([v, t]) => h('option', { value: String(v) }, String(t))));
  s.value = String(refresh);
  const fire = () => onChange(r.value, parseInt(s.value, 10));
  r.addEventListener('change', fire);
  s.addEventListener('change', fire);
  return h('span', { class: 'toolbar', style: 'margin:0' }, r, s);
}

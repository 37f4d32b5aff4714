// chart.ts — time-series charts on uPlot from /api/v1/query_range results.
import uPlot from 'uplot';
import type { Labels, Series } from './api';
import { h, mount } from './util';

const PALETTE = ['#2f7de1', '#e8743b', '#19a979', '#ed4a7b', '#945ecf', '#13a4b4',
  '#d6a000', '#6c8893', '#ee6868', '#2f6497', '#5ab65a', '#b0679e'];
const MAX_SERIES = 12;		// more lines than this is noise on a small chart

export interface ChartOpts {
  fmt?: (v: number) => string;	// axis and legend value format
  legend?: (m: Labels) => string;	// series name from its labels
  min?: number;			// fixed y minimum (e.g. 0)
  max?: number;			// fixed y maximum (e.g. 100 for percent)
  height?: number;		// pixels
  step?: boolean;			// draw as steps (status history)
  empty?: string;			// text shown when there is nothing to draw
}

let live: { u: uPlot; ro: ResizeObserver }[] = [];

/** Destroy every chart (called when the page changes). */
export function disposeCharts(): void {
  for (const c of live) { c.ro.disconnect(); c.u.destroy(); }
  live = [];
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

export function defaultLegend(m: Labels): string {
  const rest = Object.entries(m).filter(([k]) => k !== '__name__');
  const inner = rest.map(([k, v]) => `${k}="${v}"`).join(', ');
  return (m.__name__ ?? '') + (inner ? `{${inner}}` : '') || 'value';
}

/**
 * Draw series into el. The x axis is the query grid start..end by step, so
 * gaps (missing samples) stay gaps. el.dataset.points gets the number of
 * plotted points, which the end-to-end tests check.
 */
export function drawChart(el: HTMLElement, series: Series[], start: number, end: number, step: number, o: ChartOpts = {}): void {
  const n = Math.max(1, Math.floor((end - start) / step) + 1);
  const xs = new Array<number>(n);
  for (let i = 0; i < n; i++) xs[i] = start + i * step;
  const shown = series.slice(0, MAX_SERIES);
  let points = 0;
  const ys = shown.map((s) => {
    const y = new Array<number | null>(n).fill(null);
    for (const [t, v] of s.values) {
      const i = Math.round((t - start) / step);
      const f = parseFloat(v);
      if (i >= 0 && i < n && isFinite(f)) { y[i] = f; points++; }
    }
    return y;
  });
  el.dataset.points = String(points);
  el.dataset.series = String(shown.length);
  el.title = series.length > shown.length ? `showing ${shown.length} of ${series.length} series` : '';
  if (points === 0) {
    mount(el, h('div', { class: 'empty' }, o.empty ?? 'No data in this time range'));
    return;
  }
  mount(el);
  const fmt = o.fmt ?? ((v: number) => String(+v.toPrecision(4)));
  const fg = cssVar('--muted'), grid = cssVar('--line');
  const legend = o.legend ?? defaultLegend;
  const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  // 24-hour clock; dates only when the range spans days
  const p2 = (n: number) => String(n).padStart(2, '0');
  const long = end - start > 2 * 86400;
  const timeLabel = (t: number) => {
    const d = new Date(t * 1000);
    const hm = `${p2(d.getHours())}:${p2(d.getMinutes())}`;
    return long ? `${p2(d.getMonth() + 1)}-${p2(d.getDate())} ${hm}` : hm;
  };
  const opts: uPlot.Options = {
    width: Math.max(200, el.clientWidth),
    height: o.height ?? 200,
    legend: { show: true, live: true },
    cursor: { drag: { x: true, y: false } },
    scales: { x: { time: true }, y: { range: (_u, lo, hi) => [o.min ?? Math.min(0, lo), o.max ?? (hi > 0 ? hi * 1.05 : 1)] } },
    axes: [{ ...axis, values: (_u, vals) => vals.map(timeLabel) }, { ...axis, size: 86, values: (_u, vals) => vals.map((v) => (v === null ? '' : fmt(v))) }],
    series: [{}, ...shown.map((s, i) => ({
      label: legend(s.metric),
      stroke: PALETTE[i % PALETTE.length],
      width: 1.5,
      fill: shown.length === 1 ? PALETTE[0] + '22' : undefined,
      value: (_u: uPlot, v: number | null) => (v === null ? '–' : fmt(v)),
      paths: o.step ? uPlot.paths.stepped!({ align: 1 }) : undefined,
      spanGaps: false,
    }))],
  };
  const u = new uPlot(opts, [xs, ...ys] as uPlot.AlignedData, el);
  const ro = new ResizeObserver(() => {
    const w = el.clientWidth;
    if (w > 0 && Math.abs(w - u.width) > 2) u.setSize({ width: w, height: u.height });
  });
  ro.observe(el);
  live.push({ u, ro });
}

/** A titled panel holding one chart; returns the chart element. */
export function chartPanel(title: string): { panel: HTMLElement; el: HTMLElement } {
  const el = h('div', { class: 'chart', 'data-title': title }, h('div', { class: 'empty' }, 'Loading…'));
  return { panel: h('section', { class: 'panel' }, h('h2', null, title), el), el };
}

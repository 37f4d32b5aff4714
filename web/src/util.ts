// util.ts — DOM building and number formatting. Text always goes in through
// textContent, never innerHTML, so label values from devices cannot inject markup.

type Kid = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | EventListener | undefined | null>;

/** Make an element with attributes (on* keys become listeners) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null,
  ...kids: (Kid | Kid[])[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v as EventListener);
      else if (k === 'class') el.className = String(v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  for (const kid of kids.flat()) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

/** Replace all children of el. */
export function mount(el: Element, ...kids: Kid[]): void {
  el.replaceChildren();
  for (const k of kids) if (k !== null && k !== undefined && k !== false)
    el.append(k instanceof Node ? k : document.createTextNode(String(k)));
}

const SI = ['', 'k', 'M', 'G', 'T', 'P'];

/** 1234567 -> "1.23 M" with a unit suffix, base 1000. */
export function si(v: number | null | undefined, unit = '', digits = 3): string {
  if (v === null || v === undefined || !isFinite(v)) return '–';
  let i = 0, x = Math.abs(v);
  while (x >= 1000 && i < SI.length - 1) { x /= 1000; i++; }
  return `${v < 0 ? '-' : ''}${+x.toPrecision(digits)} ${SI[i]}${unit}`.trim();
}

/** Bytes in base 1024 ("1.5 GiB"). */
export function bytes(v: number | null | undefined): string {
  if (v === null || v === undefined || !isFinite(v)) return '–';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0, x = v;
  while (Math.abs(x) >= 1024 && i < u.length - 1) { x /= 1024; i++; }
  return `${+x.toPrecision(3)} ${u[i]}`;
}

export function pct(v: number | null | undefined, digits = 1): string {
  return v === null || v === undefined || !isFinite(v) ? '–' : `${v.toFixed(digits)} %`;
}

export function ms(v: number | null | undefined): string {
  if (v === null || v === undefined || !isFinite(v)) return '–';
  return v < 10 ? `${v.toFixed(2)} ms` : `${Math.round(v)} ms`;
}

/** Seconds -> "3d 4h", "5h 2m", "42s". */
export function dur(s: number | null | undefined): string {
  if (s === null || s === undefined || !isFinite(s) || s < 0) return '–';
  const d = Math.floor(s / 86400), hh = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${hh}h`;
  if (hh > 0) return `${hh}h ${m}m`;
  if (m > 0) return `${m}m ${Math.floor(s % 60)}s`;
  return `${Math.floor(s)}s`;
}

export function when(unixSec: number): string {
  const d = new Date(unixSec * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  if (d.toDateString() === new Date().toDateString()) return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** A utilization bar 0..100 with a numeric label. */
export function bar(v: number | null): HTMLElement {
  const x = v === null || !isFinite(v) ? 0 : Math.max(0, Math.min(100, v));
  const cls = x >= 90 ? 'bar crit' : x >= 75 ? 'bar hi' : 'bar';
  return h('div', { class: 'toolbar', style: 'margin:0;flex-wrap:nowrap' },
    h('div', { class: cls, style: 'width:48px;flex:none' }, h('span', { style: `width:${x}%` })),
    h('span', { class: 'mono' }, pct(v)));
}

/** Escape a label value for use inside a PromQL double-quoted string. */
export function pqStr(v: string): string {
  return '"' + v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') + '"';
}

export function statusDot(status: string): HTMLElement {
  return h('span', { class: `dot ${status}`, title: status });
}

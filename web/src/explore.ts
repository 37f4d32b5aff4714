// explore.ts — a PromQL box with autocomplete of metric and label names,
// a chart of the range query and a table of the instant query.
import { labelNames, labelValues, query, queryRange, type Sample } from './api';
import { chartPanel, defaultLegend, disposeCharts, drawChart } from './chart';
import { setParams } from './node';
import { grid, rangePicker } from './range';
import { sortTable } from './table';
import { h, mount } from './util';

const FUNCS = ['rate', 'irate', 'increase', 'sum', 'avg', 'min', 'max', 'count', 'topk', 'bottomk', 'quantile',
  'avg_over_time', 'max_over_time', 'min_over_time', 'sum_over_time', 'count_over_time', 'histogram_quantile',
  'label_replace', 'label_join', 'abs', 'ceil', 'floor', 'round', 'clamp_min', 'clamp_max', 'delta', 'deriv',
  'predict_linear', 'changes', 'resets', 'time', 'vector', 'scalar', 'absent', 'sort', 'sort_desc'];
const MAX_SUGGEST = 50;

let names: string[] | null = null, labels: string[] = [];

export async function explorePage(root: HTMLElement, params: URLSearchParams): Promise<() => Promise<void>> {
  const range = params.get('range') ?? '1h';
  const box = h('textarea', { spellcheck: 'false', placeholder: 'PromQL, e.g. rate(node_cpu_seconds_total[5m])', 'aria-label': 'query' });
  box.value = params.get('q') ?? '';
  const list = h('ul', { hidden: true, role: 'listbox' });
  const run = h('button', { class: 'primary', type: 'button' }, 'Execute');
  const msg = h('div', { class: 'muted' });
  const chart = chartPanel('Graph');
  const table = h('section', { class: 'panel', 'data-panel': 'table' }, h('h2', null, 'Table'), h('div'));
  const execute = () => setParams('#/explore', { q: box.value.trim(), range: picker.dataset.range || range });
  const picker = rangePicker(range, 0, (r) => { picker.dataset.range = r; if (box.value.trim()) execute(); });
  picker.lastElementChild?.remove();	// explore has no auto refresh
  mount(root, h('h1', null, 'Explore'),
    h('div', { class: 'explore panel', style: 'margin-bottom:12px' },
      h('div', { class: 'ac' }, box, list),
      h('div', { class: 'toolbar', style: 'margin:8px 0 0' }, run, picker, msg)),
    h('div', { class: 'grid wide' }, chart.panel, table));

  if (names === null) {
    [names, labels] = await Promise.all([labelValues('__name__').catch(() => []), labelNames().catch(() => [])]);
  }
  // Autocomplete: the identifier before the cursor; inside {...} suggest label names.
  let items: { text: string; kind: string }[] = [], sel = 0;
  const word = () => {
    const upto = box.value.slice(0, box.selectionStart ?? box.value.length);
    const m = /[a-zA-Z_:][a-zA-Z0-9_:]*$/.exec(upto);
    const inBraces = upto.lastIndexOf('{') > upto.lastIndexOf('}');
    return { w: m ? m[0] : '', at: m ? upto.length - m[0].length : upto.length, inBraces };
  };
  const close = () => { list.hidden = true; items = []; };
  const show = () => {
    const { w, inBraces } = word();
    if (!w) return close();
    const pool = inBraces ? labels.map((t) => ({ text: t, kind: 'label' }))
      : [...(names ?? []).map((t) => ({ text: t, kind: 'metric' })), ...FUNCS.map((t) => ({ text: t, kind: 'function' }))];
    const lw = w.toLowerCase();
    items = pool.filter((p) => p.text.toLowerCase().startsWith(lw) && p.text !== w).slice(0, MAX_SUGGEST);
    if (items.length < MAX_SUGGEST)
      items.push(...pool.filter((p) => !p.text.toLowerCase().startsWith(lw) && p.text.toLowerCase().includes(lw)).slice(0, MAX_SUGGEST - items.length));
    sel = 0;
    if (!items.length) return close();
    mount(list, ...items.map((it, i) => h('li', { class: i === sel ? 'sel' : '', role: 'option', onmousedown: (e: Event) => { e.preventDefault(); pick(i); } },
      it.text, h('small', null, it.kind))));
    list.hidden = false;
  };
  const pick = (i: number) => {
    const it = items[i];
    if (!it) return;
    const { w, at } = word();
    const pos = at + w.length;
    const add = it.kind === 'function' ? it.text + '(' : it.text;
    box.value = box.value.slice(0, at) + add + box.value.slice(pos);
    box.selectionStart = box.selectionEnd = at + add.length;
    close();
    box.focus();
  };
  box.addEventListener('input', show);
  box.addEventListener('blur', () => setTimeout(close, 100));
  box.addEventListener('keydown', (e) => {
    if (!list.hidden && items.length) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        sel = (sel + (e.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length;
        [...list.children].forEach((li, i) => li.classList.toggle('sel', i === sel));
        list.children[sel]?.scrollIntoView({ block: 'nearest' });
        return;
      }
      if (e.key === 'Tab' || (e.key === 'Enter' && !e.shiftKey)) { e.preventDefault(); pick(sel); return; }
      if (e.key === 'Escape') { close(); return; }
    }
    if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); execute(); }
  });
  run.addEventListener('click', execute);

  const load = async () => {
    const q = box.value.trim();
    if (!q) { mount(chart.el, h('div', { class: 'empty' }, 'Enter a query')); return; }
    const g = grid(range);
    const t0 = performance.now();
    try {
      const [rs, inst] = await Promise.all([queryRange(q, g.start, g.end, g.step), query(q)]);
      msg.textContent = `${inst.length} series, ${Math.round(performance.now() - t0)} ms`;
      msg.className = 'muted';
      disposeCharts();
      drawChart(chart.el, rs, g.start, g.end, g.step, { height: 300 });
      mount(table.lastElementChild!, sortTable<Sample>([
        { title: 'Series', cell: (s) => h('span', { class: 'mono' }, defaultLegend(s.metric)), key: (s) => defaultLegend(s.metric) },
        { title: 'Value', cell: (s) => s.value[1], key: (s) => parseFloat(s.value[1]), num: true },
      ], inst, -1, false, 'Empty result'));
    } catch (e) {
      msg.textContent = String((e as Error).message);
      msg.className = 'err';
      mount(chart.el, h('div', { class: 'empty' }, 'Query failed'));
    }
  };
  await load();
  return load;
}

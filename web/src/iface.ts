// iface.ts — one interface: traffic, utilization, errors, discards, status history.
import { query, queryRange, type Sample } from './api';
import { chartPanel, drawChart } from './chart';
import { sel } from './ifkind';
import { ifKindOf, setParams } from './node';
import { grid, rangePicker } from './range';
import { h, mount, pct, si, statusDot } from './util';

export async function ifacePage(root: HTMLElement, instance: string, name: string, params: URLSearchParams): Promise<() => Promise<void>> {
  const range = params.get('range') ?? '6h';
  const refresh = parseInt(params.get('refresh') ?? '0', 10) || 0;
  const path = `#/node/${encodeURIComponent(instance)}/if/${encodeURIComponent(name)}`;
  const info = h('p', { class: 'muted', 'data-ifinfo': '' });
  const traffic = chartPanel('Traffic (bits/s)'), util = chartPanel('Utilization (%)'),
    errs = chartPanel('Errors (/s)'), disc = chartPanel('Discards (/s)'), status = chartPanel('Status (1 = up)');
  mount(root,
    h('div', { class: 'toolbar' },
      h('a', { href: `#/node/${encodeURIComponent(instance)}` }, `← ${instance}`), h('span', { style: 'flex:1' }),
      rangePicker(range, refresh, (r, s) => setParams(path, { range: r, refresh: s }))),
    h('h1', null, `${name} `, h('span', { class: 'muted', style: 'font-size:14px' }, `on ${instance}`)),
    info,
    h('div', { class: 'grid wide' }, traffic.panel, util.panel, errs.panel, disc.panel, status.panel));
  const load = async () => {
    const k = await ifKindOf(instance);
    const S = sel(instance, k, name);
    const g = grid(range);
    const R = (q: string) => queryRange(q, g.start, g.end, g.step).catch(() => []);
    const pair = (a: string, b: string, f: string) =>
      `label_replace(${f.replace('X', a)}, "dir", "in", "", "") or label_replace(${f.replace('X', b)}, "dir", "out", "", "")`;
    const [tr, ut, er, di, st] = await Promise.all([
      R(pair(k.inOctets + S, k.outOctets + S, `8 * rate(X[${g.rate}])`)),
      R(pair(k.inOctets + S, k.outOctets + S, `100 * 8 * rate(X[${g.rate}]) / on() group_left() (max(${k.speedBps.replace('{S}', S)}) > 0)`)),
      R(pair(k.inErr + S, k.outErr + S, `rate(X[${g.rate}])`)),
      R(pair(k.inDisc + S, k.outDisc + S, `rate(X[${g.rate}])`)),
      R(`${k.list}${S} == bool ${k.upValue}`),
    ]);
    const [lab, st0, sp0] = await Promise.all([query(`${k.list}${S}`), query(k.statusQ.replace('{S}', S)), query(k.speedBps.replace('{S}', S))]
      .map((p) => p.catch(() => [] as Sample[])));
    const m = lab[0]?.metric ?? {};
    const ost = st0[0] ? k.statusOf(st0[0].metric, st0[0].value[1]) : 'unknown';
    const speed = sp0[0] ? parseFloat(sp0[0].value[1]) : null;
    mount(info, statusDot(ost), ost,
      ` · speed ${speed && speed > 0 ? si(speed, 'bps') : 'unknown'}`,
      m.ifDescr ? ` · ${m.ifDescr}` : '', m.ifAlias ? ` · “${m.ifAlias}”` : '', m.ifIndex ? ` · ifIndex ${m.ifIndex}` : '');
    const dir = (m: Record<string, string>) => m.dir ?? 'value';
    drawChart(traffic.el, tr, g.start, g.end, g.step, { fmt: (v) => si(v, 'bps'), legend: dir });
    drawChart(util.el, ut, g.start, g.end, g.step, { fmt: (v) => pct(v, 1), min: 0, legend: dir,
      empty: 'No utilization: the interface reports no speed (ifHighSpeed / speed is 0 or missing)' });
    drawChart(errs.el, er, g.start, g.end, g.step, { fmt: (v) => si(v), legend: dir });
    drawChart(disc.el, di, g.start, g.end, g.step, { fmt: (v) => si(v), legend: dir });
    drawChart(status.el, st, g.start, g.end, g.step, { min: 0, max: 1.1, step: true, legend: () => 'oper status up', fmt: (v) => (v >= 1 ? 'up' : v > 0 ? '' : 'down') });
  };
  await load();
  return load;
}

// overview.ts — the landing page: node status counts, active alerts, top-10s, recent changes.
import { alerts, inventoryEvents, inventoryTopInterfaces, query, queryRange, type Alert, type Sample } from './api';
import { IFBPS, IFUTIL, loadNodes, type NodeRow } from './nodes';
import { sortTable } from './table';
import { bar, h, mount, ms, pct, si, statusDot, when } from './util';

const nodeLink = (inst: string, text?: string) => h('a', { href: `#/node/${encodeURIComponent(inst)}` }, text ?? inst);

function card(cls: string, n: number | string, label: string, href: string): HTMLElement {
  return h('a', { class: `card ${cls}`, 'data-card': cls, href }, h('div', { class: 'n' }, String(n)), h('div', { class: 'muted' }, label));
}

function topPanel(title: string, rows: NodeRow[], val: (r: NodeRow) => number | null, cell: (v: number | null) => Node | string): HTMLElement {
  const top = rows.filter((r) => val(r) !== null).sort((a, b) => val(b)! - val(a)!).slice(0, 10);
  return h('section', { class: 'panel', 'data-panel': title }, h('h2', null, title),
    sortTable([
      { title: 'Node', cell: (r) => nodeLink(r.instance, r.node) },
      { title: title.replace(/^Top 10 by /, ''), cell: (r) => cell(val(r)), num: true },
    ], top, -1, false, 'No data'));
}

interface Change { t: number; node: string; instance: string; job: string; from: string; to: string }

/** Status changes over the last 3 hours, newest first: the inventory's events, else
 * transitions of up / probe_success found with PromQL. */
async function recentChanges(): Promise<Change[]> {
  const end = Math.floor(Date.now() / 1000), start = end - 3 * 3600, step = 10;
  const ev = await inventoryEvents(start).catch(() => null);
  // the check that changed, in a word (the panel is narrow)
  const CHECK: Record<string, string> = { vigil_node_status: 'status', snmp_up: 'snmp', probe_success: 'probe', up: 'up' };
  if (ev) return ev.slice(0, 20).map((e) => ({ t: e.time, node: e.node, instance: e.instance, job: CHECK[e.source] ?? e.source, from: e.from, to: e.to }));
  const ud = (x: number) => (x === 1 ? 'up' : 'down');
  const rs = await queryRange('up or probe_success', start, end, step).catch(() => []);
  const out: Change[] = [];
  for (const s of rs) {
    let prev: number | null = null, prevT = 0;
    for (const [t, v] of s.values) {
      const x = parseFloat(v);
      // a gap longer than two steps counts as the target vanishing (down)
      if (prev !== null && t - prevT > 2 * step && prev === 1)
        out.push({ t: prevT + step, node: s.metric.instance ?? '', instance: s.metric.instance ?? '', job: s.metric.job ?? '', from: 'up', to: 'down' }), prev = 0;
      if (prev !== null && x !== prev)
        out.push({ t, node: s.metric.instance ?? '', instance: s.metric.instance ?? '', job: s.metric.job ?? '', from: ud(prev), to: ud(x) });
      prev = x; prevT = t;
    }
  }
  return out.sort((a, b) => b.t - a.t).slice(0, 20);
}

export async function overviewPage(root: HTMLElement): Promise<() => Promise<void>> {
  const load = async () => {
    // The top interfaces read every interface (48,000 at 1,000 switches) and are the
    // slowest part by far: the page renders without them and fills that panel after
    // (asked only then: the store answers one request at a time).
    const ifPanel = h('section', { class: 'panel', 'data-panel': 'Top 10 interfaces' },
      h('h2', null, 'Top 10 interfaces by utilization'), h('p', { class: 'muted' }, 'Loading…'));
    const fillInterfaces = async () => {
      let ifs = (await inventoryTopInterfaces(10).catch(() => null)) ?? await query(`topk(10, ${IFUTIL})`).catch(() => [] as Sample[]);
      let ifUnit = 'util';
      if (!ifs.length) { ifs = await query(`topk(10, ${IFBPS})`).catch(() => []); ifUnit = 'bps'; }
      const ifRows = ifs.slice().sort((a, b) => parseFloat(b.value[1]) - parseFloat(a.value[1]));
      mount(ifPanel, h('h2', null, ifUnit === 'util' ? 'Top 10 interfaces by utilization' : 'Top 10 interfaces by traffic'),
        sortTable<Sample>([
          { title: 'Node', cell: (s) => nodeLink(s.metric.instance ?? '') },
          { title: 'Interface', cell: (s) => h('a', { href: `#/node/${encodeURIComponent(s.metric.instance ?? '')}/if/${encodeURIComponent(s.metric.ifName ?? '')}` }, s.metric.ifName ?? '') },
          { title: ifUnit === 'util' ? 'Utilization' : 'Traffic', num: true,
            cell: (s) => (ifUnit === 'util' ? bar(parseFloat(s.value[1])) : si(parseFloat(s.value[1]), 'bps')) },
        ], ifRows, -1, false, 'No interface data'));
      ifPanel.dataset.loaded = '1';
    };
    const [nodes, al, changes] = await Promise.all([
      loadNodes(), alerts().catch(() => [] as Alert[]), recentChanges(),
    ]);
    const count = (s: string) => nodes.filter((n) => n.status === s).length;
    const firing = al.filter((a) => a.state === 'firing');
    mount(root,
      h('h1', null, 'Overview'),
      h('div', { class: 'cards' },
        card('up', count('up'), 'nodes up', '#/nodes?status=up'), card('warning', count('warning'), 'warning', '#/nodes?status=warning'),
        card('down', count('down'), 'down', '#/nodes?status=down'), card('alerts', firing.length, 'firing alerts', '#/explore?q=ALERTS%7Balertstate%3D%22firing%22%7D')),
      h('section', { class: 'panel', 'data-panel': 'alerts', style: 'margin-bottom:12px' }, h('h2', null, `Active alerts (${al.length})`),
        sortTable<Alert>([
          { title: 'State', cell: (a) => h('span', { class: `badge ${a.state}` }, a.state), key: (a) => a.state },
          { title: 'Alert', cell: (a) => a.labels.alertname ?? '', key: (a) => a.labels.alertname ?? '' },
          { title: 'Severity', cell: (a) => a.labels.severity ?? '', key: (a) => a.labels.severity ?? '' },
          { title: 'Node', cell: (a) => (a.labels.instance ? nodeLink(a.labels.instance) : ''), key: (a) => a.labels.instance ?? '' },
          { title: 'Summary', cell: (a) => a.annotations?.summary ?? a.annotations?.description ?? '' },
          { title: 'Since', cell: (a) => (a.activeAt ? when(Date.parse(a.activeAt) / 1000) : ''), key: (a) => a.activeAt ?? '' },
        ], al, 5, true, 'No active alerts')),
      h('div', { class: 'grid' },
        topPanel('Top 10 by CPU', nodes, (r) => r.cpu, (v) => bar(v)),
        topPanel('Top 10 by memory', nodes, (r) => r.mem, (v) => bar(v)),
        ifPanel,
        topPanel('Top 10 by response time', nodes.filter((r) => r.status !== 'down'), (r) => r.response_ms, (v) => ms(v)),
        topPanel('Top 10 by packet loss', nodes, (r) => r.loss, (v) => pct(v)),
        h('section', { class: 'panel', 'data-panel': 'changes' }, h('h2', null, 'Recent status changes (3 h)'),
          sortTable<Change>([
            { title: 'Time', cell: (c) => when(c.t), key: (c) => c.t },
            { title: 'Node', cell: (c) => (c.instance ? nodeLink(c.instance, c.node) : c.node), key: (c) => c.node },
            { title: 'Check', cell: (c) => c.job },
            // compact, the panel is narrow: the old status as a dot (named in its title), then the new one
            { title: 'Change', cell: (c) => h('span', { title: `${c.from} → ${c.to}`, style: 'white-space:nowrap' }, statusDot(c.from), '→ ', statusDot(c.to), c.to), key: (c) => c.to },
          ], changes, 0, true, 'No status changes in the last 3 hours'))));
    void fillInterfaces();
  };
  await load();
  return load;
}

// node.ts — one node: status, availability and response time history, CPU,
// memory, disks and interfaces, over a chosen time range.
import { query, queryRange, type Sample } from './api';
import { chartPanel, drawChart } from './chart';
import { HOST, SNMP, ifName, sel, type IfKind } from './ifkind';
import { loadNodes, type NodeRow } from './nodes';
import { grid, rangePicker } from './range';
import { sortTable } from './table';
import { bar, bytes, dur, h, mount, ms, pct, pqStr, si, statusDot, when } from './util';

export function setParams(path: string, p: Record<string, string | number>): void {
  const q = new URLSearchParams(Object.entries(p).map(([k, v]) => [k, String(v)]));
  location.hash = `${path}?${q}`;
}

/** Which kind of interfaces this node has: SNMP when it has ifOperStatus. */
export async function ifKindOf(instance: string): Promise<IfKind> {
  const s = await query(`count(ifOperStatus${sel(instance)})`).catch(() => [] as Sample[]);
  return s.length ? SNMP : HOST;
}

interface IfRow { name: string; status: 'up' | 'down' | 'unknown'; speed: number | null; inb: number | null; outb: number | null; util: number | null; errs: number | null }

async function interfaces(instance: string, k: IfKind): Promise<IfRow[]> {
  const S = sel(instance);
  const by = `by (${k.key})`;
  const [st, sp, ib, ob, er] = await Promise.all([
    query(k.statusQ.replace('{S}', S)), query(`max ${by} (${k.speedBps.replace('{S}', S)})`),
    query(`sum ${by} (8 * rate(${k.inOctets}${S}[5m]))`), query(`sum ${by} (8 * rate(${k.outOctets}${S}[5m]))`),
    query(`sum ${by} (rate(${k.inErr}${S}[5m]) + rate(${k.outErr}${S}[5m]))`),
  ].map((p) => p.catch(() => [] as Sample[])));
  const m = (rs: Sample[]) => new Map(rs.map((s) => [s.metric[k.key] ?? '', parseFloat(s.value[1])]));
  const [spm, ibm, obm, erm] = [m(sp), m(ib), m(ob), m(er)];
  return st.map((s) => {
    const name = ifName(k, s.metric);
    const speed = spm.has(name) && spm.get(name)! > 0 ? spm.get(name)! : null;
    const inb = ibm.get(name) ?? null, outb = obm.get(name) ?? null;
    const util = speed && inb !== null && outb !== null ? (100 * Math.max(inb, outb)) / speed : null;
    return { name, status: k.statusOf(s.metric, s.value[1]), speed, inb, outb, util, errs: erm.get(name) ?? null };
  });
}

export async function nodePage(root: HTMLElement, instance: string, params: URLSearchParams): Promise<() => Promise<void>> {
  const range = params.get('range') ?? '6h';
  const refresh = parseInt(params.get('refresh') ?? '0', 10) || 0;
  const path = `#/node/${encodeURIComponent(instance)}`;
  const S = sel(instance);
  const head = h('div');
  const info = h('section', { class: 'panel' }, h('h2', null, 'Node'), h('p', { class: 'muted' }, 'Loading…'));
  const avail = chartPanel('Availability (%)'), resp = chartPanel('Response time'),
    cpu = chartPanel('CPU busy (%)'), mem = chartPanel('Memory'), disk = chartPanel('Disk I/O'),
    traffic = chartPanel('Interface traffic');
  const fsPanel = h('section', { class: 'panel', 'data-panel': 'filesystems' }, h('h2', null, 'Disks'), h('div'));
  const ifPanel = h('section', { class: 'panel', 'data-panel': 'interfaces' }, h('h2', null, 'Interfaces'), h('div'));
  mount(root,
    h('div', { class: 'toolbar' }, h('a', { href: '#/nodes' }, '← Nodes'), h('span', { class: 'spacer', style: 'flex:1' }),
      rangePicker(range, refresh, (r, s) => setParams(path, { range: r, refresh: s }))),
    head,
    h('div', { class: 'grid wide' }, info, avail.panel, resp.panel, cpu.panel, mem.panel, disk.panel, fsPanel, traffic.panel),
    h('div', { style: 'margin-top:12px' }, ifPanel));

  const load = async () => {
    const g = grid(range);
    const R = (q: string) => queryRange(q, g.start, g.end, g.step).catch(() => []);
    const all: NodeRow[] = await loadNodes(instance).catch(() => []);
    const n = all.find((x) => x.instance === instance) ?? all.find((x) => x.instances.includes(instance));
    mount(head, h('h1', null, statusDot(n?.status ?? 'unknown'), n?.node ?? instance, ' ',
      h('span', { class: 'muted', style: 'font-size:14px', 'data-status': '' }, n?.status ?? 'unknown', n?.since ? ` since ${when(n.since)}` : '')));
    // availability and response time: every instance of the node (an SNMP device's ICMP probe has its own)
    const A = n && n.instances.length > 1
      ? `{instance=~${pqStr(n.instances.map((i) => i.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'))}}` : S;
    const k = await ifKindOf(instance);
    const [av, rt, cp, mm, dk, tr, fs, ifs, availPct] = await Promise.all([
      R(`100 * avg_over_time(up${A}[${g.step}s]) or 100 * avg_over_time(probe_success${A}[${g.step}s]) or 100 * avg_over_time(snmp_up${A}[${g.step}s])`),
      R(`probe_icmp_duration_seconds${A.replace(/}$/, ', phase="rtt"}')} * 1000 or probe_duration_seconds${A} * 1000 or scrape_duration_seconds${A} * 1000`),
      R(`100 * (1 - avg by (instance) (rate(node_cpu_seconds_total${S.replace('}', ', mode="idle"}')}[${g.rate}]))) or avg by (instance) (hrProcessorLoad${S})`),
      R(`label_replace(node_memory_MemTotal_bytes${S} - node_memory_MemAvailable_bytes${S}, "what", "used", "", "") or label_replace(node_memory_MemTotal_bytes${S}, "what", "total", "", "")`),
      R(`label_replace(sum by (instance) (rate(node_disk_read_bytes_total${S}[${g.rate}])), "what", "read", "", "") or label_replace(sum by (instance) (rate(node_disk_written_bytes_total${S}[${g.rate}])), "what", "write", "", "")`),
      R(`label_replace(sum by (instance) (8 * rate(${k.inOctets}${S}[${g.rate}])), "what", "in", "", "") or label_replace(sum by (instance) (8 * rate(${k.outOctets}${S}[${g.rate}])), "what", "out", "", "")`),
      query(`node_filesystem_size_bytes${S.replace('}', ', fstype!~"tmpfs|ramfs|overlay|squashfs|nsfs"}')}`).catch(() => [] as Sample[]),
      interfaces(instance, k),
      query(`100 * avg_over_time(up${A}[${g.end - g.start}s]) or 100 * avg_over_time(probe_success${A}[${g.end - g.start}s]) or 100 * avg_over_time(snmp_up${A}[${g.end - g.start}s])`).catch(() => [] as Sample[]),
    ]);
    const what = (m: Record<string, string>) => m.what ?? m.job ?? 'value';
    drawChart(avail.el, av, g.start, g.end, g.step, { fmt: (v) => pct(v, 0), min: 0, max: 105, legend: (m) => m.job ?? 'availability' });
    drawChart(resp.el, rt, g.start, g.end, g.step, { fmt: ms, legend: (m) => m.job ?? 'response' });
    drawChart(cpu.el, cp, g.start, g.end, g.step, { fmt: (v) => pct(v, 0), min: 0, max: 100, legend: () => 'cpu busy' });
    drawChart(mem.el, mm, g.start, g.end, g.step, { fmt: bytes, min: 0, legend: what });
    drawChart(disk.el, dk, g.start, g.end, g.step, { fmt: (v) => bytes(v) + '/s', legend: what });
    drawChart(traffic.el, tr, g.start, g.end, g.step, { fmt: (v) => si(v, 'bps'), legend: what });
    // filesystems: size and used, one row per mount
    const used = await query(`node_filesystem_size_bytes${S} - node_filesystem_avail_bytes${S}`).catch(() => [] as Sample[]);
    const usedBy = new Map(used.map((s) => [`${s.metric.device}|${s.metric.mountpoint}`, parseFloat(s.value[1])]));
    const fsRows = fs.map((s) => {
      const size = parseFloat(s.value[1]), u = usedBy.get(`${s.metric.device}|${s.metric.mountpoint}`) ?? null;
      return { mount: s.metric.mountpoint ?? '', device: s.metric.device ?? '', fstype: s.metric.fstype ?? '', size, used: u, pct: u !== null && size > 0 ? (100 * u) / size : null };
    });
    mount(fsPanel.lastElementChild!, sortTable([
      { title: 'Mount', cell: (r) => h('span', { class: 'mono' }, r.mount), key: (r) => r.mount },
      { title: 'Device', cell: (r) => r.device, key: (r) => r.device },
      { title: 'Type', cell: (r) => r.fstype },
      { title: 'Size', cell: (r) => bytes(r.size), key: (r) => r.size, num: true },
      { title: 'Used', cell: (r) => bar(r.pct), key: (r) => r.pct, num: true },
    ], fsRows, 0, false, 'No disk metrics for this node'));
    const ifLink = (name: string) => h('a', { href: `${path}/if/${encodeURIComponent(name)}?range=${range}` }, name);
    mount(ifPanel.lastElementChild!, sortTable<IfRow>([
      { title: 'Status', cell: (r) => h('span', null, statusDot(r.status), r.status), key: (r) => r.status },
      { title: 'Interface', cell: (r) => ifLink(r.name), key: (r) => r.name },
      { title: 'Speed', cell: (r) => si(r.speed, 'bps'), key: (r) => r.speed, num: true },
      { title: 'In', cell: (r) => si(r.inb, 'bps'), key: (r) => r.inb, num: true },
      { title: 'Out', cell: (r) => si(r.outb, 'bps'), key: (r) => r.outb, num: true },
      { title: 'Utilization', cell: (r) => bar(r.util), key: (r) => r.util, num: true },
      { title: 'Errors/s', cell: (r) => si(r.errs), key: (r) => r.errs, num: true },
    ], ifs, 1, false, 'No interfaces'));
    const av0 = availPct[0] ? parseFloat(availPct[0].value[1]) : null;
    mount(info, h('h2', null, 'Node'), h('dl', { class: 'kv' },
      h('dt', null, 'Instance'), h('dd', { class: 'mono' }, instance),
      h('dt', null, 'Address'), h('dd', { class: 'mono' }, n?.address || '–'),
      h('dt', null, 'Status since'), h('dd', null, n?.since ? when(n.since) : '–'),
      h('dt', null, 'Group'), h('dd', null, n?.group || '–'),
      h('dt', null, 'Vendor / OS'), h('dd', null, n?.vendor || '–'),
      h('dt', null, 'Model'), h('dd', null, n?.model || '–'),
      h('dt', null, 'Uptime'), h('dd', null, dur(n?.uptime_seconds)),
      h('dt', null, 'Response time'), h('dd', null, ms(n?.response_ms)),
      h('dt', null, 'CPU / memory'), h('dd', null, `${pct(n?.cpu)} / ${pct(n?.mem)}`),
      h('dt', null, `Availability (${range})`), h('dd', { 'data-availability': '' }, pct(av0, 3)),
      h('dt', null, 'Interfaces'), h('dd', null, `${ifs.length} (${k === SNMP ? 'SNMP' : 'host'})`)));
  };
  await load();
  return load;
}

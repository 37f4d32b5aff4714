// nodelist.ts — every node, searchable, sortable, filtered by status and group.
import { loadNodes, type NodeRow } from './nodes';
import { sortTable } from './table';
import { bar, dur, h, mount, ms, pct, statusDot, when } from './util';

const STATUS_ORDER: Record<string, number> = { down: 0, warning: 1, unknown: 2, up: 3 };

export async function nodesPage(root: HTMLElement, params: URLSearchParams): Promise<() => Promise<void>> {
  let nodes: NodeRow[] = [];
  const search = h('input', { type: 'search', placeholder: 'Search name, address, vendor…', value: params.get('q') ?? '', style: 'width:280px', 'aria-label': 'search' });
  const status = h('select', { 'aria-label': 'status' }, ['all', 'up', 'warning', 'down', 'unknown'].map((s) => h('option', { value: s }, s === 'all' ? 'All statuses' : s)));
  status.value = params.get('status') ?? 'all';
  const group = h('select', { 'aria-label': 'group' }, h('option', { value: '' }, 'All groups'));
  const count = h('span', { class: 'muted' });
  const list = h('div');
  const draw = () => {
    const q = search.value.trim().toLowerCase();
    const rows = nodes.filter((n) => (status.value === 'all' || n.status === status.value) &&
      (!group.value || n.group === group.value) &&
      (!q || [n.node, n.instance, n.address, n.vendor, n.model, n.group].some((f) => f.toLowerCase().includes(q))));
    count.textContent = `${rows.length} of ${nodes.length} nodes`;
    mount(list, sortTable<NodeRow>([
      { title: 'Status', cell: (n) => h('span', null, statusDot(n.status), n.status), key: (n) => STATUS_ORDER[n.status] },
      { title: 'Since', cell: (n) => (n.since ? h('span', { title: new Date(n.since * 1000).toISOString() }, when(n.since)) : '–'), key: (n) => n.since },
      { title: 'Node', cell: (n) => h('a', { href: `#/node/${encodeURIComponent(n.instance)}` }, n.node), key: (n) => n.node.toLowerCase() },
      { title: 'Address', cell: (n) => h('span', { class: 'mono' }, n.address), key: (n) => n.address },
      { title: 'Group', cell: (n) => n.group, key: (n) => n.group },
      { title: 'Vendor', cell: (n) => n.vendor, key: (n) => n.vendor },
      { title: 'Model', cell: (n) => n.model, key: (n) => n.model },
      { title: 'CPU', cell: (n) => bar(n.cpu), key: (n) => n.cpu, num: true },
      { title: 'Memory', cell: (n) => bar(n.mem), key: (n) => n.mem, num: true },
      // a down node's last attempt timed out or failed: its duration is not a response time
      { title: 'Response', cell: (n) => ms(n.status === 'down' ? null : n.response_ms), key: (n) => (n.status === 'down' ? null : n.response_ms), num: true },
      { title: 'Loss', cell: (n) => pct(n.loss), key: (n) => n.loss, num: true },
      { title: 'Uptime', cell: (n) => dur(n.uptime_seconds), key: (n) => n.uptime_seconds, num: true },
    ], rows, 0, false, 'No nodes match', 200));
  };
  search.addEventListener('input', draw);
  status.addEventListener('change', draw);
  group.addEventListener('change', draw);
  mount(root, h('h1', null, 'Nodes'), h('div', { class: 'toolbar' }, search, status, group, count),
    h('section', { class: 'panel' }, list));
  const load = async () => {
    nodes = await loadNodes();
    const groups = [...new Set(nodes.map((n) => n.group).filter(Boolean))].sort();
    const keep = group.value || params.get('group') || '';
    mount(group, h('option', { value: '' }, 'All groups'), ...groups.map((g) => h('option', { value: g }, g)));
    group.value = groups.includes(keep) ? keep : '';
    draw();
  };
  await load();
  return load;
}

// nodes.ts — the node list: from GET /api/inventory/nodes when the server has
// it (one request, merged and with status history), otherwise derived from
// PromQL over the exporters' metric names.
import { byLabel, inventory, query, type Sample } from './api';

export type Status = 'up' | 'warning' | 'down' | 'unknown';

export interface NodeRow {
  node: string;		// display name
  instance: string;	// the `instance` label that keys every query
  address: string;	// host part of instance
  status: Status;
  vendor: string;
  model: string;
  uptime_seconds: number | null;
  response_ms: number | null;
  group: string;
  cpu: number | null;	// percent busy
  mem: number | null;	// percent used
  loss: number | null;	// percent of failed probes over the last hour
  since: number | null;	// Unix seconds the status last changed (inventory API only)
  instances: string[];	// every instance label of this node (an SNMP device and its ICMP probe)
}

export const Q = {
  cpu: '100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m]))) or avg by (instance) (hrProcessorLoad)',
  mem: '100 * (1 - max by (instance) (node_memory_MemAvailable_bytes) / max by (instance) (node_memory_MemTotal_bytes))',
  resp: 'max by (instance) (probe_icmp_duration_seconds{phase="rtt"}) or max by (instance) (probe_duration_seconds) or max by (instance) (scrape_duration_seconds)',
  loss: '100 * (1 - avg by (instance) (avg_over_time(probe_success[1h])))',
  uptime: 'max by (instance) (node_time_seconds - node_boot_time_seconds) or max by (instance) (sysUpTime) / 100',
};

/** Interface utilization (percent of speed, the larger of in and out), both SNMP and host interfaces. */
export const IFUTIL =
  'max by (instance, ifName) (100 * 8 * rate(ifHCInOctets[5m]) / (ifHighSpeed * 1e6 > 0)' +
  ' or 100 * 8 * rate(ifHCOutOctets[5m]) / (ifHighSpeed * 1e6 > 0))' +
  ' or label_replace(max by (instance, device) (100 * rate(node_network_receive_bytes_total[5m]) / (node_network_speed_bytes > 0)' +
  ' or 100 * rate(node_network_transmit_bytes_total[5m]) / (node_network_speed_bytes > 0)), "ifName", "$1", "device", "(.*)")';

/** Interface traffic in bits/s (in + out), for when no speeds are known. */
export const IFBPS =
  'sum by (instance, ifName) (8 * rate(ifHCInOctets[5m]) + 8 * rate(ifHCOutOctets[5m]))' +
  ' or label_replace(sum by (instance, device) (8 * rate(node_network_receive_bytes_total[5m]) + 8 * rate(node_network_transmit_bytes_total[5m])), "ifName", "$1", "device", "(.*)")';

function hostOf(instance: string): string {
  if (instance.includes('://')) {
    try { return new URL(instance).hostname; } catch { return instance; }
  }
  const m = /^\[([^\]]+)\](:\d+)?$/.exec(instance);
  if (m) return m[1];
  const i = instance.lastIndexOf(':');
  return i > 0 && instance.indexOf(':') === i ? instance.slice(0, i) : instance;
}

const safe = (p: Promise<Sample[]>) => p.catch(() => [] as Sample[]);

/** Every node; with instance, at least the node that has it (the inventory API
 * then answers with that one row, the PromQL fallback with all). */
export async function loadNodes(instance?: string): Promise<NodeRow[]> {
  const inv = await inventory(instance).catch(() => null);
  if (inv) {
    return inv.map((n: any) => ({
      node: String(n.node ?? n.address ?? ''), instance: String(n.instance ?? n.node ?? ''),
      address: String(n.address ?? ''), status: (['up', 'warning', 'down'].includes(n.status) ? n.status : 'unknown') as Status,
      vendor: String(n.vendor ?? ''), model: String(n.model ?? ''),
      uptime_seconds: typeof n.uptime_seconds === 'number' ? n.uptime_seconds : null,
      response_ms: typeof n.response_ms === 'number' ? n.response_ms : null,
      group: String(n.group ?? ''), cpu: n.cpu_percent ?? null, mem: n.memory_percent ?? null, loss: n.packet_loss_percent ?? null,
      since: typeof n.status_since === 'number' ? n.status_since : null,
      instances: Array.isArray(n.instances) && n.instances.length ? n.instances.map(String) : [String(n.instance ?? '')],
    }));
  }
  const [up, snmpUp, probe, vstat, uname, uptime, resp, cpu, mem, loss] = await Promise.all([
    safe(query('up')), safe(query('snmp_up')), safe(query('probe_success')), safe(query('vigil_node_status')),
    safe(query('node_uname_info')), safe(query(Q.uptime)), safe(query(Q.resp)),
    safe(query(Q.cpu)), safe(query(Q.mem)), safe(query(Q.loss)),
  ]);
  const rows = new Map<string, NodeRow>();
  const get = (inst: string): NodeRow => {
    let r = rows.get(inst);
    if (!r) {
      r = { node: inst, instance: inst, address: hostOf(inst), status: 'unknown', vendor: '', model: '',
        uptime_seconds: null, response_ms: null, group: '', cpu: null, mem: null, loss: null, since: null, instances: [inst] };
      rows.set(inst, r);
    }
    return r;
  };
  const setStatus = (r: NodeRow, ok: boolean) => {
    if (!ok) r.status = 'down';
    else if (r.status === 'unknown') r.status = 'up';
  };
  for (const s of up) {
    const r = get(s.metric.instance ?? '');
    setStatus(r, s.value[1] === '1');
    if (!r.group) r.group = s.metric.job ?? '';
  }
  // vigil's SNMP poller: snmp_up{instance=<device name>} per polled device
  for (const s of snmpUp) {
    const r = get(s.metric.instance ?? '');
    setStatus(r, s.value[1] === '1');
    if (!r.group) r.group = 'snmp';
  }
  for (const s of probe) {
    // a probe with `node` is that node's (vigil_node_status{node} below), not a row of its own
    const r = get(s.metric.node ?? s.metric.instance ?? '');
    setStatus(r, s.value[1] === '1');
    if (!r.group) r.group = s.metric.job ?? '';
  }
  // vigil_node_status{node}: 0 unknown, 1 up, 2 warning, 3 down (src/probe/status.h)
  for (const s of vstat) {
    const r = get(s.metric.node ?? s.metric.instance ?? '');
    const v = s.value[1];
    r.status = v === '3' ? 'down' : v === '2' ? 'warning' : v === '1' ? 'up' : 'unknown';
    if (s.metric.group) r.group = s.metric.group;
  }
  for (const s of uname) {
    // vigil's host collector has no `up` series: a current node_uname_info
    // (job="node", instance=<hostname>) is this host reporting, so it is up.
    if (!rows.has(s.metric.instance ?? '') && s.metric.job === 'node') setStatus(get(s.metric.instance ?? ''), true);
    const r = rows.get(s.metric.instance ?? '');
    if (!r) continue;
    if (s.metric.nodename) r.node = s.metric.nodename;
    r.vendor = s.metric.sysname ?? '';
    r.model = [s.metric.machine, s.metric.release].filter(Boolean).join(' ');
  }
  const fill = (rs: Sample[], f: (r: NodeRow, v: number) => void) => {
    for (const [inst, v] of byLabel(rs, 'instance')) { const r = rows.get(inst); if (r && isFinite(v)) f(r, v); }
  };
  fill(uptime, (r, v) => { r.uptime_seconds = v; });
  fill(resp, (r, v) => { r.response_ms = v * 1000; });
  fill(cpu, (r, v) => { r.cpu = v; });
  fill(mem, (r, v) => { r.mem = v; });
  fill(loss, (r, v) => { r.loss = v; });
  for (const r of rows.values())
    if (r.status === 'up' && ((r.cpu ?? 0) >= 90 || (r.mem ?? 0) >= 90 || (r.loss ?? 0) > 0)) r.status = 'warning';
  return [...rows.values()].sort((a, b) => a.node.localeCompare(b.node));
}

// ifkind.ts — one description for SNMP interfaces (snmp_exporter if_mib names)
// and host interfaces (node_exporter names), so pages need not care which.
import { pqStr } from './util';

export interface IfKind {
  key: string;		// label that identifies the interface on its node
  list: string;		// metric whose series enumerate interfaces (value = oper status)
  upValue: string;	// value of `list` meaning "up"
  inOctets: string; outOctets: string;
  speedBps: string;	// expression in bits/s; {S} is the selector
  inErr: string; outErr: string; inDisc: string; outDisc: string;
  statusQ: string;	// instant query (selector {S}) whose samples give each interface's status
  statusOf: (m: Record<string, string>, v: string) => 'up' | 'down' | 'unknown';
}

// IF-MIB ifOperStatus: 1 up, 2 down, 3 testing, 4 unknown, 5 dormant, 6 notPresent, 7 lowerLayerDown
const SNMP_STATUS: Record<string, 'up' | 'down' | 'unknown'> = { 1: 'up', 2: 'down', 6: 'down', 7: 'down' };

export const SNMP: IfKind = {
  key: 'ifName', list: 'ifOperStatus', upValue: '1',
  inOctets: 'ifHCInOctets', outOctets: 'ifHCOutOctets', speedBps: 'ifHighSpeed{S} * 1e6',
  inErr: 'ifInErrors', outErr: 'ifOutErrors', inDisc: 'ifInDiscards', outDisc: 'ifOutDiscards',
  statusQ: 'max by (ifName) (ifOperStatus{S})', statusOf: (_m, v) => SNMP_STATUS[v] ?? 'unknown',
};
export const HOST: IfKind = {
  key: 'device', list: 'node_network_up', upValue: '1',
  inOctets: 'node_network_receive_bytes_total', outOctets: 'node_network_transmit_bytes_total',
  speedBps: 'node_network_speed_bytes{S} * 8',
  inErr: 'node_network_receive_errs_total', outErr: 'node_network_transmit_errs_total',
  inDisc: 'node_network_receive_drop_total', outDisc: 'node_network_transmit_drop_total',
  // operstate "unknown" is normal for loopback and some virtual devices: not "down"
  statusQ: 'max by (device, operstate) (node_network_info{S})',
  statusOf: (m) => (m.operstate === 'up' ? 'up' : m.operstate === 'down' || m.operstate === 'lowerlayerdown' ? 'down' : 'unknown'),
};

/** Label selector for a node, optionally one interface. */
export function sel(instance: string, k?: IfKind, ifKey?: string): string {
  return `{instance=${pqStr(instance)}${k && ifKey !== undefined ? `, ${k.key}=${pqStr(ifKey)}` : ''}}`;
}

export function ifName(k: IfKind, m: Record<string, string>): string {
  return k === SNMP ? (m.ifName || m.ifDescr || m.ifIndex || '') : (m.device ?? '');
}

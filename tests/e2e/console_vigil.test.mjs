// console_vigil.test.mjs — the console's acceptance cases against `vigil serve`
// itself (run by tests/integration/console_vigil_e2e.sh, which starts the demo
// lab and the daemon and sets the env). One "PASS name" / "FAIL name: why" line
// per case; screenshots go to OUT_DIR.
import { chromium } from 'playwright-core';

const BASE = process.env.BASE_URL;
const PW = process.env.ADMIN_PW;
const OUT = process.env.OUT_DIR;
const SWITCH = process.env.SWITCH;	// one simulated switch's device name
const SWITCHES = (process.env.SWITCHES ?? '').split(' ').filter(Boolean);
const HOST = process.env.HOST_INSTANCE;	// this host's instance label
const TOKEN = process.env.VIEWER_TOKEN;	// from `vigil token create --role viewer`
const T = 20000;

let failed = 0;
async function step(name, fn) {
  try {
    await fn();
    console.log(`PASS ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${String(e && e.message ? e.message : e).split('\n')[0]}`);
  }
}
function check(cond, what) {
  if (!cond) throw new Error(what);
}

const ctx = await chromium.launchPersistentContext(process.env.PROFILE_DIR, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1280, height: 800 },
});
const page = ctx.pages()[0] ?? await ctx.newPage();
const errors = [];
page.on('pageerror', (e) => errors.push(String(e)));

async function loaded(section) {
  await page.waitForSelector(`[data-page="${section}"][data-loaded="1"]`, { timeout: T });
}
async function rows(sel) {
  return page.$eval(sel, (el) => parseInt(el.querySelector('table')?.dataset.rows ?? '0', 10));
}
async function points(title) {
  const el = page.locator(`.chart[data-title="${title}"]`);
  await el.waitFor({ timeout: T });
  return parseInt((await el.getAttribute('data-points')) ?? '0', 10);
}
const shot = (name, fullPage = true) => page.screenshot({ path: `${OUT}/${name}.png`, fullPage });

await step('vigil_unauthenticated_redirects_to_login', async () => {
  await page.goto(`${BASE}/`);
  check(new URL(page.url()).pathname === '/login', `landed on ${page.url()}`);
  const api = await page.request.get(`${BASE}/api/v1/query?query=up`);
  check(api.status() === 401, `/api/v1/query without a session: ${api.status()}`);
  await shot('login');
});

await step('vigil_wrong_password_is_refused', async () => {
  await page.fill('input[name=user]', 'admin');
  await page.fill('input[name=password]', 'not-the-password');
  const [r] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  check(r.status() === 401, `status ${r.status()}`);
  check(new URL(page.url()).pathname === '/login', `landed on ${page.url()}`);
  check(await page.isVisible('text=Wrong user name or password'), 'no error message shown');
  check(!(await ctx.cookies()).some((c) => c.name === 'vigil_session'), 'a session cookie was set');
});

await step('vigil_login_overview_real_numbers', async () => {
  await page.fill('input[name=user]', 'admin');
  await page.fill('input[name=password]', PW);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  await loaded('overview');
  const s = (await ctx.cookies()).find((c) => c.name === 'vigil_session');
  check(s && s.httpOnly, 'no HttpOnly session cookie');
  const n = async (c) => parseInt(await page.textContent(`[data-card="${c}"] .n`), 10);
  const up = await n('up'), warn = await n('warning');
  check(up + warn >= SWITCHES.length, `nodes up ${up} + warning ${warn} < ${SWITCHES.length} switches`);
  await page.waitForSelector('[data-panel="Top 10 interfaces"][data-loaded="1"]', { timeout: T });
  check(await rows('[data-panel="Top 10 interfaces"]') >= 1, 'top interfaces is empty');
  check(await rows('[data-panel="Top 10 by CPU"]') >= 1, 'top CPU is empty');
  const txt = await page.textContent('[data-page="overview"]');
  check(!/NaN|undefined/.test(txt), 'overview shows NaN/undefined');
  await shot('overview');
});

await step('vigil_nodes_lists_switches_and_host', async () => {
  await page.click('#nav a[data-r="nodes"]');
  await loaded('nodes');
  const all = await rows('[data-page="nodes"] .panel');
  check(all > 0, 'no nodes');
  const txt = await page.textContent('[data-page="nodes"] table');
  const missing = SWITCHES.filter((sw) => !txt.includes(sw));
  check(missing.length === 0, `switches not listed: ${missing.join(',')}`);
  check(txt.includes(HOST) || txt.includes('this-host'), `this host (${HOST}) not listed`);
  await shot('nodes');
});

await step('vigil_nodes_page_from_inventory_api', async () => {
  // the list is the inventory API's rows: one request, one row per box
  const [resp] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/api/inventory/nodes', { timeout: T }),
    page.goto(`${BASE}/#/nodes?status=all`),
  ]);
  check(resp.status() === 200, `/api/inventory/nodes: ${resp.status()}`);
  const data = (await resp.json()).data;
  await loaded('nodes');
  check(Array.isArray(data) && data.length === SWITCHES.length + 2, `inventory has ${data?.length} nodes, want ${SWITCHES.length} switches + this host + web-svc`);
  const svc = data.find((n) => n.node === 'web-svc');
  check(svc && svc.status === 'down' && svc.kind === 'probe', `web-svc (stopped TCP service): ${JSON.stringify(svc)}`);
  check(await rows('[data-page="nodes"] .panel') === data.length, `table rows ${await rows('[data-page="nodes"] .panel')} != API rows ${data.length}`);
  // the ICMP probe of 127.0.0.1 (node this-host) is this host, not a second row
  const host = data.filter((n) => n.instance === HOST);
  check(host.length === 1 && host[0].kind === 'host' && host[0].instances.includes('127.0.0.1'), `this host: ${JSON.stringify(host)}`);
  check(!data.some((n) => n.node === 'this-host' || n.instance === '127.0.0.1'), 'the loopback probe is a separate node');
  check(data.every((n) => typeof n.status_since === 'number'), 'a node without status_since');
  const cell = await page.textContent(`[data-page="nodes"] tbody tr:has(a[href="#/node/${encodeURIComponent(HOST)}"]) td:nth-child(2)`);
  check(/\d\d:\d\d:\d\d/.test(cell), `Since column for this host: "${cell}"`);
  await shot('nodes-inventory');
});

await step('vigil_overview_changes_from_events', async () => {
  const [resp] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/api/inventory/events', { timeout: T }),
    page.click('#nav a[data-r="overview"]'),
  ]);
  check(resp.status() === 200, `/api/inventory/events: ${resp.status()}`);
  const ev = (await resp.json()).data;
  await loaded('overview');
  const n = await rows('[data-panel="changes"]');
  check(n === Math.min(ev.length, 20), `changes panel ${n} rows, events API ${ev.length}`);
  check(ev.some((e) => e.node === 'web-svc' && e.from === 'warning' && e.to === 'down'), `no web-svc warning -> down event: ${JSON.stringify(ev.slice(0, 3))}`);
  const txt = await page.textContent('[data-panel="changes"]');
  check(txt.includes('web-svc') && txt.includes('down'), `changes panel: ${txt.slice(0, 200)}`);
  await page.locator('[data-panel="changes"]').scrollIntoViewIfNeeded();
  await shot('overview-changes');
});

await step('vigil_switch_node_page', async () => {
  await page.goto(`${BASE}/#/node/${encodeURIComponent(SWITCH)}?range=15m`);
  await loaded('node');
  const n = await rows('[data-panel="interfaces"]');
  check(n >= 48, `only ${n} interface rows (want 48)`);
  check(await points('Interface traffic') > 0, 'no traffic points');
  check(await points('Availability (%)') > 0, 'no availability points (snmp_up)');
  await shot('node-switch');
});

await step('vigil_interface_page', async () => {
  const link = page.locator('[data-panel="interfaces"] tbody a').first();
  const name = (await link.textContent()).trim();
  await link.click();
  // The node page's view is loaded too until the route changes: wait for the
  // interface page's own view to finish loading, not just for its heading.
  await page.waitForSelector(`[data-page="node"][data-loaded="1"] h1:has-text("${name}")`, { timeout: T });
  check(await points('Traffic (bits/s)') > 0, 'interface traffic chart empty');
  check((await page.textContent('[data-ifinfo]')).includes('ifIndex'), 'interface facts missing');
  await shot('interface');
});

await step('vigil_host_node_page', async () => {
  await page.goto(`${BASE}/#/node/${encodeURIComponent(HOST)}?range=15m`);
  await loaded('node');
  check(await points('CPU busy (%)') > 0, 'CPU chart empty');
  await shot('node-host');
});

await step('vigil_explore_ifHCInOctets', async () => {
  await page.click('#nav a[data-r="explore"]');
  await loaded('explore');
  await page.fill('textarea', 'ifHCInOctets');
  await page.click('text=Execute');
  await page.waitForFunction(() => location.hash.includes('q='), null, { timeout: T });
  await loaded('explore');
  const n = await rows('[data-panel="table"]');
  check(n >= 48 * SWITCHES.length, `explore table has ${n} rows, want ${48 * SWITCHES.length}`);
  check(await points('Graph') > 0, 'explore chart empty');
  await shot('explore', false);
});

// The alerts page: a firing alert from the lab's dark switch ports, acknowledged
// and silenced through the buttons an operator (here: admin) sees.
const alertRow = (fp) => page.locator(`[data-panel="alerts"] tbody tr:has([data-fp="${fp}"])`);
let ackedFp = '';
await step('vigil_alerts_page_lists_firing_alert', async () => {
  await page.click('#nav a[data-r="alerts"]');
  await loaded('alerts');
  let firing = [];
  for (let i = 0; i < 40 && !firing.length; i++) {
    const r = await page.request.get(`${BASE}/api/alerting/alerts`);
    firing = (await r.json()).filter((a) => a.labels.alertname === 'E2EInterfaceDown' && a.state === 'firing');
    if (!firing.length) await page.waitForTimeout(500);
  }
  check(firing.length > 0, 'no E2EInterfaceDown alert firing after 20 s');
  await page.goto(`${BASE}/#/alerts`);
  await loaded('alerts');
  ackedFp = firing[0].fingerprint;
  const row = alertRow(ackedFp);
  await row.waitFor({ timeout: T });
  const txt = await row.textContent();
  check(txt.includes('firing'), `row does not say firing: ${txt}`);
  check(txt.includes(`instance=${firing[0].labels.instance}`), `row does not show the instance label: ${txt}`);
  check(txt.includes('warning') && txt.includes('Not acknowledged'), `severity/ack status missing: ${txt}`);
  check(/ago\)/.test(txt), `no "active since": ${txt}`);
});

await step('vigil_alerts_acknowledge_button', async () => {
  await page.fill('input[aria-label="comment"]', 'e2e: looking at it');
  await alertRow(ackedFp).locator('[data-action="ack"]').click();
  await page.waitForSelector(`[data-panel="alerts"] tbody tr:has([data-fp="${ackedFp}"]) .badge.ack`, { timeout: T });
  const txt = await alertRow(ackedFp).textContent();
  check(txt.includes('Acknowledged by admin'), `row after acknowledge: ${txt}`);
  const a = (await (await page.request.get(`${BASE}/api/alerting/alerts`)).json()).find((x) => x.fingerprint === ackedFp);
  check(a && a.acknowledged && a.acknowledged.comment === 'e2e: looking at it', `API: ${JSON.stringify(a && a.acknowledged)}`);
  await shot('alerts');
  await page.click('#theme');
  await loaded('alerts');
  await alertRow(ackedFp).waitFor({ timeout: T });
  await shot('alerts-dark');
  await page.click('#theme');
  await loaded('alerts');
});

await step('vigil_alerts_silence_and_expire', async () => {
  const before = await rows('[data-panel="silences"]');
  const row = alertRow(ackedFp);
  await row.locator('select[aria-label="silence for"]').selectOption({ label: '4 hours' });
  await row.locator('[data-action="silence"]').click();
  await page.waitForSelector(`[data-panel="alerts"] tbody tr:has([data-fp="${ackedFp}"]) .badge.silenced`, { timeout: T });
  const sil = await page.textContent('[data-panel="silences"] tbody');
  check(sil.includes('active') && sil.includes('alertname="E2EInterfaceDown"'), `silences panel: ${sil.slice(0, 200)}`);
  check(await rows('[data-panel="silences"]') === before + 1, 'silence not listed');
  await shot('alerts-silenced');
  await page.locator('[data-panel="silences"] [data-action="expire"]').first().click();
  await page.waitForFunction((fp) => !document.querySelector(`[data-panel="alerts"] tr:has([data-fp="${fp}"]) .badge.silenced`), ackedFp, { timeout: T });
  check(await rows('[data-panel="silences"]') === before, 'expired silence still listed as current');
});

await step('vigil_alerts_maintenance_window_for_node', async () => {
  const a = (await (await page.request.get(`${BASE}/api/alerting/alerts`)).json()).find((x) => x.fingerprint === ackedFp);
  const node = a.labels.instance;
  await page.fill('input[aria-label="maintenance node"]', node);
  await page.locator('[data-panel="maintenance"] button', { hasText: 'Add window' }).click();
  await page.waitForSelector(`[data-panel="alerts"] tbody tr:has([data-fp="${ackedFp}"]) .badge.maint`, { timeout: T });
  const txt = await page.textContent('[data-panel="maintenance"] tbody');
  check(txt.includes(`node ${node}`) && txt.includes('active'), `maintenance panel: ${txt.slice(0, 200)}`);
  await shot('alerts-maintenance');
  await page.locator('[data-panel="maintenance"] [data-action="delete-window"]').first().click();
  await page.waitForFunction(() => document.querySelector('[data-panel="maintenance"] table')?.dataset.rows === '0', null, { timeout: T });
});

await step('vigil_write_without_csrf_is_refused', async () => {
  const hdr = { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy', 'X-Prometheus-Remote-Write-Version': '0.1.0' };
  const r = await page.request.post(`${BASE}/api/v1/write`, { data: Buffer.from('x'), headers: hdr });
  check(r.status() === 403, `POST /api/v1/write with a session cookie, no CSRF token: ${r.status()}`);
  check(/CSRF/.test(await r.text()), `403 body does not name the CSRF token: ${(await r.text()).slice(0, 100)}`);
  // the same request with the session's token gets past the CSRF check
  // (and is then judged on its body, which is garbage)
  const who = await (await page.request.get(`${BASE}/api/auth/whoami`)).json();
  check(who.csrf_token, 'whoami has no csrf_token');
  const r2 = await page.request.post(`${BASE}/api/v1/write`, { data: Buffer.from('x'), headers: { ...hdr, 'X-CSRF-Token': who.csrf_token } });
  check(r2.status() !== 403 && r2.status() !== 401, `with the CSRF token: ${r2.status()} ${(await r2.text()).slice(0, 100)}`);
});

await step('vigil_viewer_token_query', async () => {
  const r = await fetch(`${BASE}/api/v1/query?query=count(snmp_up)`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  check(r.status === 200, `bearer query: ${r.status}`);
  const j = await r.json();
  check(j.status === 'success' && j.data.result.length === 1 && j.data.result[0].value[1] === String(SWITCHES.length),
    `count(snmp_up): ${JSON.stringify(j.data?.result)}`);
  const r2 = await fetch(`${BASE}/api/v1/query?query=up`, { headers: { Authorization: 'Bearer vgt_wrong' } });
  check(r2.status === 401, `bad token: ${r2.status}`);
});

await step('vigil_alerts_page_viewer_has_no_buttons', async () => {
  check(process.env.VIEWER_USER && process.env.VIEWER_PW, 'no viewer account from the harness');
  await page.goto(`${BASE}/#/alerts`);
  await loaded('alerts');
  await Promise.all([page.waitForURL(/\/login/, { timeout: T }), page.click('#logout')]);
  await page.fill('input[name=user]', process.env.VIEWER_USER);
  await page.fill('input[name=password]', process.env.VIEWER_PW);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  await page.goto(`${BASE}/#/alerts`);
  await loaded('alerts');
  await alertRow(ackedFp).waitFor({ timeout: T });
  check((await alertRow(ackedFp).textContent()).includes('Acknowledged by admin'), 'viewer does not see the acknowledgement');
  check(await page.locator('[data-action]').count() === 0, 'viewer sees action buttons');
  check(await page.isVisible('text=Acknowledging and silencing need the operator role'), 'no role hint for the viewer');
  const r = await page.request.post(`${BASE}/api/alerting/ack`, { data: { fingerprint: ackedFp },
    headers: { 'X-CSRF-Token': (await (await page.request.get(`${BASE}/api/auth/whoami`)).json()).csrf_token } });
  check(r.status() === 403, `viewer POST /api/alerting/ack with its CSRF token: ${r.status()}`);
  await shot('alerts-viewer');
});

await step('vigil_invalid_session_redirects_to_login', async () => {
  const u = new URL(BASE);
  await ctx.addCookies([{ name: 'vigil_session', value: 'expired-or-forged-session-id', domain: u.hostname, path: '/', httpOnly: true, sameSite: 'Strict' }]);
  // The shell loads, its first API call gets a 401 and the app then moves
  // to /login: two navigations, and waitForURL may see the first aborted.
  // Poll the URL instead, up to the usual timeout.
  await page.goto(`${BASE}/#/nodes`).catch(() => undefined);
  for (let t0 = Date.now(); new URL(page.url()).pathname !== '/login' && Date.now() - t0 < T;)
    await page.waitForTimeout(100);
  check(new URL(page.url()).pathname === '/login', `landed on ${page.url()}`);
  const api = await page.request.get(`${BASE}/api/auth/whoami`);
  check(api.status() === 401, `whoami with a forged cookie: ${api.status()}`);
  await shot('session-expired');
});

await step('vigil_no_page_errors', async () => {
  check(errors.length === 0, errors.slice(0, 3).join(' | '));
});

await ctx.close();
process.exit(failed ? 1 : 0);

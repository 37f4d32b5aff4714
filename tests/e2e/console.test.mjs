// console.test.mjs — browser cases for the vigil console (run by
// tests/integration/console_e2e.sh, which starts the servers and sets the env).
// Each case prints "PASS name" or "FAIL name: why"; screenshots go to OUT_DIR.
import { chromium, request } from 'playwright-core';

const BASE = process.env.BASE_URL;
const PW = process.env.ADMIN_PW;
const OUT = process.env.OUT_DIR;
const SNMP = process.env.SNMP_INSTANCE;
const NODE = process.env.NODE_INSTANCE;
const DOWN = process.env.DOWN_INSTANCE;
const T = 15000;	// ms to wait for one page to load its data

let failed = 0;
const errors = [];

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
page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
page.on('pageerror', (e) => errors.push(String(e)));
// Failed loads are judged by URL below; the browser's own console line has none.
const badResponses = [];
page.on('response', (r) => {
  const u = new URL(r.url());
  // 404 from /api/inventory/* (this harness serves a real Prometheus, which has
  // none): the console falls back to PromQL by design.
  if (r.status() >= 400 && !(r.status() === 404 && u.pathname.startsWith('/api/inventory/')) && !expectRefusal)
    badResponses.push(`${r.status()} ${u.pathname}`);
});
let expectRefusal = false;

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
const shot = (name) => page.screenshot({ path: `${OUT}/${name}.png`, fullPage: true });

await step('unauthenticated_redirects_to_login', async () => {
  const r = await page.goto(`${BASE}/`);
  check(new URL(page.url()).pathname === '/login', `landed on ${page.url()}`);
  check(r.status() === 200, `login page status ${r.status()}`);
  const api = await page.request.get(`${BASE}/api/v1/query?query=up`);
  check(api.status() === 401, `/api/v1/query without a session: ${api.status()}`);
  await shot('login');
});

await step('wrong_password_is_refused', async () => {
  await page.fill('input[name=user]', 'admin');
  await page.fill('input[name=password]', 'not-the-password');
  expectRefusal = true;
  const [r] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  expectRefusal = false;
  check(r.status() === 401, `status ${r.status()}`);
  check(await page.isVisible('text=Wrong user name or password'), 'no error message shown');
});

await step('login_shows_overview', async () => {
  await page.fill('input[name=user]', 'admin');
  await page.fill('input[name=password]', PW);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  await loaded('overview');
  const cookies = await ctx.cookies();
  const s = cookies.find((c) => c.name === 'vigil_session');
  check(s && s.httpOnly && s.sameSite === 'Strict', 'session cookie missing or not HttpOnly/Strict');
  const n = async (c) => parseInt(await page.textContent(`[data-card="${c}"] .n`), 10);
  // the host's own node may be "warning" when this machine is busy
  check(await n('up') + await n('warning') >= 3, `nodes up or warning: ${await n('up')} + ${await n('warning')}`);
  check(await n('down') >= 2, `nodes down: ${await n('down')} (want the killed exporter and the dead port)`);
  check(await n('alerts') >= 1, 'no firing alerts');
  check(await rows('[data-panel="alerts"]') >= 2, 'alerts table is empty');
  check(await rows('[data-panel="Top 10 by CPU"]') >= 1, 'top CPU is empty');
  check(await rows('[data-panel="Top 10 by memory"]') >= 1, 'top memory is empty');
  await page.waitForSelector('[data-panel="Top 10 interfaces"][data-loaded="1"]', { timeout: T });
  check(await rows('[data-panel="Top 10 interfaces"]') >= 1, 'top interfaces is empty');
  check(await rows('[data-panel="Top 10 by response time"]') >= 3, 'top response time is short');
  check(await rows('[data-panel="changes"]') >= 1, 'no status change although a node went down');
  await shot('overview-light');
});

await step('nodes_search_filter_sort', async () => {
  await page.click('#nav a[data-r="nodes"]');
  await loaded('nodes');
  const all = await rows('[data-page="nodes"] .panel');
  check(all >= 5, `only ${all} nodes`);
  await shot('nodes');
  await page.selectOption('select[aria-label=status]', 'down');
  const down = await rows('[data-page="nodes"] .panel');
  check(down >= 2 && down < all, `status filter down: ${down} of ${all}`);
  const txt = await page.textContent('[data-page="nodes"] table');
  check(txt.includes(DOWN), `${DOWN} not listed as down`);
  await page.selectOption('select[aria-label=status]', 'all');
  await page.fill('input[type=search]', SNMP);
  check(await rows('[data-page="nodes"] .panel') === 1, 'search did not narrow to the SNMP node');
  await page.fill('input[type=search]', '');
  await page.click('th:has-text("Response")');
  const first = await page.$$eval('[data-page="nodes"] tbody tr td:nth-child(9)', (tds) => tds.map((t) => t.textContent));
  check(first.length === all, 'sorting lost rows');
});

await step('node_detail_host', async () => {
  await page.goto(`${BASE}/#/node/${encodeURIComponent(NODE)}?range=1h`);
  await loaded('node');
  for (const t of ['Availability (%)', 'Response time', 'CPU busy (%)', 'Memory', 'Interface traffic'])
    check(await points(t) > 0, `chart "${t}" has no points`);
  check(await rows('[data-panel="filesystems"]') >= 1, 'no disks');
  check(await rows('[data-panel="interfaces"]') >= 1, 'no interfaces');
  await shot('node-host');
});

await step('node_detail_snmp_and_interface', async () => {
  await page.goto(`${BASE}/#/node/${encodeURIComponent(SNMP)}?range=1h`);
  await loaded('node');
  check(await rows('[data-panel="interfaces"]') >= 1, 'no SNMP interfaces');
  check(await points('Interface traffic') > 0, 'no SNMP traffic points');
  check(await page.isVisible('text=(SNMP)'), 'interfaces not recognised as SNMP');
  await shot('node-snmp');
  const link = page.locator('[data-panel="interfaces"] tbody a').first();
  const name = await link.textContent();
  await link.click();
  // The node page's view is loaded too until the route changes: wait for the
  // interface page's own view to finish loading, not just for its heading.
  await page.waitForSelector(`[data-page="node"][data-loaded="1"] h1:has-text("${name}")`, { timeout: T });
  check(await points('Traffic (bits/s)') > 0, 'interface traffic chart empty');
  check(await points('Status (1 = up)') > 0, 'interface status chart empty');
  check(await points('Errors (/s)') > 0, 'interface errors chart empty');
  check((await page.textContent('[data-ifinfo]')).includes('ifIndex'), 'interface facts missing');
  await shot('interface');
});

await step('time_range_picker', async () => {
  await page.goto(`${BASE}/#/node/${encodeURIComponent(NODE)}?range=1h`);
  await loaded('node');
  await page.selectOption('select[aria-label="time range"]', '24h');
  await page.waitForFunction(() => location.hash.includes('range=24h'), null, { timeout: T });
  await loaded('node');
  check(await points('CPU busy (%)') > 0, 'no CPU points over 24h');
  check((await page.textContent('[data-availability]')).includes('%'), 'availability not shown');
});

await step('live_refresh', async () => {
  let n = 0;
  const count = (r) => { if (r.url().includes('/api/v1/query_range')) n++; };
  await page.goto(`${BASE}/#/node/${encodeURIComponent(NODE)}?range=15m`);
  await loaded('node');
  await page.selectOption('select[aria-label=refresh]', '10');
  await page.waitForFunction(() => location.hash.includes('refresh=10'), null, { timeout: T });
  await loaded('node');
  page.on('response', count);
  await page.waitForTimeout(11500);
  page.off('response', count);
  check(n >= 6, `only ${n} range queries in 11.5 s with a 10 s refresh`);
  check(await points('CPU busy (%)') > 0, 'CPU chart empty after refresh');
});

await step('explore_autocomplete_and_query', async () => {
  await page.click('#nav a[data-r="explore"]');
  await loaded('explore');
  await page.click('textarea');
  await page.keyboard.type('node_cpu_sec');
  await page.waitForSelector('.ac li:has-text("node_cpu_seconds_total")', { timeout: T });
  await page.keyboard.press('Tab');
  check((await page.inputValue('textarea')) === 'node_cpu_seconds_total', `autocomplete gave "${await page.inputValue('textarea')}"`);
  await page.fill('textarea', 'sum by (mode) (rate(node_cpu_seconds_total{instance="' + NODE + '"}[1m]))');
  await page.keyboard.press('End');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => location.hash.includes('q='), null, { timeout: T });
  await loaded('explore');
  check(await points('Graph') > 0, 'explore chart empty');
  check(await rows('[data-panel="table"]') >= 2, 'explore table has fewer than 2 modes');
  await shot('explore');
  await page.fill('textarea', 'sum(');
  expectRefusal = true;	// Prometheus answers a parse error with 400
  await page.click('text=Execute');
  await page.waitForSelector('.explore .err', { timeout: T });
  expectRefusal = false;
});

await step('dark_theme', async () => {
  await page.goto(`${BASE}/#/`);
  await loaded('overview');
  await page.click('#theme');
  await loaded('overview');
  check(await page.evaluate(() => document.documentElement.dataset.theme) === 'dark', 'theme did not switch');
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  check(bg === 'rgb(17, 20, 24)', `dark background is ${bg}`);
  await shot('overview-dark');
  await page.goto(`${BASE}/#/node/${encodeURIComponent(NODE)}?range=1h`);
  await loaded('node');
  await shot('node-host-dark');
  await page.click('#theme');
});

await step('api_token_for_scripts', async () => {
  await page.click('#nav a[data-r="settings"]');
  await loaded('settings');
  await page.fill('input[aria-label="token name"]', 'grafana');
  await page.click('text=Create token');
  const tok = (await page.textContent('[data-token]', { timeout: T })).trim();
  check(tok.startsWith('vgt_'), `token "${tok}"`);
  await page.waitForSelector('td:has-text("grafana")', { timeout: T });
  await shot('settings');
  const r = await fetch(`${BASE}/api/v1/query?query=up`, { headers: { Authorization: `Bearer ${tok}` } });
  check(r.status === 200, `bearer query: ${r.status}`);
  const j = await r.json();
  check(j.status === 'success' && j.data.result.length >= 5, 'bearer query returned no series');
  const r2 = await fetch(`${BASE}/api/v1/query?query=up`, { headers: { Authorization: 'Bearer vgt_wrong' } });
  check(r2.status === 401, `bad token: ${r2.status}`);
  const r3 = await fetch(`${BASE}/api/auth/tokens`, { headers: { Authorization: `Bearer ${tok}` } });
  check(r3.status === 403, `viewer token listing tokens: ${r3.status}`);
});

await step('users_and_roles', async () => {
  await page.click('#nav a[data-r="settings"]');
  await loaded('settings');
  await page.fill('input[aria-label="user name"]', 'vera');
  await page.fill('input[aria-label="user password"]', 'vera-viewer-pw');
  await page.selectOption('select[aria-label="user role"]', 'viewer');
  await page.click('text=Add user');
  await page.waitForSelector('[data-panel="users"] td:has-text("vera")', { timeout: T });
  // sign in as vera with a separate cookie jar, through the real form
  const api = await request.newContext({ baseURL: BASE });
  const form = await (await api.get('/login')).text();
  const tok = /name="login_token" value="([^"]+)"/.exec(form)?.[1];
  check(tok, 'no login token in the form');
  const r = await api.post('/login', { form: { user: 'vera', password: 'vera-viewer-pw', login_token: tok, next: '/' }, maxRedirects: 0 });
  check(r.status() === 303, `viewer login: ${r.status()}`);
  const who = await (await api.get('/api/auth/whoami')).json();
  check(who.user === 'vera' && who.role === 'viewer', `whoami: ${JSON.stringify(who)}`);
  check((await api.get('/api/v1/query?query=up')).status() === 200, 'viewer cannot query');
  check((await api.get('/api/auth/users')).status() === 403, 'viewer can list users');
  const noCsrf = await api.post('/api/auth/password', { form: { old: 'vera-viewer-pw', new: 'another-password' } });
  check(noCsrf.status() === 403, `password change without CSRF: ${noCsrf.status()}`);
  await api.dispose();
  await page.click('[data-panel="users"] tr:has-text("vera") button:has-text("Delete")');
  await page.waitForSelector('[data-panel="users"] td:has-text("vera")', { state: 'detached', timeout: T });
});

await step('overview_cards_link_to_filtered_nodes', async () => {
  await page.goto(`${BASE}/#/`);
  await loaded('overview');
  await page.click('[data-card="down"]');
  await loaded('nodes');
  check((await page.inputValue('select[aria-label=status]')) === 'down', 'status filter not applied');
  const n = await rows('[data-page="nodes"] .panel');
  check(n >= 2, `down nodes listed: ${n}`);
});

await step('logout_ends_session', async () => {
  await page.goto(`${BASE}/#/`);
  await loaded('overview');
  await Promise.all([page.waitForURL(/\/login/, { timeout: T }), page.click('#logout')]);
  const api = await page.request.get(`${BASE}/api/auth/whoami`);
  check(api.status() === 401, `whoami after logout: ${api.status()}`);
  await page.goto(`${BASE}/`);
  check(new URL(page.url()).pathname === '/login', 'the app shell still loads after logout');
});

await step('no_browser_errors', async () => {
  // 401s on purpose above show up as failed resource loads; anything else is a bug
  const real = errors.filter((e) => !/^Failed to load resource/.test(e));
  check(real.length === 0, real.slice(0, 3).join(' | '));
  check(badResponses.length === 0, badResponses.slice(0, 5).join(' | '));
});

await ctx.close();
process.exit(failed ? 1 : 0);

// measure.mjs — time to first render of console pages in headless chromium
// (playwright-core from tests/e2e/node_modules). For each page: a fresh
// document load (page.goto of the URL after about:blank), then the time from
// the navigation's start (Performance API: performance.now() is relative to
// it) until the page says it is loaded (data-loaded="1") and its table has
// rows / its charts have points. RUNS loads per page after one warm-up;
// prints median and max per page, and the requests one load made.
// Env: BASE_URL, ADMIN_PW, PROFILE_DIR, NODE_INSTANCE, RUNS (default 5).
import { chromium } from '../../tests/e2e/node_modules/playwright-core/index.mjs';

const BASE = process.env.BASE_URL;
const RUNS = parseInt(process.env.RUNS ?? '5', 10);
const NODE = process.env.NODE_INSTANCE;
const T = 60000;

const ctx = await chromium.launchPersistentContext(process.env.PROFILE_DIR, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1280, height: 800 },
});
const page = ctx.pages()[0] ?? await ctx.newPage();
await page.goto(`${BASE}/login`);
await page.fill('input[name=user]', 'admin');
await page.fill('input[name=password]', process.env.ADMIN_PW);
await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);

let requests = [];
page.on('request', (r) => { if (new URL(r.url()).pathname.startsWith('/api/')) requests.push(new URL(r.url()).pathname); });

const pages = [
  { name: 'overview', url: '/#/', ready: '[data-page="overview"][data-loaded="1"] [data-panel="Top 10 by response time"] table[data-rows]:not([data-rows="0"])' },
  { name: 'overview+interfaces', url: '/#/', ready: '[data-page="overview"] [data-panel="Top 10 interfaces"][data-loaded="1"] table[data-rows]:not([data-rows="0"])', uncached: true },
  { name: 'nodes', url: '/#/nodes', ready: '[data-page="nodes"][data-loaded="1"] table[data-rows]:not([data-rows="0"])' },
  { name: 'node', url: `/#/node/${encodeURIComponent(NODE)}?range=1h`,
    ready: '[data-page="node"][data-loaded="1"] [data-panel="interfaces"] table[data-rows]:not([data-rows="0"])',
    also: '.chart[data-title="Availability (%)"]:not([data-points="0"])' },
];

const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
for (const p of pages) {
  const times = [];
  let nreq = 0, rows = 0, first = 0, stale = null;
  // the last load of an `uncached` page comes after the inventory's 15 s cache of the top interfaces expired
  for (let i = 0; i <= RUNS + (p.uncached ? 1 : 0); i++) {
    if (i === RUNS + 1) await new Promise((r) => setTimeout(r, 16000));
    await page.goto('about:blank');
    requests = [];
    await page.goto(BASE + p.url);
    await page.waitForSelector(p.ready, { timeout: T });
    if (p.also) await page.waitForSelector(p.also, { timeout: T });
    const t = await page.evaluate(() => performance.now());
    rows = await page.$eval(p.ready, (el) => parseInt(el.dataset.rows ?? el.querySelector('table')?.dataset.rows ?? '0', 10));
    nreq = requests.length;
    if (i === 0) first = t;	// the first load is the warm-up (cold caches)
    else if (i > RUNS) stale = t;
    else times.push(t);
  }
  console.log(`${p.name.padEnd(9)} first render: median ${med(times).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms ` +
    `(${RUNS} loads; ${rows} table rows; ${nreq} API requests); first load ${first.toFixed(0)} ms` +
    (stale !== null ? `; after the cache expired ${stale.toFixed(0)} ms` : ''));
  if (process.env.SHOT_DIR) await page.screenshot({ path: `${process.env.SHOT_DIR}/${p.name}.png` });
}
await ctx.close();

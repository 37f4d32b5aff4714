// main.ts — the console shell: hash routing, theme, live refresh.
//   #/                      overview
//   #/nodes?q=&status=&group=
//   #/node/INSTANCE?range=6h&refresh=30
//   #/node/INSTANCE/if/NAME?range=
//   #/explore?q=PROMQL&range=
//   #/alerts
//   #/settings
import { alertsPage } from './alerts';
import { send, whoami, type Who } from './api';
import { disposeCharts } from './chart';
import { explorePage } from './explore';
import { ifacePage } from './iface';
import { nodePage } from './node';
import { nodesPage } from './nodelist';
import { overviewPage } from './overview';
import { settingsPage } from './settings';
import { h, mount } from './util';

const app = document.getElementById('app')!;
let who: Who | null = null;
let timer = 0;
let seq = 0;

function applyTheme(t: string): void {
  document.documentElement.dataset.theme = t;
  try { localStorage.setItem('vigil-theme', t); } catch { /* private mode */ }
}

async function route(): Promise<void> {
  const my = ++seq;
  window.clearInterval(timer);
  disposeCharts();
  const raw = location.hash.replace(/^#/, '') || '/';
  const qi = raw.indexOf('?');
  const path = qi >= 0 ? raw.slice(0, qi) : raw;
  const params = new URLSearchParams(qi >= 0 ? raw.slice(qi + 1) : '');
  const parts = path.split('/').filter(Boolean).map((p) => decodeURIComponent(p));
  const section = parts[0] ?? 'overview';
  for (const a of document.querySelectorAll<HTMLAnchorElement>('#nav a'))
    a.classList.toggle('on', a.dataset.r === (section === 'node' ? 'nodes' : section));
  const view = h('div', { 'data-page': section });
  mount(app, view);
  window.scrollTo(0, 0);
  try {
    let load: (() => Promise<void>) | undefined;
    if (section === 'overview') load = await overviewPage(view);
    else if (section === 'nodes') load = await nodesPage(view, params);
    else if (section === 'node' && parts[1] && parts[2] === 'if' && parts[3] !== undefined) load = await ifacePage(view, parts[1], parts[3], params);
    else if (section === 'node' && parts[1]) load = await nodePage(view, parts[1], params);
    else if (section === 'explore') load = await explorePage(view, params);
    else if (section === 'alerts') load = await alertsPage(view, who);
    else if (section === 'settings') load = await settingsPage(view, who);
    else mount(view, h('h1', null, 'Not found'), h('p', null, h('a', { href: '#/' }, 'Back to the overview')));
    if (my !== seq) return;
    view.dataset.loaded = '1';
    const every = parseInt(params.get('refresh') ?? '0', 10);
    if (load && every > 0)
      timer = window.setInterval(() => { load!().catch(() => undefined); }, every * 1000);
  } catch (e) {
    if (my === seq) mount(view, h('p', { class: 'err' }, `Could not load: ${(e as Error).message}`));
  }
}

async function start(): Promise<void> {
  let t = 'light';
  try { t = localStorage.getItem('vigil-theme') ?? (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'); } catch { /* default */ }
  applyTheme(t);
  document.getElementById('theme')!.addEventListener('click', () => {
    applyTheme(document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark');
    route();
  });
  document.getElementById('logout')!.addEventListener('click', async () => {
    await send('POST', '/logout').catch(() => undefined);
    location.assign('/login');
  });
  who = await whoami().catch(() => null);
  if (who) document.getElementById('who')!.textContent = `${who.user} (${who.role})`;
  window.addEventListener('hashchange', route);
  await route();
}

start();

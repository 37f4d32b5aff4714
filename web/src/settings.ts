// settings.ts — who is signed in, and API tokens (admin) for Grafana, promtool, scripts.
import { send, type Who } from './api';
import { sortTable } from './table';
import { h, mount, when } from './util';

interface Token { id: number; name: string; role: string; created: number; last_used: number | null; created_by: string }

export async function settingsPage(root: HTMLElement, who: Who | null): Promise<() => Promise<void>> {
  const tokens = h('div');
  const msg = h('div');
  const name = h('input', { placeholder: 'token name, e.g. grafana', 'aria-label': 'token name' });
  const role = h('select', { 'aria-label': 'token role' }, ['viewer', 'operator', 'admin'].map((r) => h('option', { value: r }, r)));
  const create = h('button', { class: 'primary', type: 'button' }, 'Create token');
  const isAdmin = who?.role === 'admin';
  mount(root, h('h1', null, 'Settings'),
    h('section', { class: 'panel', style: 'margin-bottom:12px' }, h('h2', null, 'Account'),
      h('dl', { class: 'kv' }, h('dt', null, 'User'), h('dd', null, who?.user ?? '–'), h('dt', null, 'Role'), h('dd', null, who?.role ?? '–'))),
    isAdmin ? h('section', { class: 'panel' }, h('h2', null, 'API tokens'),
      h('p', { class: 'muted' }, 'Send as "Authorization: Bearer <token>". A token is shown once, when it is made.'),
      h('div', { class: 'toolbar' }, name, role, create), msg, tokens)
      : h('p', { class: 'muted' }, 'API tokens are managed by administrators.'));
  const load = async () => {
    if (!isAdmin) return;
    const list = ((await send('GET', '/api/auth/tokens')) ?? []) as Token[];
    mount(tokens, sortTable<Token>([
      { title: 'Name', cell: (t) => t.name, key: (t) => t.name },
      { title: 'Role', cell: (t) => t.role, key: (t) => t.role },
      { title: 'Created', cell: (t) => when(t.created), key: (t) => t.created },
      { title: 'By', cell: (t) => t.created_by },
      { title: 'Last used', cell: (t) => (t.last_used ? when(t.last_used) : 'never'), key: (t) => t.last_used },
      { title: '', cell: (t) => h('button', { type: 'button', onclick: async () => { await send('DELETE', `/api/auth/tokens/${t.id}`); await load(); } }, 'Revoke') },
    ], list, 0, false, 'No tokens'));
  };
  create.addEventListener('click', async () => {
    try {
      const r = await send('POST', '/api/auth/tokens', { name: name.value.trim(), role: role.value });
      mount(msg, h('p', null, 'New token (copy it now, it is not shown again): ', h('code', { 'data-token': '' }, r.token)));
      name.value = '';
      await load();
    } catch (e) {
      mount(msg, h('p', { class: 'err' }, String((e as Error).message)));
    }
  });
  await load();
  return load;
}

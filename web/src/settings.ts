// settings.ts — who is signed in, and API tokens (admin) for Grafana, promtool, scripts.
import { send, type Who } from './api';
import { sortTable } from './table';
import { h, mount, when } from './util';

interface Token { id: number; name: string; role: string; created: number; last_used: number | null; created_by: string }
interface User { name: string; role: string; created: number }

function roleSelect(label: string): HTMLSelectElement {
  return h('select', { 'aria-label': label }, ['viewer', 'operator', 'admin'].map((r) => h('option', { value: r }, r)));
}

/** Change one's own password; the server then ends every session of the user. */
function passwordPanel(): HTMLElement {
  const old = h('input', { type: 'password', placeholder: 'current password', 'aria-label': 'current password', autocomplete: 'current-password' });
  const nw = h('input', { type: 'password', placeholder: 'new password (8+ characters)', 'aria-label': 'new password', autocomplete: 'new-password' });
  const msg = h('span');
  const go = h('button', { type: 'button' }, 'Change password');
  go.addEventListener('click', async () => {
    try {
      await send('POST', '/api/auth/password', { old: old.value, new: nw.value });
      location.assign('/login');
    } catch (e) {
      mount(msg, h('span', { class: 'err' }, String((e as Error).message)));
    }
  });
  return h('div', { class: 'toolbar', style: 'margin-top:12px' }, old, nw, go, msg);
}

function usersPanel(me: string): { panel: HTMLElement; load: () => Promise<void> } {
  const list = h('div'), msg = h('div');
  const name = h('input', { placeholder: 'user name', 'aria-label': 'user name' });
  const pw = h('input', { type: 'password', placeholder: 'password (8+ characters)', 'aria-label': 'user password', autocomplete: 'new-password' });
  const role = roleSelect('user role');
  const add = h('button', { class: 'primary', type: 'button' }, 'Add user');
  const load = async () => {
    const users = ((await send('GET', '/api/auth/users')) ?? []) as User[];
    mount(list, sortTable<User>([
      { title: 'Name', cell: (u) => u.name, key: (u) => u.name },
      { title: 'Role', cell: (u) => u.role, key: (u) => u.role },
      { title: 'Created', cell: (u) => when(u.created), key: (u) => u.created },
      { title: '', cell: (u) => (u.name === me ? '' : h('button', { type: 'button', onclick: async () => {
        try { await send('DELETE', `/api/auth/users/${encodeURIComponent(u.name)}`); await load(); } catch (e) { mount(msg, h('p', { class: 'err' }, String((e as Error).message))); }
      } }, 'Delete')) },
    ], users, 0, false, 'No users'));
  };
  add.addEventListener('click', async () => {
    try {
      await send('POST', '/api/auth/users', { name: name.value.trim(), password: pw.value, role: role.value });
      name.value = ''; pw.value = '';
      mount(msg);
      await load();
    } catch (e) {
      mount(msg, h('p', { class: 'err' }, String((e as Error).message)));
    }
  });
  return { panel: h('section', { class: 'panel', 'data-panel': 'users', style: 'margin-top:12px' }, h('h2', null, 'Users'),
    h('div', { class: 'toolbar' }, name, pw, role, add), msg, list), load };
}

export async function settingsPage(root: HTMLElement, who: Who | null): Promise<() => Promise<void>> {
  const tokens = h('div');
  const msg = h('div');
  const name = h('input', { placeholder: 'token name, e.g. grafana', 'aria-label': 'token name' });
  const role = roleSelect('token role');
  const create = h('button', { class: 'primary', type: 'button' }, 'Create token');
  const isAdmin = who?.role === 'admin';
  const users = isAdmin ? usersPanel(who?.user ?? '') : null;
  mount(root, h('h1', null, 'Settings'),
    h('section', { class: 'panel', style: 'margin-bottom:12px' }, h('h2', null, 'Account'),
      h('dl', { class: 'kv' }, h('dt', null, 'User'), h('dd', null, who?.user ?? '–'), h('dt', null, 'Role'), h('dd', null, who?.role ?? '–')),
      who?.via === 'session' ? passwordPanel() : null),
    isAdmin ? h('section', { class: 'panel' }, h('h2', null, 'API tokens'),
      h('p', { class: 'muted' }, 'Send as "Authorization: Bearer <token>". A token is shown once, when it is made.'),
      h('div', { class: 'toolbar' }, name, role, create), msg, tokens)
      : h('p', { class: 'muted' }, 'API tokens and users are managed by administrators.'),
    users ? users.panel : null);
  const load = async () => {
    if (!isAdmin) return;
    await users?.load();
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

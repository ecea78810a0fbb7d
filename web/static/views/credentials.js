// Credentials tab: kind tabs (only what the lock supports), the list, add/edit/delete.

import { confirmDialog, h, replace } from '../dom.js';
import { icon } from '../icons.js';
import { t, tn } from '../i18n.js';
import { call } from '../net.js';
import { state } from '../store.js';
import { notice, toast } from '../toast.js';
import { openCredDialog } from './cred_dialog.js';
import { describeValidity } from './validity.js';

const KINDS = ['pin', 'card', 'fingerprint'];
const KIND_ICON = { pin: 'keypad', card: 'card', fingerprint: 'fingerprint' };

/** Mount the credentials tab for params {id, sub}; returns {unmount, update}. */
export function mount(panel, params) {
  const id = params.id;
  const lock = () => state.locks.get(id);
  const kinds = KINDS.filter((kind) => (lock()?.capabilities || []).includes(kind));
  let kind = kinds.includes(params.sub) ? params.sub : kinds[0];
  let seq = 0;
  let items = [];

  const tabs = h('div', { class: 'segmented', role: 'tablist', 'aria-label': t('cred.kinds') });
  const heading = h('h2', { class: 'section-title' });
  const refresh = h('button', { type: 'button', class: 'icon-btn', 'aria-label': t('action.refresh'), title: t('action.refresh'), test: 'cred-refresh', onclick: () => load() }, icon('sync'));
  const add = h('button', { type: 'button', class: 'btn primary', test: 'cred-add', onclick: () => edit(null) }, icon('plus'), h('span', { class: 'label' }));
  const list = h('ul', { class: 'card list cred-list', 'aria-live': 'polite' });
  panel.append(tabs, h('div', { class: 'toolbar' }, heading, refresh, add), list);

  function renderTabs() {
    replace(tabs, kinds.map((k) => h('button', {
      type: 'button', role: 'tab', class: 'seg', test: `cred-kind-${k}`, 'aria-selected': String(k === kind),
      onclick: () => { location.hash = `#/lock/${encodeURIComponent(id)}/credentials/${k}`; },
    }, icon(KIND_ICON[k]), t(`kind.${k}.plural`))));
    add.querySelector('.label').textContent = t(`cred.add.${kind}`);
  }

  function row(item) {
    return h('li', { class: 'row-item', test: 'cred-row', 'data-id': item.id, 'data-kind': item.kind || kind },
      h('div', { class: 'row-icon' }, icon(KIND_ICON[kind])),
      h('div', { class: 'row-main' },
        h('div', { class: 'row-title' },
          h('span', { class: 'cred-name', test: 'cred-name' }, item.name),
          item.code ? h('code', { class: 'cred-code', test: 'cred-code' }, item.code) : null),
        h('p', { class: 'row-sub', test: 'cred-validity' }, describeValidity(item.validity))),
      h('div', { class: 'row-actions' },
        h('button', { type: 'button', class: 'icon-btn', test: 'cred-edit', 'aria-label': t('cred.edit', { name: item.name }), title: t('action.edit'), onclick: () => edit(item) }, icon('edit')),
        h('button', { type: 'button', class: 'icon-btn danger', test: 'cred-delete', 'aria-label': t('cred.delete', { name: item.name }), title: t('action.delete'), onclick: () => remove(item) }, icon('trash'))));
  }

  function renderList() {
    heading.textContent = tn(`cred.count.${kind}`, items.length);
    if (!items.length) {
      replace(list, h('li', { class: 'empty small' }, icon(KIND_ICON[kind]), h('span', {}, t(`cred.empty.${kind}`))));
      return;
    }
    replace(list, items.map(row));
  }

  async function load() {
    const mine = ++seq;
    heading.textContent = t(`kind.${kind}.plural`);
    replace(list, h('li', { class: 'loading' }, h('span', { class: 'spinner' }), t('common.loading')));
    refresh.setAttribute('aria-busy', 'true');
    try {
      const result = await call('credentials.list', { lock_id: id, kind });
      if (mine !== seq) return;
      items = (Array.isArray(result) ? result : []).filter((item) => !item.kind || item.kind === kind);
      renderList();
    } catch (failure) {
      if (mine !== seq) return;
      toast(failure.message, failure.code);
      replace(list, h('li', { class: 'empty small error' }, icon('alert'), h('span', {}, t('cred.load_failed')),
        h('button', { type: 'button', class: 'btn small', onclick: () => load() }, t('action.retry'))));
    } finally {
      if (mine === seq) refresh.removeAttribute('aria-busy');
    }
  }

  function edit(item) {
    const current = lock();
    if (current) openCredDialog(panel, { lock: current, kind, credential: item, onDone: () => load() });
  }

  async function remove(item) {
    const yes = await confirmDialog(panel, {
      title: t('cred.delete_title', { name: item.name }), text: t(`cred.delete_text.${kind}`),
      confirm: t('action.delete'), cancel: t('action.cancel'), danger: true, test: 'cred-delete-dialog',
    });
    if (!yes) return;
    try {
      await call('credentials.delete', { lock_id: id, kind, credential_id: item.id }, 60000);
      notice(t('cred.deleted', { name: item.name }));
    } catch (failure) {
      toast(failure.message, failure.code);
    }
    load();
  }

  function update(next) {
    const wanted = kinds.includes(next.sub) ? next.sub : kinds[0];
    if (wanted === kind) return;
    kind = wanted;
    items = [];
    renderTabs();
    load();
  }

  renderTabs();
  load();
  return { unmount: () => { seq += 1; }, update };
}

// Lock detail: the lock's card, then tabs for credentials, settings and activity.

import { h, replace } from '../dom.js';
import { icon } from '../icons.js';
import { t } from '../i18n.js';
import { on, state } from '../store.js';
import { toast } from '../toast.js';
import { lockCard } from './lockcard.js';

// Each tab's module loads when the tab is first shown.
const TABS = [
  ['credentials', 'key', () => import('./credentials.js'), (caps) => ['pin', 'card', 'fingerprint'].some((c) => caps.has(c))],
  ['settings', 'settings', () => import('./settings.js'), () => true],
  ['activity', 'activity', () => import('./activity.js'), (caps) => caps.has('events')],
];

/** Mount the detail view for params {id, tab, sub}; returns {unmount, update(params)}. */
export function mount(root, params) {
  const id = params.id;
  const section = h('section', { class: 'detail', test: 'lock-detail', 'data-lock-id': id });
  const back = h('a', { href: '#/locks', class: 'back-link' }, icon('back'), t('detail.back'));
  const nav = h('nav', { class: 'subtabs', 'aria-label': t('detail.sections') });
  const panel = h('div', { class: 'tab-panel' });
  const missing = h('div', { class: 'card empty' }, icon('unknown', 'empty-icon'),
    h('h2', {}, t('detail.missing_title')), h('p', {}, t('detail.missing_text')),
    h('a', { href: '#/locks', class: 'btn primary' }, t('detail.back')));
  root.append(section);
  let card = null;
  let current = null;
  let currentTab = null;
  let capsKey = '';
  let wanted = params;
  let mountSeq = 0;

  function available() {
    const caps = new Set(state.locks.get(id)?.capabilities || []);
    return TABS.filter(([, , , test]) => test(caps));
  }

  function renderNav(tabs, active) {
    replace(nav, tabs.map(([name, iconName]) => h('a', {
      href: `#/lock/${encodeURIComponent(id)}/${name}`, class: 'subtab', test: `tab-${name}`,
      'aria-current': name === active ? 'page' : null,
    }, icon(iconName), t(`tab.${name}`))));
  }

  function render() {
    const lock = state.locks.get(id);
    if (!state.ready) {
      replace(section, h('p', { class: 'loading' }, h('span', { class: 'spinner' }), t('common.loading')));
      return;
    }
    if (!lock) {
      // The lock went away while shown (removed here or elsewhere): back to the list.
      if (card) location.hash = '#/locks';
      stopPanel();
      card?.destroy();
      card = null;
      replace(section, back, missing);
      return;
    }
    if (!card) {
      card = lockCard(id, { details: false });
      replace(section, back, card.el, nav, panel);
    }
    const tabs = available();
    const names = tabs.map(([name]) => name);
    const tab = names.includes(wanted.tab) ? wanted.tab : names[0];
    const key = names.join(',');
    document.title = `${lock.name} · ${t('app.title')}`;
    if (tab === currentTab && key === capsKey) {
      current?.update?.(wanted);
      return;
    }
    capsKey = key;
    renderNav(tabs, tab);
    stopPanel();
    currentTab = tab;
    replace(panel, h('p', { class: 'loading' }, h('span', { class: 'spinner' }), t('common.loading')));
    const seq = mountSeq;
    tabs.find(([name]) => name === tab)[2]().then((module) => {
      if (seq !== mountSeq) return;
      replace(panel);
      current = module.mount(panel, { id, sub: wanted.sub });
    }, () => toast(t('error.load_view'), 'disconnected'));
  }

  function stopPanel() {
    mountSeq += 1;
    current?.unmount();
    current = null;
    currentTab = null;
  }

  const off = on(`lock:${id}`, render);
  const offReady = on('hello', render);
  render();
  return {
    unmount() {
      off();
      offReady();
      stopPanel();
      card?.destroy();
    },
    update(next) {
      wanted = next;
      render();
    },
  };
}

// The lock list: one live card per lock, or an empty state that explains how to add one.

import { h, replace } from '../dom.js';
import { icon } from '../icons.js';
import { t } from '../i18n.js';
import { on, sortedLocks, state } from '../store.js';
import { lockCard } from './lockcard.js';

/** Mount the lock list into `root`; returns the unmount function. */
export function mount(root) {
  const cards = new Map();
  const grid = h('div', { class: 'grid' });
  const empty = h('div', { class: 'card empty' },
    icon('lock', 'empty-icon'),
    h('h2', {}, t('locks.empty_title')),
    h('p', {}, t('locks.empty_text')),
    h('a', { href: '#/add', class: 'btn primary' }, icon('plus'), t('locks.empty_action')));
  const loading = h('p', { class: 'loading' }, h('span', { class: 'spinner' }), t('common.loading'));
  root.append(h('h1', { class: 'view-title', tabindex: '-1' }, t('locks.title')), grid);

  function render() {
    if (!state.ready) {
      replace(grid, loading);
      return;
    }
    const locks = sortedLocks();
    for (const [id, card] of cards) {
      if (!state.locks.has(id)) {
        card.destroy();
        card.el.remove();
        cards.delete(id);
      }
    }
    if (!locks.length) {
      replace(grid, empty);
      return;
    }
    empty.remove();
    loading.remove();
    locks.forEach((lock, index) => {
      let card = cards.get(lock.id);
      if (!card) {
        card = lockCard(lock.id);
        cards.set(lock.id, card);
      }
      if (grid.children[index] !== card.el) grid.insertBefore(card.el, grid.children[index] || null);
    });
  }

  const off = on('locks', render);
  render();
  return () => {
    off();
    for (const card of cards.values()) card.destroy();
  };
}

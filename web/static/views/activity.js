// Activity tab: the lock's recent events, newest first, with live additions.

import { h, replace } from '../dom.js';
import { icon } from '../icons.js';
import { t, timeElement, tv } from '../i18n.js';
import { call } from '../net.js';
import { on } from '../store.js';
import { toast } from '../toast.js';

const LIMIT = 100;
const KEEP = 200;
const KIND_ICON = {
  locked: 'lock', unlocked: 'unlock', opened: 'open', jammed: 'alert', failed_attempt: 'alert',
  tamper: 'alert', battery_low: 'power', door_opened: 'open', door_closed: 'door',
  credential_added: 'key', credential_removed: 'key', credential_changed: 'key', other: 'info',
};
const WARN = new Set(['jammed', 'failed_attempt', 'tamper', 'battery_low']);

function row(event) {
  const credential = event.credential_name || event.credential_id;
  return h('li', { class: `row-item event ${WARN.has(event.kind) ? 'warn' : ''}`, test: 'event-row', 'data-kind': event.kind, 'data-source': event.source },
    h('div', { class: `row-icon kind-${event.kind}` }, icon(KIND_ICON[event.kind] || 'info')),
    h('div', { class: 'row-main' },
      h('div', { class: 'row-title' },
        h('span', { class: 'event-kind' }, tv('kind', event.kind)),
        event.source ? h('span', { class: 'chip' }, tv('source', event.source)) : null),
      credential || event.user ? h('p', { class: 'row-sub' },
        credential ? h('span', { test: 'event-credential' }, icon(event.source === 'fingerprint' ? 'fingerprint' : event.source === 'card' ? 'card' : 'key'), credential) : null,
        event.user ? h('span', { test: 'event-user' }, icon('user'), event.user) : null) : null),
    h('span', { class: 'row-time', test: 'event-time' }, event.time ? timeElement(event.time) : ''));
}

/** Mount the activity tab for params {id}; returns {unmount}. */
export function mount(panel, params) {
  const id = params.id;
  let events = [];
  let seq = 0;
  const list = h('ul', { class: 'card list events', 'aria-live': 'polite' });
  const refresh = h('button', { type: 'button', class: 'btn', test: 'events-refresh' }, icon('sync'), t('action.refresh'));
  refresh.addEventListener('click', () => load());
  panel.append(h('div', { class: 'toolbar' }, h('h2', { class: 'section-title' }, t('activity.title')), refresh), list);

  function render() {
    if (!events.length) {
      replace(list, h('li', { class: 'empty small' }, icon('activity'), h('span', {}, t('activity.empty'))));
      return;
    }
    replace(list, events.map(row));
  }

  async function load() {
    const mine = ++seq;
    refresh.setAttribute('aria-busy', 'true');
    if (!events.length) replace(list, h('li', { class: 'loading' }, h('span', { class: 'spinner' }), t('common.loading')));
    try {
      const result = await call('events.list', { lock_id: id, limit: LIMIT });
      if (mine !== seq) return;
      events = Array.isArray(result) ? result : [];
      render();
    } catch (failure) {
      if (mine !== seq) return;
      toast(failure.message, failure.code);
      if (!events.length) replace(list, h('li', { class: 'empty small error' }, icon('alert'), h('span', {}, t('activity.load_failed'))));
    } finally {
      if (mine === seq) refresh.removeAttribute('aria-busy');
    }
  }

  const off = on('lock.event', (data) => {
    if (data?.lock_id !== id || !data.event) return;
    events = [data.event, ...events].slice(0, KEEP);
    if (events.length === 1) render();
    else {
      list.prepend(row(data.event));
      while (list.children.length > KEEP) list.lastElementChild.remove();
    }
  });
  load();
  return { unmount() { off(); seq += 1; } };
}

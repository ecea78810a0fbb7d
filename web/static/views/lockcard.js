// One lock's card: name, model, status, battery, signal, last seen, actions with pending state.

import { h, replace, setBusy } from '../dom.js';
import { batteryIcon, icon, signalBars } from '../icons.js';
import { t, timeElement, tv } from '../i18n.js';
import { lockVerb } from '../net.js';
import { on, setPending, state } from '../store.js';
import { toast } from '../toast.js';

const STATUS_ICON = {
  locked: 'lock', unlocked: 'unlock', locking: 'sync', unlocking: 'sync', open: 'open',
  opening: 'sync', jammed: 'alert', unknown: 'unknown',
};
const ACTIONS = [
  ['lock', 'lock', 'btn-lock'],
  ['unlock', 'unlock', 'btn-unlock'],
  ['open', 'open', 'btn-open'],
];
const ACTION_TIMEOUT = 90000;

/** The label of the "open" action: Nuki calls it unlatch. */
export function openLabel(lock) {
  return lock.brand === 'nuki' ? t('action.unlatch') : t('action.open');
}

function meta(test, graphic, label, value) {
  return h('li', { test, class: 'meta' }, graphic, h('span', { class: 'sr' }, label), value);
}

/** A live card for lock `id`; `details`: show the link to the detail view. Returns {el, destroy}. */
export function lockCard(id, { details = true } = {}) {
  const el = h('article', { class: 'card lock-card', test: 'lock-card', 'data-lock-id': id });
  const nameEl = h('h3', { class: 'lc-name', test: 'lock-name' });
  const sub = h('p', { class: 'lc-sub' });
  const badge = h('div', { class: 'lc-badge' });
  const statusEl = h('span', { class: 'lc-status', test: 'lock-status', 'aria-live': 'polite' });
  const extra = h('span', { class: 'lc-extra' });
  const metaList = h('ul', { class: 'lc-meta' });
  const actions = h('div', { class: 'lc-actions' });
  const buttons = {};

  async function act(action) {
    if (state.pending.has(id)) return;
    setPending(id, action);
    try {
      await lockVerb(`lock.${action}`, { lock_id: id }, ACTION_TIMEOUT);
    } catch (error) {
      toast(error.message, error.code);
    } finally {
      setPending(id, null);
    }
  }

  for (const [action, iconName, test] of ACTIONS) {
    buttons[action] = h('button', { type: 'button', class: 'btn', test, onclick: () => act(action) },
      icon(iconName), h('span', { class: 'label' }));
  }

  const head = h('div', { class: 'lc-head' }, badge, h('div', { class: 'lc-title' }, nameEl, sub));
  if (details) {
    head.append(h('a', {
      href: `#/lock/${encodeURIComponent(id)}`, class: 'icon-btn lc-details', test: 'btn-details',
      'aria-label': t('action.details'), title: t('action.details'),
    }, icon('next')));
  }
  el.append(head, h('div', { class: 'lc-state' }, statusEl, extra), metaList, actions);

  function update() {
    const lock = state.locks.get(id);
    if (!lock) return;
    const caps = new Set(lock.capabilities || []);
    const pending = state.pending.get(id);
    el.dataset.status = lock.status;
    el.classList.toggle('unavailable', !lock.available);
    el.classList.toggle('pending', Boolean(pending));
    el.setAttribute('aria-busy', pending ? 'true' : 'false');
    nameEl.textContent = lock.name;
    sub.textContent = [tv('brand', lock.brand), lock.model].filter(Boolean).join(' · ');
    replace(badge, icon(STATUS_ICON[lock.status] || 'unknown'));
    statusEl.textContent = tv('status', lock.status);
    statusEl.dataset.status = lock.status;
    replace(extra,
      lock.door ? h('span', { class: 'chip' }, icon(lock.door === 'open' ? 'open' : 'door'), tv('door', lock.door)) : null,
      lock.available ? null : h('span', { class: 'chip warn' }, icon('offline'), t('lock.out_of_range')));
    replace(metaList,
      meta('lock-battery', batteryIcon(lock.battery), t('lock.battery'),
        lock.battery === null || lock.battery === undefined ? '—' : `${lock.battery} %`),
      meta('lock-rssi', signalBars(lock.rssi), t('lock.signal'),
        lock.rssi === null || lock.rssi === undefined ? '—' : `${lock.rssi} dBm`),
      meta('lock-seen', icon('clock'), t('lock.seen'),
        lock.last_seen ? timeElement(lock.last_seen, 'rel') : t('lock.never')));
    metaList.querySelector('[data-test=lock-battery]').classList.toggle(
      'low', lock.battery !== null && lock.battery !== undefined && lock.battery <= 20);

    const primary = lock.status === 'locked' ? 'unlock' : ['unlocked', 'open'].includes(lock.status) ? 'lock' : null;
    const shown = ACTIONS.filter(([action]) => caps.has(action));
    const wanted = shown.map(([action]) => buttons[action]);
    // Re-adding the same buttons would drop the keyboard focus from them.
    if (wanted.length !== actions.children.length || wanted.some((b, i) => actions.children[i] !== b)) {
      replace(actions, wanted);
    }
    for (const [action] of shown) {
      const button = buttons[action];
      button.querySelector('.label').textContent = action === 'open' ? openLabel(lock) : t(`action.${action}`);
      button.classList.toggle('primary', action === primary);
      setBusy(button, pending === action, true);
      button.disabled = Boolean(pending) && pending !== action;
      button.setAttribute('aria-disabled', pending ? 'true' : 'false');
    }
  }

  const off = on(`lock:${id}`, update);
  update();
  return { el, destroy: off };
}

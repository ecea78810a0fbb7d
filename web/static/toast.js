// Toasts: errors ([data-test=toast], data-code) and short notices; auto-dismiss, dismissible.

import { h } from './dom.js';
import { icon } from './icons.js';
import { t, tv } from './i18n.js';

const LIMIT = 4;

// Inside an open modal dialog the rest of the page is inert and under the backdrop,
// so toasts go into the dialog then.
function host() {
  const dialog = [...document.querySelectorAll('dialog[open]')].pop();
  if (!dialog) return document.getElementById('toasts');
  let box = dialog.querySelector(':scope > .toasts');
  if (!box) {
    box = h('div', { class: 'toasts' });
    dialog.append(box);
  }
  return box;
}

function add(el, ms) {
  const box = host();
  while (box.children.length >= LIMIT) box.firstElementChild.remove();
  box.append(el);
  let timer = setTimeout(() => el.remove(), ms);
  // Keep a toast while the pointer or focus is on it, so it can be read and dismissed.
  const hold = () => clearTimeout(timer);
  const release = () => {
    clearTimeout(timer);
    timer = setTimeout(() => el.remove(), ms / 2);
  };
  el.addEventListener('pointerenter', hold);
  el.addEventListener('pointerleave', release);
  el.addEventListener('focusin', hold);
  el.addEventListener('focusout', release);
}

function closeButton(el) {
  return h('button', {
    type: 'button', class: 'icon-btn toast-close', 'aria-label': t('action.dismiss'),
    onclick: () => el.remove(),
  }, icon('close'));
}

/** Show an error toast: text = the message, data-code = the error code. */
export function toast(message, code = 'internal') {
  const el = h('div', { class: 'toast error', role: 'alert', test: 'toast', 'data-code': code });
  // The localized title is CSS-generated, so the toast's text stays exactly the server's message.
  el.append(icon('alert', 'toast-icon'), h('span', { class: 'toast-msg', 'data-title': tv('code', code) }, message));
  el.append(closeButton(el));
  add(el, 6000);
}

/** Show a short success notice ([data-test=notice]). */
export function notice(message) {
  const el = h('div', { class: 'toast ok', role: 'status', test: 'notice' });
  el.append(icon('check', 'toast-icon'), h('span', { class: 'toast-msg' }, message));
  el.append(closeButton(el));
  add(el, 4000);
}

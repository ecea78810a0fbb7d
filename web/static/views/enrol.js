// The enrolment dialog for cards and fingerprints: instructions and a ring fed by progress pushes.

import { h, openDialog } from '../dom.js';
import { icon, ring } from '../icons.js';
import { t } from '../i18n.js';
import { call } from '../net.js';
import { on } from '../store.js';
import { toast } from '../toast.js';

const ENROL_TIMEOUT = 300000;
const DONE_PAUSE = 1200;

function message(kind, step, total) {
  if (step >= total) return t(`enrol.${kind}.done`);
  if (kind === 'card') return t('enrol.card.wait');
  return step === 0 ? t('enrol.fingerprint.first') : t('enrol.fingerprint.again', { step, total });
}

/** Run credentials.add for a card or fingerprint while showing progress; onDone() after success. */
export function openEnrolDialog(parent, { lockId, kind, params, onDone }) {
  let total = kind === 'card' ? 1 : 4;
  let step = 0;
  let running = true;
  let cancelled = false;
  const progress = ring();
  const count = h('span', { class: 'ring-count' });
  const meter = h('div', {
    class: 'ring-wrap', test: 'enrol-progress', role: 'progressbar', 'aria-valuemin': 0,
    'aria-label': t('enrol.progress'),
  }, progress.el, h('div', { class: 'ring-center' }, icon(kind === 'card' ? 'card' : 'fingerprint'), count));
  const text = h('p', { class: 'enrol-message', test: 'enrol-message', 'aria-live': 'polite' });
  const error = h('p', { class: 'form-error', test: 'enrol-error', role: 'alert', hidden: true });
  const cancel = h('button', { type: 'button', class: 'btn', test: 'enrol-cancel' }, t('action.cancel'));
  const titleId = `enrol-title-${lockId}`;
  const dlg = h('dialog', { class: 'dialog small', test: 'enrol-dialog', 'aria-labelledby': titleId },
    h('div', { class: 'dialog-body center' },
      h('h2', { id: titleId }, t(`enrol.${kind}.title`, { name: params.name })),
      meter, text, error,
      h('div', { class: 'dialog-actions center' }, cancel)));

  function render() {
    meter.dataset.step = String(step);
    meter.dataset.total = String(total);
    meter.setAttribute('aria-valuenow', String(step));
    meter.setAttribute('aria-valuemax', String(total));
    count.textContent = kind === 'card' && step < total ? '' : `${step}/${total}`;
    progress.set(total ? step / total : 0);
    meter.classList.toggle('waiting', step === 0 && kind === 'card');
    text.textContent = message(kind, step, total);
  }

  const off = on('credential.progress', (data) => {
    if (!running || data?.lock_id !== lockId) return;
    if (Number.isInteger(data.total) && data.total > 0) total = data.total;
    if (Number.isInteger(data.step)) step = Math.min(Math.max(0, data.step), total);
    render();
  });

  async function stop() {
    if (!running) {
      dlg.close();
      return;
    }
    cancelled = true;
    running = false;
    dlg.close();
    try {
      await call('credentials.cancel', { lock_id: lockId });
    } catch (failure) {
      toast(failure.message, failure.code);
    }
  }

  cancel.addEventListener('click', stop);
  dlg.addEventListener('close', off);
  render();
  openDialog(parent, dlg, { onCancel: () => { stop(); return true; } });

  call('credentials.add', { lock_id: lockId, kind, ...params }, ENROL_TIMEOUT).then(
    () => {
      if (cancelled) return;
      running = false;
      step = total;
      render();
      onDone();
      setTimeout(() => dlg.open && dlg.close(), DONE_PAUSE);
    },
    (failure) => {
      if (cancelled) return;
      running = false;
      error.textContent = failure.message;
      error.dataset.code = failure.code;
      error.hidden = false;
      cancel.textContent = t('action.close');
      cancel.focus();
      toast(failure.message, failure.code);
    },
  );
}

// The remove dialog: optional reset of the lock and a typed confirmation of its name.

import { h, nextId, openDialog, setBusy } from '../dom.js';
import { icon } from '../icons.js';
import { t } from '../i18n.js';
import { call } from '../net.js';
import { state } from '../store.js';
import { notice, toast } from '../toast.js';

/** Open the remove dialog for lock `id`; on success navigate to the lock list. */
export function openRemoveDialog(parent, id) {
  const lock = state.locks.get(id);
  if (!lock) return;
  const caps = new Set(lock.capabilities || []);
  const canReset = caps.has('reset') || caps.has('unpair');
  const titleId = nextId('rm');
  let busy = false;

  const reset = canReset ? h('input', { type: 'checkbox', test: 'remove-reset', id: nextId('rr') }) : null;
  const confirmInput = h('input', { type: 'text', test: 'remove-confirm-input', autocomplete: 'off', spellcheck: 'false', id: nextId('rc'), autofocus: true });
  const confirm = h('button', { type: 'submit', class: 'btn danger', test: 'remove-confirm', disabled: true }, icon('trash'), t('remove.confirm'));
  const cancel = h('button', { type: 'button', class: 'btn', onclick: () => dlg.close() }, t('action.cancel'));
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const resetText = caps.has('reset') ? 'remove.reset' : 'remove.unpair';

  const form = h('form', { class: 'dialog-body', novalidate: true },
    h('h2', { id: titleId }, t('remove.dialog_title', { name: lock.name })),
    h('p', {}, t('remove.dialog_text')),
    reset ? h('label', { class: 'check', for: reset.id }, reset,
      h('span', {}, h('strong', {}, t(`${resetText}`)), h('span', { class: 'hint' }, t(`${resetText}_text`)))) : null,
    h('div', { class: 'field' },
      h('label', { for: confirmInput.id }, t('remove.type_name', { name: lock.name })), confirmInput),
    error,
    h('div', { class: 'dialog-actions' }, cancel, confirm));
  const dlg = h('dialog', { class: 'dialog', test: 'remove-dialog', 'aria-labelledby': titleId }, form);

  const matches = () => confirmInput.value.trim() === lock.name.trim();
  confirmInput.addEventListener('input', () => { confirm.disabled = busy || !matches(); });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy || !matches()) return;
    busy = true;
    error.hidden = true;
    setBusy(confirm, true);
    try {
      await call('lock.remove', { lock_id: id, reset: Boolean(reset?.checked) }, 90000);
      dlg.close();
      notice(t('remove.done', { name: lock.name }));
      location.hash = '#/locks';
    } catch (failure) {
      busy = false;
      setBusy(confirm, false);
      confirm.disabled = !matches();
      error.textContent = failure.message;
      error.hidden = false;
      toast(failure.message, failure.code);
    }
  });
  openDialog(parent, dlg, { onCancel: () => !busy });
}

// The add/edit dialog for a PIN, card or fingerprint: name, code, validity.

import { field, h, openDialog, show } from '../dom.js';
import { icon } from '../icons.js';
import { t } from '../i18n.js';
import { call } from '../net.js';
import { toast } from '../toast.js';
import { openEnrolDialog } from './enrol.js';
import { validityEditor } from './validity.js';

const SAVE_TIMEOUT = 60000;

function randomCode(nuki) {
  const digits = nuki ? '123456789' : '0123456789';
  let code = '';
  do {
    code = Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => digits[b % digits.length]).join('');
  } while (nuki && code.startsWith('12'));
  return code;
}

/** Open the credential dialog; `credential` set means edit. onDone() runs after a change. */
export function openCredDialog(parent, { lock, kind, credential, onDone }) {
  const editing = Boolean(credential);
  const nuki = lock.brand === 'nuki';
  const caps = new Set(lock.capabilities || []);
  const titleId = `cred-title-${lock.id}`;
  let busy = false;

  const name = h('input', {
    type: 'text', test: 'cred-input-name', maxlength: 64, required: true, autocomplete: 'off',
    value: credential?.name || '', autofocus: true,
  });
  const code = kind === 'pin' ? h('input', {
    type: 'text', test: 'cred-input-code', inputmode: 'numeric', autocomplete: 'off', spellcheck: 'false',
    maxlength: nuki ? 6 : 9, class: 'mono', value: credential?.code || '',
  }) : null;
  const generate = code ? h('button', {
    type: 'button', class: 'btn small', onclick: () => { code.value = randomCode(nuki); code.focus(); },
  }, t('cred.generate')) : null;
  const validity = validityEditor(caps, credential?.validity);
  const error = h('p', { class: 'form-error', test: 'cred-error', role: 'alert', hidden: true });
  const save = h('button', { type: 'submit', class: 'btn primary', test: 'cred-save' }, icon('check'), t('action.save'));
  const cancel = h('button', { type: 'button', class: 'btn', test: 'cred-cancel', onclick: () => dlg.close() }, t('action.cancel'));
  const enrolNote = !editing && kind !== 'pin' ? h('p', { class: 'explain' }, icon('info'), t(`cred.enrol_note.${kind}`)) : null;

  const form = h('form', { class: 'dialog-body', novalidate: true },
    h('h2', { id: titleId }, editing ? t('cred.edit_title', { name: credential.name }) : t(`cred.add_title.${kind}`)),
    field(t('cred.name'), name),
    code ? h('div', { class: 'code-row' },
      field(t('cred.code'), code, t(nuki ? 'cred.code_hint_nuki' : 'cred.code_hint')), generate) : null,
    validity.el, enrolNote, error,
    h('div', { class: 'dialog-actions' }, cancel, save));
  const dlg = h('dialog', { class: 'dialog', test: 'cred-dialog', 'aria-labelledby': titleId }, form);

  function fail(message, focus) {
    error.textContent = message;
    show(error, true);
    focus?.focus();
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    show(error, false);
    const params = { name: name.value.trim() };
    if (!params.name) return fail(t('cred.error_name'), name);
    if (code) {
      params.code = code.value.trim();
      if (!/^\d{4,9}$/.test(params.code)) return fail(t('cred.error_code'), code);
    }
    try {
      params.validity = validity.read();
    } catch (problem) {
      return fail(problem.message);
    }
    if (!editing && kind !== 'pin') {
      dlg.close();
      openEnrolDialog(parent, { lockId: lock.id, kind, params, onDone });
      return undefined;
    }
    busy = true;
    save.disabled = true;
    save.setAttribute('aria-busy', 'true');
    try {
      if (editing) await call('credentials.update', { lock_id: lock.id, kind, credential_id: credential.id, ...params }, SAVE_TIMEOUT);
      else await call('credentials.add', { lock_id: lock.id, kind, ...params }, SAVE_TIMEOUT);
      dlg.close();
      onDone();
    } catch (failure) {
      fail(failure.message);
      error.dataset.code = failure.code;
      toast(failure.message, failure.code);
    } finally {
      busy = false;
      save.disabled = false;
      save.removeAttribute('aria-busy');
    }
    return undefined;
  });

  openDialog(parent, dlg, { onCancel: () => !busy });
}

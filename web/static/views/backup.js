// Backup: export the locks (with their keys) under a passphrase, import such a file.

import { field, h, setBusy } from '../dom.js';
import { icon } from '../icons.js';
import { t, tn } from '../i18n.js';
import { call } from '../net.js';
import { toast } from '../toast.js';

const MIN_PASSPHRASE = 8;
const MAX_FILE = 60 * 1024;
const TIMEOUT = 60000;

function download(filename, text) {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  const link = h('a', { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

function exportCard() {
  const pass = h('input', { type: 'password', test: 'backup-passphrase', autocomplete: 'new-password', minlength: MIN_PASSPHRASE });
  const again = h('input', { type: 'password', test: 'backup-passphrase-repeat', autocomplete: 'new-password', minlength: MIN_PASSPHRASE });
  const button = h('button', { type: 'submit', class: 'btn primary', test: 'backup-export' }, icon('download'), t('backup.export'));
  const status = h('p', { class: 'result', test: 'backup-export-result', role: 'status', hidden: true });
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const form = h('form', { class: 'stack', novalidate: true },
    field(t('backup.passphrase'), pass, t('backup.passphrase_hint', { n: MIN_PASSPHRASE })),
    field(t('backup.passphrase_repeat'), again), error, h('div', { class: 'form-actions' }, status, button));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    status.hidden = true;
    const problem = pass.value.length < MIN_PASSPHRASE ? t('backup.too_short', { n: MIN_PASSPHRASE })
      : pass.value !== again.value ? t('backup.mismatch') : null;
    if (problem) {
      error.textContent = problem;
      error.hidden = false;
      (pass.value.length < MIN_PASSPHRASE ? pass : again).focus();
      return;
    }
    setBusy(button, true);
    try {
      const result = await call('backup.export', { passphrase: pass.value }, TIMEOUT);
      download(result.filename, result.data);
      pass.value = '';
      again.value = '';
      status.textContent = t('backup.exported', { file: result.filename });
      status.hidden = false;
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
      toast(failure.message, failure.code);
    } finally {
      setBusy(button, false);
    }
  });
  return h('section', { class: 'card pad' },
    h('h2', { class: 'card-title' }, icon('download'), t('backup.export_title')),
    h('p', {}, t('backup.export_text')),
    h('p', { class: 'explain warn' }, icon('shield'), t('backup.keep_safe')), form);
}

function importCard() {
  const file = h('input', { type: 'file', test: 'backup-file', accept: '.json,application/json' });
  const pass = h('input', { type: 'password', test: 'backup-import-passphrase', autocomplete: 'off' });
  const button = h('button', { type: 'submit', class: 'btn primary', test: 'backup-import' }, icon('upload'), t('backup.import'));
  const result = h('p', { class: 'result', test: 'backup-result', role: 'status', hidden: true });
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const form = h('form', { class: 'stack', novalidate: true },
    field(t('backup.file'), file), field(t('backup.passphrase'), pass), error,
    h('div', { class: 'form-actions' }, result, button));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    result.hidden = true;
    const chosen = file.files?.[0];
    const problem = !chosen ? t('backup.no_file') : chosen.size > MAX_FILE ? t('backup.too_big')
      : !pass.value ? t('backup.no_passphrase') : null;
    if (problem) {
      error.textContent = problem;
      error.hidden = false;
      return;
    }
    setBusy(button, true);
    try {
      const data = await chosen.text();
      const answer = await call('backup.import', { data, passphrase: pass.value }, TIMEOUT);
      const added = answer?.added?.length || 0;
      const kept = answer?.kept?.length || 0;
      result.textContent = [tn('backup.restored', added), kept ? tn('backup.kept', kept) : ''].filter(Boolean).join(' ');
      result.hidden = false;
      pass.value = '';
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
      toast(failure.message, failure.code);
    } finally {
      setBusy(button, false);
    }
  });
  return h('section', { class: 'card pad' },
    h('h2', { class: 'card-title' }, icon('upload'), t('backup.import_title')),
    h('p', {}, t('backup.import_text')), form);
}

/** Mount the backup view into `root`; returns the unmount function. */
export function mount(root) {
  root.append(h('h1', { class: 'view-title', tabindex: '-1' }, t('backup.title')),
    h('div', { class: 'grid two' }, exportCard(), importCard()));
  return () => {};
}

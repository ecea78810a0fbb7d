// Settings tab: lock settings the lock has, rename, the Nuki security PIN, remove.

import { field, h, replace, setBusy, toggle } from '../dom.js';
import { icon } from '../icons.js';
import { t } from '../i18n.js';
import { call, lockVerb } from '../net.js';
import { state } from '../store.js';
import { notice, toast } from '../toast.js';
import { openRemoveDialog } from './remove.js';

const SWITCHES = [
  ['sound', 'set-sound'],
  ['passage_mode', 'set-passage-mode'],
  ['remote_unlock', 'set-remote-unlock'],
  ['led', 'set-led'],
  ['auto_unlatch', 'set-auto-unlatch'],
];
const SAVE_TIMEOUT = 60000;

function settingsForm(id) {
  let saved = null;
  const body = h('div', { class: 'settings-body' }, h('p', { class: 'loading' }, h('span', { class: 'spinner' }), t('common.loading')));
  const card = h('section', { class: 'card pad' }, h('h2', { class: 'card-title' }, t('settings.title')), body);

  function build(settings) {
    saved = settings;
    const controls = {};
    const rows = [];
    const status = h('span', { class: 'saved', test: 'settings-saved', role: 'status', hidden: true }, icon('check'), t('settings.saved'));
    const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const save = h('button', { type: 'submit', class: 'btn primary', test: 'settings-save', disabled: true }, t('action.save'));

    if (settings.auto_lock_seconds !== null && settings.auto_lock_seconds !== undefined) {
      const min = Math.max(1, settings.auto_lock_min ?? 1);
      const max = settings.auto_lock_max ?? 86400;
      const enabled = h('input', { test: 'set-auto-lock-enabled', checked: settings.auto_lock_seconds > 0 });
      const seconds = h('input', {
        type: 'number', test: 'set-auto-lock-seconds', min, max, step: 1, inputmode: 'numeric',
        value: settings.auto_lock_seconds > 0 ? settings.auto_lock_seconds : Math.min(max, Math.max(min, 30)),
      });
      const syncEnabled = () => { seconds.disabled = !enabled.checked; };
      enabled.addEventListener('change', syncEnabled);
      syncEnabled();
      controls.auto = { enabled, seconds, min, max };
      const autoRow = toggle(t('settings.auto_lock'), enabled, t('settings.auto_lock_text'));
      autoRow.classList.add('has-sub');
      seconds.id = `auto-lock-seconds-${id}`;
      const range = h('span', { class: 'hint', id: `auto-lock-range-${id}` }, t('settings.auto_lock_range', { min, max }));
      seconds.setAttribute('aria-describedby', range.id);
      rows.push(autoRow, h('div', { class: 'indent' },
        h('label', { for: seconds.id }, t('settings.auto_lock_seconds')), seconds, range));
    }
    for (const [name, test] of SWITCHES) {
      if (settings[name] === null || settings[name] === undefined) continue;
      const input = h('input', { test, checked: Boolean(settings[name]) });
      controls[name] = input;
      rows.push(toggle(t(`settings.${name}`), input, t(`settings.${name}_text`)));
    }
    if (!rows.length) {
      replace(body, h('p', { class: 'muted' }, t('settings.none')));
      return;
    }

    function changes() {
      const out = {};
      if (controls.auto) {
        const value = controls.auto.enabled.checked ? Number(controls.auto.seconds.value) : 0;
        if (value !== saved.auto_lock_seconds) out.auto_lock_seconds = value;
      }
      for (const [name] of SWITCHES) {
        if (controls[name] && controls[name].checked !== Boolean(saved[name])) out[name] = controls[name].checked;
      }
      return out;
    }

    const form = h('form', { class: 'settings-form', novalidate: true }, rows, error,
      h('div', { class: 'form-actions' }, status, save));
    form.addEventListener('input', () => {
      status.hidden = true;
      save.disabled = !Object.keys(changes()).length;
    });
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      error.hidden = true;
      const update = changes();
      const auto = controls.auto;
      if (auto && update.auto_lock_seconds) {
        const value = update.auto_lock_seconds;
        if (!Number.isInteger(value) || value < auto.min || value > auto.max) {
          error.textContent = t('settings.auto_lock_range', { min: auto.min, max: auto.max });
          error.hidden = false;
          auto.seconds.focus();
          return;
        }
      }
      setBusy(save, true);
      try {
        const result = await call('settings.set', { lock_id: id, ...update }, SAVE_TIMEOUT);
        saved = result && typeof result === 'object' ? result : { ...saved, ...update };
        status.hidden = false;
        save.disabled = true;
        save.removeAttribute('aria-busy');
        save.querySelector('.spinner')?.remove();
      } catch (failure) {
        setBusy(save, false);
        error.textContent = failure.message;
        error.hidden = false;
        toast(failure.message, failure.code);
      }
    });
    replace(body, form);
  }

  async function load() {
    try {
      build(await call('settings.get', { lock_id: id }, SAVE_TIMEOUT));
    } catch (failure) {
      toast(failure.message, failure.code);
      replace(body, h('p', { class: 'form-error' }, t('settings.load_failed')),
        h('button', { type: 'button', class: 'btn small', onclick: load }, t('action.retry')));
    }
  }
  load();
  return card;
}

function renameCard(id) {
  const input = h('input', { type: 'text', test: 'rename-input', maxlength: 64, value: state.locks.get(id)?.name || '', autocomplete: 'off' });
  const save = h('button', { type: 'submit', class: 'btn', test: 'rename-save' }, t('settings.rename'));
  const form = h('form', { class: 'inline-form', novalidate: true }, field(t('settings.name'), input), save);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const name = input.value.trim();
    if (!name) return;
    setBusy(save, true);
    try {
      const lock = await lockVerb('lock.rename', { lock_id: id, name });
      notice(t('settings.renamed', { name: lock?.name || name }));
    } catch (failure) {
      toast(failure.message, failure.code);
    } finally {
      setBusy(save, false);
    }
  });
  return h('section', { class: 'card pad' }, h('h2', { class: 'card-title' }, t('settings.name_title')), form);
}

function pinCard(id) {
  const input = h('input', { type: 'password', test: 'set-pin-input', inputmode: 'numeric', autocomplete: 'off', maxlength: 8 });
  const save = h('button', { type: 'submit', class: 'btn', test: 'set-pin-save' }, t('action.save'));
  const form = h('form', { class: 'inline-form', novalidate: true }, field(t('settings.pin'), input), save);
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    const pin = input.value.trim();
    if (!/^\d{4,8}$/.test(pin)) {
      error.textContent = t('settings.pin_invalid');
      error.hidden = false;
      return;
    }
    setBusy(save, true);
    try {
      await call('lock.set_pin', { lock_id: id, pin }, SAVE_TIMEOUT);
      input.value = '';
      notice(t('settings.pin_saved'));
    } catch (failure) {
      toast(failure.message, failure.code);
    } finally {
      setBusy(save, false);
    }
  });
  return h('section', { class: 'card pad' }, h('h2', { class: 'card-title' }, t('settings.pin_title')),
    h('p', { class: 'muted' }, t('settings.pin_text')), form, error);
}

/** Mount the settings tab for params {id}; returns {unmount}. */
export function mount(panel, params) {
  const id = params.id;
  const lock = state.locks.get(id);
  const removeButton = h('button', { type: 'button', class: 'btn danger-outline', test: 'remove-open' }, icon('trash'), t('remove.open'));
  removeButton.addEventListener('click', () => openRemoveDialog(panel, id));
  panel.append(h('div', { class: 'settings-grid' },
    settingsForm(id),
    h('div', { class: 'stack' },
      renameCard(id),
      lock?.brand === 'nuki' ? pinCard(id) : null,
      h('section', { class: 'card pad danger-zone' }, h('h2', { class: 'card-title' }, t('remove.title')),
        h('p', { class: 'muted' }, t('remove.text')), removeButton))));
  return { unmount() {} };
}

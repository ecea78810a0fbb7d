// The pair dialog: name, Nuki PIN and role, progress while pairing, the server's error inline.

import { field, h, openDialog, show } from '../dom.js';
import { icon } from '../icons.js';
import { has, t, tv } from '../i18n.js';
import { call } from '../net.js';
import { setLock } from '../store.js';
import { notice, toast } from '../toast.js';

const PAIR_TIMEOUT = 90000;

/** The steps that make a lock of `brand` pairable, as a list. */
export function brandSteps(brand) {
  const keys = brand === 'nuki'
    ? ['steps.nuki.app', 'steps.nuki.button', 'steps.nuki.pin']
    : ['steps.ttlock.reset', 'steps.ttlock.wake'];
  return h('ol', { class: 'steps' }, keys.map((key) => h('li', {}, t(key))));
}

/** A discovery's model in words (discovery models are codes like 'door_lock'). */
export function modelName(discovery) {
  return has(`model.${discovery.model}`) ? tv('model', discovery.model) : discovery.model;
}

/** Open the pair dialog for `discovery` inside `parent`. */
export function openPairDialog(parent, discovery) {
  const nuki = discovery.brand === 'nuki';
  const fiveG = discovery.model === 'smart_lock_5g';
  const titleId = `pair-title-${discovery.address.replaceAll(':', '')}`;
  let busy = false;

  const name = h('input', { type: 'text', test: 'pair-name', maxlength: 64, autocomplete: 'off', placeholder: discovery.name, autofocus: true });
  const pin = nuki ? h('input', {
    type: 'password', test: 'pair-pin', inputmode: 'numeric', autocomplete: 'off', maxlength: 8,
    required: fiveG,
  }) : null;
  const role = nuki ? h('select', { test: 'pair-as' },
    h('option', { value: 'bridge', selected: true }, t('pair.as_bridge')),
    h('option', { value: 'app' }, t('pair.as_app'))) : null;
  const progress = h('div', { class: 'progress-line', test: 'pair-progress', role: 'status', hidden: true },
    h('span', { class: 'spinner big' }), h('span', {}, t('pair.progress')));
  const error = h('p', { class: 'form-error', test: 'pair-error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn primary', test: 'pair-submit' }, icon('bluetooth'), t('pair.submit'));
  const cancel = h('button', { type: 'button', class: 'btn', onclick: () => dlg.close() }, t('action.cancel'));

  const form = h('form', { class: 'dialog-body', novalidate: true },
    h('h2', { id: titleId }, t('pair.title', { name: discovery.name })),
    h('p', { class: 'muted' }, [tv('brand', discovery.brand), modelName(discovery), discovery.address].join(' · ')),
    h('details', { class: 'help', open: discovery.hint !== 'ready' },
      h('summary', {}, t('pair.steps_title')), brandSteps(discovery.brand)),
    field(t('pair.name'), name, t('pair.name_hint')),
    nuki ? field(t('pair.pin'), pin, t(fiveG ? 'pair.pin_hint_5g' : 'pair.pin_hint')) : null,
    nuki ? field(t('pair.as'), role) : null,
    nuki ? h('div', { class: 'explain' },
      h('p', {}, h('strong', {}, t('pair.as_bridge')), ' — ', t('pair.bridge_text')),
      h('p', {}, h('strong', {}, t('pair.as_app')), ' — ', t('pair.app_text'))) : null,
    progress, error,
    h('div', { class: 'dialog-actions' }, cancel, submit));

  const dlg = h('dialog', { class: 'dialog', test: 'pair-dialog', 'aria-labelledby': titleId }, form);

  function setBusy(value) {
    busy = value;
    show(progress, value);
    for (const el of form.querySelectorAll('input, select, button')) el.disabled = value;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    show(error, false);
    const params = { address: discovery.address, brand: discovery.brand };
    if (name.value.trim()) params.name = name.value.trim();
    if (nuki) {
      const code = pin.value.trim();
      if (code && !/^\d{4,8}$/.test(code)) {
        error.textContent = t('pair.pin_invalid');
        show(error, true);
        pin.focus();
        return;
      }
      if (code) params.pin = code;
      params.pair_as = role.value;
    }
    setBusy(true);
    try {
      const snapshot = await call('lock.pair', params, PAIR_TIMEOUT);
      setLock(snapshot);
      dlg.close();
      notice(t('pair.done', { name: snapshot?.name || discovery.name }));
      location.hash = '#/locks';
    } catch (failure) {
      setBusy(false);
      error.textContent = failure.message;
      error.dataset.code = failure.code;
      show(error, true);
      toast(failure.message, failure.code);
    }
  });

  openDialog(parent, dlg, { onCancel: () => !busy });
}

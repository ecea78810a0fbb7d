// Add a lock: discovery scan with its state, the live list of found locks and their hints.

import { h, replace, setBusy } from '../dom.js';
import { icon, signalBars } from '../icons.js';
import { has, t, tn, tv } from '../i18n.js';
import { call } from '../net.js';
import { on, state } from '../store.js';
import { toast } from '../toast.js';
import { brandSteps, modelName, openPairDialog } from './pair.js';

const SCAN_SECONDS = 60;

function hintText(discovery) {
  const key = `hint.${discovery.brand}.${discovery.hint}`;
  return has(key) ? t(key) : tv('hint', discovery.hint);
}

function discoveryItem(root, discovery) {
  const ready = discovery.hint === 'ready';
  const rssi = discovery.rssi === null || discovery.rssi === undefined ? '—' : `${discovery.rssi} dBm`;
  return h('li', { class: 'card disc', test: 'discovery', 'data-address': discovery.address, 'data-brand': discovery.brand },
    h('div', { class: 'disc-head' },
      h('div', { class: `lc-badge brand-${discovery.brand}` }, icon('bluetooth')),
      h('div', { class: 'lc-title' },
        h('h3', { class: 'lc-name' }, discovery.name),
        h('p', { class: 'lc-sub' }, `${tv('brand', discovery.brand)} · ${modelName(discovery)}`),
        h('p', { class: 'lc-sub mono' }, discovery.address)),
      h('span', { class: 'meta disc-rssi', title: t('lock.signal') }, signalBars(discovery.rssi), rssi)),
    h('p', { class: `hint-box ${ready ? 'ready' : 'wait'}`, test: 'discovery-hint', 'data-hint': discovery.hint },
      icon(ready ? 'check' : discovery.hint === 'reset_lock' ? 'alert' : discovery.brand === 'nuki' ? 'hand' : 'keypad'),
      h('span', {}, hintText(discovery))),
    h('div', { class: 'disc-actions' },
      h('button', {
        type: 'button', class: `btn ${ready ? 'primary' : ''}`, test: 'btn-pair',
        onclick: () => openPairDialog(root, discovery),
      }, icon('plus'), t('add.pair'))));
}

/** Mount the add view into `root`; returns the unmount function. */
export function mount(root) {
  const start = h('button', { type: 'button', class: 'btn primary', test: 'scan-start' }, icon('radar'), h('span', { class: 'label' }));
  const stop = h('button', { type: 'button', class: 'btn', test: 'scan-stop' }, icon('stop'), t('add.stop'));
  const status = h('p', { class: 'scan-state', test: 'scan-state', role: 'status' });
  const meter = h('div', { class: 'meter', 'aria-hidden': 'true' }, h('span'));
  const list = h('ul', { class: 'grid disc-list', 'aria-live': 'polite' });
  const empty = h('div', { class: 'empty small' });

  root.append(
    h('h1', { class: 'view-title', tabindex: '-1' }, t('add.title')),
    h('section', { class: 'card scan-card' },
      h('p', {}, t('add.intro')),
      h('div', { class: 'row' }, start, stop),
      status, meter),
    h('details', { class: 'card help' },
      h('summary', {}, t('add.help_title')),
      h('div', { class: 'help-cols' },
        h('div', {}, h('h3', {}, 'TTLock'), brandSteps('ttlock')),
        h('div', {}, h('h3', {}, 'Nuki'), brandSteps('nuki')))),
    h('h2', { class: 'section-title' }, t('add.found')),
    list, empty);

  start.addEventListener('click', async () => {
    setBusy(start, true);
    try {
      applyScan(await call('scan.start', { seconds: SCAN_SECONDS }));
    } catch (error) {
      toast(error.message, error.code);
    } finally {
      setBusy(start, false);
    }
  });
  stop.addEventListener('click', async () => {
    setBusy(stop, true);
    try {
      applyScan(await call('scan.stop'));
    } catch (error) {
      toast(error.message, error.code);
    } finally {
      setBusy(stop, false);
      renderScan();
    }
  });

  function applyScan(scan) {
    if (scan && typeof scan === 'object') {
      state.scan = { ...state.scan, ...scan };
      renderScan();
    }
  }

  function remaining() {
    const until = state.scan.until ? Date.parse(state.scan.until) : NaN;
    return Number.isNaN(until) ? null : Math.max(0, Math.round((until - Date.now()) / 1000));
  }

  function renderScan() {
    const scan = state.scan;
    const left = remaining();
    const active = scan.discovering && left !== 0;
    status.dataset.state = active ? 'scanning' : 'idle';
    start.querySelector('.label').textContent = active ? t('add.restart') : t('add.start');
    if (!start.hasAttribute('aria-busy')) start.disabled = false;
    if (!stop.hasAttribute('aria-busy')) stop.disabled = !active;
    if (scan.error) status.textContent = t('add.scan_error', { error: scan.error });
    else if (active && left !== null) status.textContent = tn('add.scanning_left', left);
    else if (active) status.textContent = t('add.scanning');
    else status.textContent = t('add.idle');
    status.classList.toggle('error', Boolean(scan.error));
    meter.hidden = !(active && left !== null);
    meter.firstChild.style.setProperty('width', `${left === null ? 0 : (100 * left) / SCAN_SECONDS}%`);
    renderEmpty();
  }

  function renderEmpty() {
    const none = !state.discoveries.length;
    empty.hidden = !none;
    if (none) {
      const active = state.scan.discovering && remaining() !== 0;
      replace(empty, active ? h('span', { class: 'spinner' }) : icon('radar'),
        h('span', {}, t(active ? 'add.listening' : 'add.none')));
    }
  }

  function renderList() {
    const focused = document.activeElement?.closest?.('[data-test=discovery]')?.dataset.address;
    replace(list, state.discoveries.map((discovery) => discoveryItem(root, discovery)));
    if (focused) list.querySelector(`[data-address="${CSS.escape(focused)}"] [data-test=btn-pair]`)?.focus();
    renderEmpty();
  }

  const offs = [on('scan', renderScan), on('discoveries', renderList)];
  const ticker = setInterval(renderScan, 1000);
  renderScan();
  renderList();
  return () => {
    clearInterval(ticker);
    offs.forEach((off) => off());
  };
}

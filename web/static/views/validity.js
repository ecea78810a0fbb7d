// Validity in words ("Mon–Fri 08:00–17:00, 1 Jan – 31 Dec") and the validity editor.

import { field, h, nextId } from '../dom.js';
import { formatDate, formatDateTime, t } from '../i18n.js';

export const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const TYPE_CAPS = { period: 'validity_period', once: 'validity_once', weekly: 'validity_weekly' };

/** A naive lock-local ISO time ('2025-03-01T08:00') as a local Date, or null. */
export function parseLocal(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(text || '');
  return m ? new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]) : null;
}

function localIso(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function daysText(days) {
  const set = new Set(days);
  if (set.size === 7) return t('days.every');
  const parts = [];
  let i = 0;
  while (i < 7) {
    if (!set.has(DAYS[i])) {
      i += 1;
      continue;
    }
    let j = i;
    while (j + 1 < 7 && set.has(DAYS[j + 1])) j += 1;
    if (j - i >= 2) parts.push(`${t(`day.${DAYS[i]}`)}–${t(`day.${DAYS[j]}`)}`);
    else for (let k = i; k <= j; k += 1) parts.push(t(`day.${DAYS[k]}`));
    i = j + 1;
  }
  return parts.join(', ');
}

function dateRange(fromText, untilText) {
  const from = parseLocal(fromText);
  const until = parseLocal(untilText);
  const year = new Date().getFullYear();
  const withYear = (from && from.getFullYear() !== year) || (until && until.getFullYear() !== year)
    || (from && until && from.getFullYear() !== until.getFullYear());
  if (from && until) return `${formatDate(from, withYear)} – ${formatDate(until, withYear)}`;
  if (from) return t('validity.starting', { date: formatDate(from, withYear) });
  if (until) return t('validity.ending', { date: formatDate(until, withYear) });
  return '';
}

/** A validity in words. */
export function describeValidity(validity) {
  const v = validity || { type: 'permanent' };
  const when = (text) => {
    const date = parseLocal(text);
    return date ? formatDateTime(date) : '?';
  };
  if (v.type === 'period') return `${when(v.from)} – ${when(v.until)}`;
  if (v.type === 'once') return t('validity.once_text', { from: when(v.from), until: when(v.until) });
  if (v.type === 'weekly') {
    const base = `${daysText(v.days || [])} ${v.from_time}–${v.until_time}`;
    const range = dateRange(v.from, v.until);
    return range ? `${base}, ${range}` : base;
  }
  return t('validity.permanent');
}

/** The validity types a lock with `caps` supports (permanent always). */
export function validityTypes(caps) {
  return ['permanent', ...Object.keys(TYPE_CAPS).filter((type) => caps.has(TYPE_CAPS[type]))];
}

/** The validity editor; returns {el, read()} where read() gives the validity or throws an Error. */
export function validityEditor(caps, initial) {
  const types = validityTypes(caps);
  const start = initial && types.includes(initial.type) ? initial : { type: 'permanent' };
  const select = h('select', { test: 'validity-type' },
    types.map((type) => h('option', { value: type, selected: type === start.type }, t(`validity.type.${type}`))));
  const from = h('input', { type: 'datetime-local', test: 'validity-from', value: start.from || '' });
  const until = h('input', { type: 'datetime-local', test: 'validity-until', value: start.until || '' });
  const fromTime = h('input', { type: 'time', test: 'validity-from-time', value: start.from_time || '08:00' });
  const untilTime = h('input', { type: 'time', test: 'validity-until-time', value: start.until_time || '17:00' });
  const days = new Set(start.days || []);
  const boxes = DAYS.map((day) => h('input', { type: 'checkbox', test: `validity-day-${day}`, value: day, checked: days.has(day), id: nextId('d') }));
  const legend = h('legend', {}, t('validity.days'));
  const dayset = h('fieldset', { class: 'days' }, legend,
    boxes.map((box, i) => h('label', { class: 'day', for: box.id, title: t(`day.${DAYS[i]}.long`) }, box, h('span', {}, t(`day.${DAYS[i]}`)))));
  const fromField = field('', from);
  const untilField = field('', until);
  const weekly = h('div', { class: 'weekly' }, dayset,
    h('div', { class: 'pair' }, field(t('validity.from_time'), fromTime), field(t('validity.until_time'), untilTime)));
  const range = h('div', { class: 'pair' }, fromField, untilField);
  const help = h('p', { class: 'hint' });
  const el = h('fieldset', { class: 'validity' }, h('legend', {}, t('validity.title')),
    field(t('validity.type'), select), help, weekly, range);

  function sync() {
    const type = select.value;
    weekly.hidden = type !== 'weekly';
    range.hidden = type === 'permanent';
    help.textContent = t(`validity.help.${type}`);
    const optional = type === 'weekly';
    fromField.querySelector('label').textContent = t(optional ? 'validity.from_optional' : 'validity.from');
    untilField.querySelector('label').textContent = t(optional ? 'validity.until_optional' : 'validity.until');
    if ((type === 'period' || type === 'once') && !from.value && !until.value) {
      const now = new Date();
      now.setMinutes(0, 0, 0);
      from.value = localIso(now);
      const end = new Date(now);
      end.setDate(end.getDate() + (type === 'once' ? 1 : 7));
      until.value = localIso(end);
    }
  }
  select.addEventListener('change', sync);
  sync();

  function read() {
    const type = select.value;
    if (type === 'permanent') return { type };
    const a = from.value || null;
    const b = until.value || null;
    if (a && b && parseLocal(a) >= parseLocal(b)) throw new Error(t('validity.error_order'));
    if (type !== 'weekly') {
      if (!a || !b) throw new Error(t('validity.error_range'));
      return { type, from: a, until: b };
    }
    const chosen = boxes.filter((box) => box.checked).map((box) => box.value);
    if (!chosen.length) throw new Error(t('validity.error_days'));
    if (!fromTime.value || !untilTime.value) throw new Error(t('validity.error_times'));
    return { type, days: chosen, from_time: fromTime.value.slice(0, 5), until_time: untilTime.value.slice(0, 5), from: a, until: b };
  }

  return { el, read };
}

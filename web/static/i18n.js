// Language choice, string lookup with {placeholders}, plurals, dates and relative times.

const SUPPORTED = ['en', 'de'];

function pick() {
  for (const tag of navigator.languages || [navigator.language]) {
    const base = String(tag || '').slice(0, 2).toLowerCase();
    if (SUPPORTED.includes(base)) return base;
  }
  const server = document.documentElement.dataset.lang;
  return SUPPORTED.includes(server) ? server : 'en';
}

/** The UI language, 'en' or 'de'. */
export const lang = pick();
const table = (await import(`./i18n/${lang}.js`)).default;
const plurals = new Intl.PluralRules(lang);
const relative = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });

/** The string for `key` with {name} placeholders filled from `vars`. */
export function t(key, vars) {
  const text = table[key] ?? key;
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (match, name) => (name in vars ? String(vars[name]) : match));
}

/** Whether the table has `key` (for optional, data-driven strings). */
export function has(key) {
  return key in table;
}

/** A counted string: looks up `key.one` / `key.other` and fills {n}. */
export function tn(key, n, vars = {}) {
  const form = plurals.select(n);
  const full = has(`${key}.${form}`) ? `${key}.${form}` : `${key}.other`;
  return t(full, { n, ...vars });
}

/** A translated value from a family of keys ('status.locked'), falling back to the raw value. */
export function tv(prefix, value) {
  const key = `${prefix}.${value}`;
  return has(key) ? table[key] : String(value ?? '');
}

/** Date and time, e.g. "3 Mar 2025, 14:05" (year only when not this year). */
export function formatDateTime(date) {
  const sameYear = date.getFullYear() === new Date().getFullYear();
  return new Intl.DateTimeFormat(lang, {
    day: 'numeric', month: 'short', year: sameYear ? undefined : 'numeric',
    hour: '2-digit', minute: '2-digit', hour12: false,
  }).format(date);
}

/** A day, e.g. "1 Jan" or "1 Jan 2026". */
export function formatDate(date, withYear) {
  return new Intl.DateTimeFormat(lang, {
    day: 'numeric', month: 'short', year: withYear ? 'numeric' : undefined,
  }).format(date);
}

/** "just now", "2 minutes ago", "yesterday"... for a past moment. */
export function formatRelative(date) {
  const seconds = Math.round((date.getTime() - Date.now()) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return t('time.just_now');
  if (abs < 3600) return relative.format(Math.round(seconds / 60), 'minute');
  if (abs < 86400) return relative.format(Math.round(seconds / 3600), 'hour');
  return relative.format(Math.round(seconds / 86400), 'day');
}

/** Relative for today, else date and time. */
export function formatWhen(date) {
  const now = new Date();
  const today = date.toDateString() === now.toDateString();
  return today && date <= now ? formatRelative(date) : formatDateTime(date);
}

/** Fill every [data-i18n] element's text (static parts of the page). */
export function translatePage(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-label]')) {
    el.setAttribute('aria-label', t(el.dataset.i18nLabel));
  }
}

/** A <time> element kept current by the page's ticker ('rel': always relative, else formatWhen). */
export function timeElement(iso, style = 'when') {
  const el = document.createElement('time');
  el.dateTime = iso;
  el.dataset.rel = style;
  updateTime(el);
  return el;
}

/** Refresh one <time data-rel> element's text and title. */
export function updateTime(el) {
  const date = new Date(el.dateTime);
  if (Number.isNaN(date.getTime())) return;
  el.textContent = el.dataset.rel === 'rel' ? formatRelative(date) : formatWhen(date);
  el.title = formatDateTime(date);
}

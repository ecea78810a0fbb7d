// Entry: page shell (navigation, connection indicator), hash routing, the clock ticker.

import { replace } from './dom.js';
import { icon } from './icons.js';
import { t, translatePage, updateTime, lang } from './i18n.js';
import { conn, retryNow, start } from './net.js';
import { on, state } from './store.js';
import { toast } from './toast.js';

// Views load on first use, so the first page load stays small.
const ROUTES = [
  [/^\/locks$/, 'locks', () => import('./views/locks.js'), () => ({})],
  [/^\/add$/, 'add', () => import('./views/add.js'), () => ({})],
  [/^\/backup$/, 'backup', () => import('./views/backup.js'), () => ({})],
  [/^\/lock\/([^/]+)(?:\/([a-z]+))?(?:\/([a-z]+))?$/, 'locks', () => import('./views/detail.js'),
    (m) => ({ id: decodeURIComponent(m[1]), tab: m[2], sub: m[3] })],
];
const NAV_ICONS = { locks: 'lock', add: 'plus', backup: 'shield' };

const main = document.getElementById('main');
let mounted = null;

function resolve() {
  const path = location.hash.replace(/^#/, '');
  for (const [pattern, nav, view, params] of ROUTES) {
    const match = pattern.exec(path);
    if (match) return { nav, view, params: params(match), key: match[1] ? `lock:${match[1]}` : path };
  }
  return null;
}

let routeSeq = 0;

async function route() {
  const seq = ++routeSeq;
  const found = resolve();
  if (!found) {
    history.replaceState(null, '', `${location.pathname}${location.search}#/locks`);
    route();
    return;
  }
  for (const link of document.querySelectorAll('.nav a')) {
    if (link.dataset.nav === found.nav) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (mounted && mounted.key === found.key && mounted.handle.update) {
    mounted.handle.update(found.params);
    return;
  }
  const hadFocusInMain = main.contains(document.activeElement) || document.activeElement?.closest?.('.nav');
  let module;
  try {
    module = await found.view();
  } catch (error) {
    toast(t('error.load_view'), 'disconnected');
    return;
  }
  if (seq !== routeSeq) return;
  if (mounted) mounted.handle.unmount();
  replace(main);
  document.title = `${t(`nav.${found.nav}`)} · ${t('app.title')}`;
  const result = module.mount(main, found.params);
  const handle = typeof result === 'function' ? { unmount: result } : result;
  mounted = { key: found.key, handle };
  // Move focus to the new view's heading after a navigation by the user (not on first load).
  if (hadFocusInMain) main.querySelector('h1, h2, [tabindex="-1"]')?.focus?.({ preventScroll: true });
  window.scrollTo(0, 0);
}

function shell() {
  document.documentElement.lang = lang;
  translatePage();
  const nav = document.querySelector('.nav');
  for (const link of nav.querySelectorAll('a')) link.prepend(icon(NAV_ICONS[link.dataset.nav]));
  document.querySelector('.brand').prepend(icon('lock', 'brand-icon'));

  const indicator = document.querySelector('[data-test=conn]');
  const label = indicator.querySelector('.conn-label');
  indicator.addEventListener('click', () => retryNow());
  on('conn', () => {
    indicator.dataset.state = conn.state;
    label.textContent = conn.state === 'closed'
      ? t('conn.closed', { s: Math.round(conn.retryMs / 1000) }) : t(`conn.${conn.state}`);
    indicator.title = conn.state === 'closed' ? t('conn.retry') : label.textContent;
    indicator.disabled = conn.state !== 'closed';
  });
  const footer = document.querySelector('.footer');
  on('hello', () => {
    const who = state.user?.display_name || state.user?.name || document.documentElement.dataset.user;
    replace(footer, `${t('app.title')} ${state.version}`, who ? ` · ${t('app.user', { name: who })}` : '');
  });

  // In-page links are hashes; resolving them against <base href> could load another URL.
  document.addEventListener('click', (event) => {
    const link = event.target.closest?.('a[href^="#"]');
    if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    event.preventDefault();
    const hash = link.getAttribute('href');
    if (location.hash !== hash) location.hash = hash;
  });
  window.addEventListener('hashchange', route);
  setInterval(() => {
    for (const el of document.querySelectorAll('time[data-rel]')) updateTime(el);
  }, 15000);
}

shell();
route();
start();

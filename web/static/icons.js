// Inline SVG icons (24x24 stroke drawings) and the dynamic battery, signal and ring graphics.

const NS = 'http://www.w3.org/2000/svg';
const BODY = 'M6 11h12a1 1 0 0 1 1 1v8a1 1 0 0 1-1 1H6a1 1 0 0 1-1-1v-8a1 1 0 0 1 1-1zM12 15v2';
const CIRCLE = 'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z';

const PATHS = {
  lock: `M8 11V7a4 4 0 0 1 8 0v4${BODY}`,
  unlock: `M8 11V7a4 4 0 0 1 7.75-1.4${BODY}`,
  open: 'M3 21h18M6 21V3h8M14 3l5 2v14l-5 2zM16.5 12v.01',
  door: 'M6 21V3h12v18M4 21h16M14.5 12v.01',
  alert: 'M12 3 2 20h20zM12 10v4M12 17v.01',
  unknown: `${CIRCLE}M9.5 9.5a2.5 2.5 0 1 1 3.5 2.3c-.6.3-1 .9-1 1.6v.3M12 17v.01`,
  sync: 'M4 12a8 8 0 0 1 13.7-5.7L20 8.5M20 4v4.5h-4.5M20 12a8 8 0 0 1-13.7 5.7L4 15.5M4 20v-4.5h4.5',
  plus: 'M12 5v14M5 12h14',
  close: 'M6 6l12 12M18 6 6 18',
  back: 'M15 5l-7 7 7 7',
  next: 'M9 5l7 7-7 7',
  radar: 'M12 13a1 1 0 1 0 0-2 1 1 0 0 0 0 2zM16.2 7.8a6 6 0 0 1 0 8.4M7.8 16.2a6 6 0 0 1 0-8.4M19 5a10 10 0 0 1 0 14M5 19A10 10 0 0 1 5 5',
  stop: 'M7 7h10v10H7z',
  trash: 'M4 7h16M10 11v6M14 11v6M6 7l1 13a1 1 0 0 0 1 1h8a1 1 0 0 0 1-1l1-13M9 7V4h6v3',
  edit: 'M4 20h4L19 9l-4-4L4 16zM13.5 6.5l4 4',
  keypad: 'M6 4.5v.01M12 4.5v.01M18 4.5v.01M6 9.5v.01M12 9.5v.01M18 9.5v.01M6 14.5v.01M12 14.5v.01M18 14.5v.01M12 19.5v.01',
  card: 'M5 5h14a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V7a2 2 0 0 1 2-2zM3 10h18M7 15h4',
  fingerprint: 'M12 11v2.5c0 2.2.6 4.3 1.7 6M8.7 8.8A4.5 4.5 0 0 1 16.5 12v1.5c0 1.4-.2 2.8-.6 4M7.5 12v1.5c0 1.9-.5 3.6-1.5 5M9.8 20.5c.8-1.9 1.2-4 1.2-6M4.8 8.5a8.5 8.5 0 0 1 15.7 3.5M19.5 15.5v.01',
  settings: 'M4 7h8M16 7h4M4 17h4M12 17h8M14 5v4M10 15v4',
  activity: 'M3 12a9 9 0 1 0 2.6-6.4L3 8M3 4v4h4M12 7v5l3 2',
  clock: `${CIRCLE}M12 7v5l3 2`,
  download: 'M12 4v11M7 10l5 5 5-5M5 20h14',
  upload: 'M12 15V4M7 9l5-5 5 5M5 20h14',
  check: 'M5 12.5l4.5 4.5L19 7.5',
  user: 'M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM4 21a8 8 0 0 1 16 0',
  key: 'M7.5 20.5a4.5 4.5 0 1 0 0-9 4.5 4.5 0 0 0 0 9zM10.7 13.3 20 4M17 7l3 3M14.5 9.5l2.5 2.5',
  shield: 'M12 3l8 3v6c0 4.8-3.4 8-8 9-4.6-1-8-4.2-8-9V6z',
  info: `${CIRCLE}M12 11v5M12 8v.01`,
  offline: 'M7 7l10 10-5 5v-8M12 9V2l5 5-2 2M3 3l18 18',
  bluetooth: 'M7 7l10 10-5 5V2l5 5L7 17',
  power: 'M12 3v8M7 5.5a8 8 0 1 0 10 0',
  hand: 'M8 13V5.5a1.5 1.5 0 0 1 3 0V12M11 11.5v-2a1.5 1.5 0 0 1 3 0V12M14 10.5a1.5 1.5 0 0 1 3 0V12M17 11.5a1.5 1.5 0 0 1 3 0V16a6 6 0 0 1-6 6h-2c-2.3 0-3.7-.9-5-2.5l-3-4a1.5 1.5 0 0 1 2.3-2L8 15',
};

function svg(cls, viewBox = '0 0 24 24') {
  const el = document.createElementNS(NS, 'svg');
  el.setAttribute('viewBox', viewBox);
  el.setAttribute('aria-hidden', 'true');
  el.setAttribute('focusable', 'false');
  el.setAttribute('class', cls);
  return el;
}

function shape(tag, attrs) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/** A stroke icon by name (unknown names draw the question mark). */
export function icon(name, extra = '') {
  const el = svg(`icon i-${name} ${extra}`.trim());
  el.append(shape('path', { d: PATHS[name] || PATHS.unknown }));
  return el;
}

/** A battery gauge filled to `percent` (null: empty outline). */
export function batteryIcon(percent) {
  const el = svg('icon battery');
  el.append(shape('path', { d: 'M4 7h14a2 2 0 0 1 2 2v6a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V9a2 2 0 0 1 2-2zM22.5 10.5v3' }));
  if (percent !== null && percent !== undefined) {
    const width = Math.max(1, Math.round((14 * Math.min(100, Math.max(0, percent))) / 100));
    el.append(shape('rect', { class: 'fill', x: 4, y: 9, width, height: 6, rx: 1 }));
  }
  return el;
}

/** Signal bars (0..4) for an RSSI in dBm. */
export function signalBars(rssi) {
  const bars = rssi === null || rssi === undefined ? 0
    : rssi >= -60 ? 4 : rssi >= -70 ? 3 : rssi >= -80 ? 2 : rssi >= -90 ? 1 : 0;
  const el = svg('icon signal');
  for (let i = 0; i < 4; i += 1) {
    const height = 5 + i * 4;
    el.append(shape('rect', { class: i < bars ? 'on' : 'off', x: 3 + i * 5, y: 21 - height, width: 3.2, height, rx: 1 }));
  }
  return el;
}

/** A progress ring; returns {el, set(fraction)}. */
export function ring() {
  const el = svg('ring', '0 0 120 120');
  const radius = 52;
  const length = 2 * Math.PI * radius;
  el.append(shape('circle', { class: 'track', cx: 60, cy: 60, r: radius }));
  const bar = shape('circle', {
    class: 'bar', cx: 60, cy: 60, r: radius,
    'stroke-dasharray': length.toFixed(2), 'stroke-dashoffset': length.toFixed(2),
  });
  el.append(bar);
  return {
    el,
    set(fraction) {
      const clamped = Math.min(1, Math.max(0, fraction));
      bar.setAttribute('stroke-dashoffset', (length * (1 - clamped)).toFixed(2));
    },
  };
}

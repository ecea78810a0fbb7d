// Tiny DOM helpers: element builder, clearing, dialogs with focus return.

const PROPS = new Set(['value', 'checked', 'disabled', 'hidden', 'selected', 'indeterminate']);

/** Build an element: h('button', {class: 'btn', test: 'x', onclick: fn}, 'Text', child). */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [key, value] of Object.entries(props)) {
      if (value === null || value === undefined || value === false) continue;
      if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
      else if (key === 'class') el.className = value;
      else if (key === 'text') el.textContent = value;
      else if (key === 'test') el.dataset.test = value;
      else if (PROPS.has(key)) el[key] = value;
      else el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

/** Append strings, nodes and (nested) arrays; null and false are skipped. */
export function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** Replace all children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** Show or hide an element by the `hidden` property. */
export function show(el, visible) {
  el.hidden = !visible;
}

let uid = 0;
/** A document-unique id for label/aria wiring. */
export function nextId(prefix = 'id') {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** A labelled form field: <label for> + control + optional hint. */
export function field(label, control, hint) {
  if (!control.id) control.id = nextId('f');
  const hintEl = hint ? h('p', { class: 'hint', id: nextId('h') }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: control.id }, label), control, hintEl);
}

/** A checkbox styled as a switch, with its label (and optional description). */
export function toggle(label, input, desc) {
  input.type = 'checkbox';
  input.classList.add('switch');
  if (!input.id) input.id = nextId('t');
  return h(
    'div',
    { class: 'toggle' },
    h('label', { for: input.id }, h('span', { class: 'toggle-label' }, label),
      desc ? h('span', { class: 'hint' }, desc) : null),
    input,
  );
}

/**
 * Open `dlg` as a modal inside `parent`; focus returns to the opener and the element is
 * removed on close. `onCancel` may return false to keep the dialog open (Escape while busy).
 */
export function openDialog(parent, dlg, { onCancel } = {}) {
  const opener = document.activeElement;
  dlg.addEventListener('cancel', (event) => {
    if (onCancel && onCancel() === false) event.preventDefault();
  });
  dlg.addEventListener('close', () => {
    dlg.remove();
    if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
  });
  parent.append(dlg);
  dlg.showModal();
  const first = dlg.querySelector('[autofocus]');
  if (first) first.focus();
  return dlg;
}

/** Set a button's busy state: aria-busy, a spinner, and (unless `keep`) disabled. */
export function setBusy(button, busy, keep = false) {
  if (busy) {
    button.setAttribute('aria-busy', 'true');
    if (!button.querySelector('.spinner')) button.prepend(h('span', { class: 'spinner', 'aria-hidden': 'true' }));
  } else {
    button.removeAttribute('aria-busy');
    button.querySelector('.spinner')?.remove();
  }
  if (!keep) button.disabled = busy;
}

/** Ask a yes/no question in a modal; resolves true when confirmed. */
export function confirmDialog(parent, { title, text, confirm, cancel, danger = false, test = 'confirm-dialog' }) {
  return new Promise((resolve) => {
    let answer = false;
    const titleId = nextId('c');
    const dlg = h('dialog', { class: 'dialog small', test, 'aria-labelledby': titleId },
      h('form', { method: 'dialog', class: 'dialog-body' },
        h('h2', { id: titleId }, title),
        h('p', {}, text),
        h('div', { class: 'dialog-actions' },
          h('button', { type: 'submit', class: 'btn', value: 'no', autofocus: true, test: 'confirm-no' }, cancel),
          h('button', {
            type: 'submit', class: `btn ${danger ? 'danger' : 'primary'}`, value: 'yes', test: 'confirm-yes',
            onclick: () => { answer = true; },
          }, confirm))));
    dlg.addEventListener('close', () => resolve(answer));
    openDialog(parent, dlg);
  });
}

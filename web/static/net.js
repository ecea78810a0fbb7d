// The one connection of the page, wired to the store, plus call helpers for the views.

import { createConnection } from './ws.js';
import { emit, handlePush, setLock } from './store.js';
import { toast } from './toast.js';

export const conn = { state: 'connecting', retryMs: 0 };

const connection = createConnection({
  onState(next, retryMs = 0) {
    conn.state = next;
    conn.retryMs = retryMs;
    emit('conn', conn);
  },
  onPush: handlePush,
});

/** Connect (once, at start-up). */
export function start() {
  connection.connect();
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') connection.retryNow();
  });
}

/** Reconnect now if the socket is closed. */
export const retryNow = () => connection.retryNow();

/** A request; rejects with ApiError. */
export function call(type, params = {}, timeout) {
  return connection.request(type, params, timeout);
}

/** A request whose failure becomes a toast; resolves to the result or undefined. */
export async function callOrToast(type, params = {}, timeout) {
  try {
    return await call(type, params, timeout);
  } catch (error) {
    toast(error.message, error.code);
    return undefined;
  }
}

/** Run a lock verb that answers with a snapshot, and store the snapshot. */
export async function lockVerb(type, params, timeout) {
  const snapshot = await call(type, params, timeout);
  setLock(snapshot);
  return snapshot;
}

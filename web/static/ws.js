// The websocket connection: requests as Promises keyed by id, pushes, reconnect with backoff.

import { t } from './i18n.js';

const DELAYS = [1000, 2000, 5000, 10000];
const DEFAULT_TIMEOUT = 120000;

/** An error reply (or a local failure) with the contract's error code. */
export class ApiError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

function socketUrl() {
  const url = new URL('api/ws', document.baseURI);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}

/**
 * One connection; `onState(state, retryMs)` gets connecting|open|closed and `onPush(event, data)`
 * every push. Nothing is resent after a reconnect: open requests fail with "disconnected".
 */
export function createConnection({ onState, onPush }) {
  const pending = new Map();
  let socket = null;
  let nextId = 1;
  let attempt = 0;
  let retryTimer = 0;

  function failAll() {
    for (const entry of pending.values()) {
      clearTimeout(entry.timer);
      entry.reject(new ApiError('disconnected', t('error.lost')));
    }
    pending.clear();
  }

  function receive(event) {
    let msg;
    try {
      msg = JSON.parse(event.data);
    } catch {
      return;
    }
    if (!msg || typeof msg !== 'object') return;
    if (typeof msg.event === 'string') {
      onPush(msg.event, msg.data);
      return;
    }
    const entry = pending.get(msg.id);
    if (!entry) return;
    pending.delete(msg.id);
    clearTimeout(entry.timer);
    if (msg.ok) entry.resolve(msg.result);
    else entry.reject(new ApiError(msg.error?.code || 'internal', msg.error?.message || t('error.unknown')));
  }

  function connect() {
    clearTimeout(retryTimer);
    onState('connecting');
    const ws = new WebSocket(socketUrl());
    socket = ws;
    ws.addEventListener('open', () => {
      attempt = 0;
      onState('open');
    });
    ws.addEventListener('message', receive);
    ws.addEventListener('close', () => {
      if (socket !== ws) return;
      socket = null;
      failAll();
      const delay = DELAYS[Math.min(attempt, DELAYS.length - 1)];
      attempt += 1;
      onState('closed', delay);
      retryTimer = setTimeout(connect, delay);
    });
  }

  /** Send a request; resolves with `result` or rejects with an ApiError. */
  function request(type, params = {}, timeout = DEFAULT_TIMEOUT) {
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new ApiError('disconnected', t('error.offline')));
    }
    const id = nextId;
    nextId += 1;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new ApiError('timeout', t('error.no_answer')));
      }, timeout);
      pending.set(id, { resolve, reject, timer });
      socket.send(JSON.stringify({ ...params, id, type }));
    });
  }

  /** Reconnect now when closed (the indicator's button, a visible tab). */
  function retryNow() {
    if (!socket) connect();
  }

  return { connect, request, retryNow };
}

// Client state from the server's pushes, and a tiny publish/subscribe for the views.

export const state = {
  ready: false,
  version: document.documentElement.dataset.version || '',
  user: null,
  locks: new Map(),
  discoveries: [],
  scan: { scanning: false, discovering: false, until: null, error: null },
  pending: new Map(),
};

const topics = new Map();

/** Subscribe to a topic ('locks', 'lock:<id>', 'scan', 'discoveries', or a push name). */
export function on(topic, fn) {
  if (!topics.has(topic)) topics.set(topic, new Set());
  topics.get(topic).add(fn);
  return () => topics.get(topic)?.delete(fn);
}

/** Notify a topic's subscribers. */
export function emit(topic, data) {
  for (const fn of [...(topics.get(topic) || [])]) fn(data);
}

/** Store a lock snapshot (from a push or a reply) and notify. */
export function setLock(snapshot) {
  if (!snapshot || typeof snapshot.id !== 'string') return;
  state.locks.set(snapshot.id, snapshot);
  emit(`lock:${snapshot.id}`, snapshot);
  emit('locks');
}

/** Locks sorted by name. */
export function sortedLocks() {
  return [...state.locks.values()].sort(
    (a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }) || a.id.localeCompare(b.id),
  );
}

/** Mark (action) or clear (null) the action running on a lock. */
export function setPending(lockId, action) {
  if (action) state.pending.set(lockId, action);
  else state.pending.delete(lockId);
  emit(`lock:${lockId}`, state.locks.get(lockId));
}

function setScan(data) {
  state.scan = {
    scanning: Boolean(data?.scanning),
    discovering: Boolean(data?.discovering),
    until: data?.until ?? null,
    error: data?.error ?? null,
  };
  emit('scan');
}

/** Apply one push from the server. */
export function handlePush(event, data) {
  switch (event) {
    case 'hello': {
      state.ready = true;
      state.version = data?.version || state.version;
      state.user = data?.user ?? null;
      state.locks = new Map((data?.locks || []).map((lock) => [lock.id, lock]));
      state.discoveries = data?.discoveries || [];
      setScan(data?.scan || { scanning: data?.scanning, discovering: false });
      emit('discoveries');
      emit('locks');
      for (const id of state.locks.keys()) emit(`lock:${id}`, state.locks.get(id));
      emit('hello');
      break;
    }
    case 'lock.updated':
    case 'lock.added':
      setLock(data);
      break;
    case 'lock.removed':
      state.locks.delete(data?.lock_id);
      state.pending.delete(data?.lock_id);
      emit(`lock:${data?.lock_id}`, null);
      emit('locks');
      break;
    case 'discovery.updated':
      state.discoveries = Array.isArray(data) ? data : [];
      emit('discoveries');
      break;
    case 'scan.state':
      setScan(data);
      break;
    default:
      emit(event, data);
  }
}

import type {
  ClientEventName,
  ClientPayload,
  ClientReply,
  ClientToServerEvents,
  ErrorCode,
  Member,
  Mission,
  ServerToClientEvents,
  Snapshot,
} from '@lockstep/shared';
import { PROTOCOL_VERSION } from '@lockstep/shared/version';
import { io, type Socket } from 'socket.io-client';

/**
 * The one connection module of the three screens. It imports only types from
 * `@lockstep/shared` (and the protocol version from its own entry), so the driver's bundle
 * carries socket.io-client and no zod.
 */

export type LockstepSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
export type ConnectionState = 'connecting' | 'online' | 'offline' | 'unauthorized';

type EventName = ClientEventName;
export type PayloadOf<E extends EventName> = ClientPayload<E>;
export type ReplyOf<E extends EventName> = ClientReply<E>;

const TOKEN_KEY = 'lockstep.token';
const PROTOCOL_RELOAD_KEY = 'lockstep.protocolReloadAt';
/** The server probes every 3 s; three missed probes mean the link is dead even if TCP has not noticed. */
const SILENT_LINK_MS = 9000;
/** An event not answered within this is treated as lost in transit and retried by its owner. */
const REQUEST_TIMEOUT_MS = 4000;

/** Refusals that say "not now" rather than "no": the same event is sent again later. */
export const RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set(['rate_limited', 'internal']);

/** Device time as the protocol wants it: monotonic, anchored at the time origin. */
export const deviceNow = (): number => performance.timeOrigin + performance.now();

/**
 * Takes `?token=` once: kept in web storage and removed from the address bar, so it is not
 * bookmarked, shared over a shoulder or left in the history. It is never logged. The handset and
 * board keep it for the tab (session storage); the driver's tablet keeps it in local storage, so
 * a closed tab reopens on its mission. A new link replaces the old one, and the page's own state
 * named in `forgetOnNewToken` (a lastSeq of another mission) is dropped with it.
 */
export function takeToken(storage: Storage = sessionStorage, forgetOnNewToken: readonly string[] = []): string | undefined {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    if (storage.getItem(TOKEN_KEY) !== fromUrl) for (const key of forgetOnNewToken) storage.removeItem(key);
    storage.setItem(TOKEN_KEY, fromUrl);
    url.searchParams.delete('token');
    history.replaceState(history.state, '', `${url.pathname}${url.search}${url.hash}`);
    return fromUrl;
  }
  return storage.getItem(TOKEN_KEY) ?? undefined;
}

/**
 * This page predates the server's protocol: the server serves the matching page, so load it
 * (the token is in session storage). At most once a minute, so a stale build cannot loop.
 */
function reloadForProtocol(): boolean {
  const last = Number(sessionStorage.getItem(PROTOCOL_RELOAD_KEY) ?? 0);
  if (Date.now() - last < 60_000) return false;
  sessionStorage.setItem(PROTOCOL_RELOAD_KEY, String(Date.now()));
  location.reload();
  return true;
}

export interface ConnectionOptions {
  /** A token the page took itself (see takeToken); by default it is taken from the URL or session storage. */
  token?: string | undefined;
  /** Read at every (re)connect, so the handshake carries the highest cue seq the device holds now. */
  lastSeq?: () => number | undefined;
}

export interface SnapshotContext {
  self: Member | undefined;
  /** Device time the snapshot was asked for: anything received after it may be newer than the snapshot. */
  requestedAt: number;
}
export type SnapshotListener = (snapshot: Snapshot, context: SnapshotContext) => void;

export interface Connection {
  readonly socket: LockstepSocket;
  readonly state: ConnectionState;
  /** Called with every change of state, and once at once. */
  onState(listener: (state: ConnectionState) => void): void;
  /** Called after every connect with the mission snapshot. */
  onSnapshot(listener: SnapshotListener): void;
  /** Emits with an acknowledgement; rejects when the server does not answer in time or the socket is down. */
  request<E extends EventName>(event: E, payload: PayloadOf<E>, timeoutMs?: number): Promise<ReplyOf<E>>;
  /** The server's clock as best known from its probes, for timers that count from server times. */
  serverNow(): number;
  /** Disconnects for good: a screen that watches a mission only while it is shown. */
  close(): void;
}

/** Opens the member's socket, or answers undefined when the page was opened without a token. */
export function openConnection(options: ConnectionOptions = {}): Connection | undefined {
  const token = 'token' in options ? options.token : takeToken();
  if (!token) return undefined;

  const socket: LockstepSocket = io({
    transports: ['websocket'],
    // A function, so each reconnect sends the latest lastSeq rather than the one of the first connect.
    auth: (cb) => {
      const lastSeq = options.lastSeq?.();
      cb(lastSeq === undefined ? { token, protocol: PROTOCOL_VERSION } : { token, lastSeq, protocol: PROTOCOL_VERSION });
    },
    reconnectionDelay: 250,
    reconnectionDelayMax: 2000,
    randomizationFactor: 0.3,
  });

  let state: ConnectionState = 'connecting';
  let closed = false;
  const reconnect = () => {
    if (!closed) socket.connect();
  };
  let clockOffset = 0;
  let lastHeardAt = Date.now();
  const stateListeners: ((state: ConnectionState) => void)[] = [];
  const snapshotListeners: SnapshotListener[] = [];
  const setState = (next: ConnectionState) => {
    if (next === state) return;
    state = next;
    for (const listener of stateListeners) listener(state);
  };

  const request = <E extends EventName>(event: E, payload: PayloadOf<E>, timeoutMs = REQUEST_TIMEOUT_MS): Promise<ReplyOf<E>> =>
    new Promise((resolve, reject) => {
      if (!socket.connected) return reject(new Error('offline'));
      // socket.io's emit overloads cannot follow a generic event name; the event map above types both ends.
      const emit = socket.timeout(timeoutMs).emit as (
        event: string,
        payload: unknown,
        ack: (error: Error | null, reply: ReplyOf<E>) => void,
      ) => void;
      emit.call(socket, event, payload, (error, reply) => (error ? reject(error) : resolve(reply)));
    });

  socket.on('probe', (probe, answer) => {
    lastHeardAt = Date.now();
    clockOffset = probe.serverAt - Date.now();
    answer({ deviceAt: deviceNow() });
  });
  // A `mission` event that arrives while a snapshot is on its way is at least as new as the
  // snapshot's mission (the mission ended between the read and the reply): the event wins.
  let missionEvent: { mission: Mission; at: number } | undefined;
  socket.on('mission', (mission) => {
    missionEvent = { mission, at: deviceNow() };
  });
  socket.on('connect', () => {
    lastHeardAt = Date.now();
    setState('online');
    const requestedAt = deviceNow();
    request('mission:snapshot', {})
      .then((reply) => {
        if (!reply.ok) return;
        const { ok: _ok, ...read } = reply;
        const snapshot = missionEvent && missionEvent.at > requestedAt ? { ...read, mission: missionEvent.mission } : read;
        for (const listener of snapshotListeners) listener(snapshot, { self: snapshot.self, requestedAt });
      })
      // A lost snapshot is retried by the next connect; the live events keep coming meanwhile.
      .catch(() => undefined);
  });
  socket.on('disconnect', (reason) => {
    setState('offline');
    // The server dropped us on purpose (a restart, a revoked token): try once more; a revoked token then fails as unauthorized.
    if (reason === 'io server disconnect') setTimeout(reconnect, 1000);
  });
  socket.on('connect_error', (error) => {
    if (error.message === 'unauthorized') return setState('unauthorized');
    if (error.message === 'incompatible_protocol' && reloadForProtocol()) return;
    setState('offline');
    // A refusal by the server's middleware stops socket.io's own retries; transport errors keep them.
    if (!socket.active) setTimeout(reconnect, 2000);
  });

  // The browser knows at once when the network goes; socket.io would take its ping timeout (45 s) to notice.
  const wentOffline = () => {
    socket.disconnect();
    setState('offline');
  };
  const cameOnline = () => {
    if (!socket.connected) socket.connect();
  };
  window.addEventListener('offline', wentOffline);
  window.addEventListener('online', cameOnline);
  // A half-open link (a tunnel, a dead access point) delivers nothing and errors nothing: probes stop, so force a reconnect.
  const watchdog = setInterval(() => {
    if (socket.connected && Date.now() - lastHeardAt > SILENT_LINK_MS) {
      lastHeardAt = Date.now();
      socket.io.engine.close();
    }
  }, 1000);

  return {
    socket,
    get state() {
      return state;
    },
    onState(listener) {
      stateListeners.push(listener);
      listener(state);
    },
    onSnapshot(listener) {
      snapshotListeners.push(listener);
    },
    request,
    serverNow: () => Date.now() + clockOffset,
    close: () => {
      closed = true;
      clearInterval(watchdog);
      window.removeEventListener('offline', wentOffline);
      window.removeEventListener('online', cameOnline);
      socket.io.reconnection(false);
      socket.disconnect();
    },
  };
}

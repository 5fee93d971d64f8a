import type { Server as HttpServer } from 'node:http';
import {
  CLIENT_EVENTS,
  HandshakeAuth,
  PROTOCOL_VERSION,
  ProbeAnswer,
  Receipt,
  ROLE_AUTHORITY,
  type ClientEventName,
  type ClientReply,
  type ClientToServerEvents,
  type Member,
  type ParsedPayload,
  type ReplyBody,
  type ServerToClientEvents,
  type TriggerCue,
  type TriggerState,
} from '@lockstep/shared';
import type { Logger } from 'pino';
import { Server, type Socket } from 'socket.io';
import type { z } from 'zod';
import type { Alerts } from '../alerts.ts';
import { memberOfToken } from '../auth/identity.ts';
import type { Clock } from '../clock.ts';
import type { Fanout, PresenceUpdate } from '../fanout.ts';
import type { ResponseGapTracker } from '../gaps/response-gaps.ts';
import type { Metrics } from '../metrics.ts';
import type { Missions } from '../missions/missions.ts';
import type { PresenceTracker } from '../presence/presence.ts';
import { recordRefusal } from '../record-refusal.ts';
import { invalidPayload, refuse, type Refusal, type Result } from '../refusal.ts';
import { maySend } from '../rules/authority.ts';
import {
  MAX_SOCKETS_PER_MEMBER,
  MEMBER_LIMIT,
  SOCKET_LIMIT,
  eventCost,
  fullBucket,
  takeFromAll,
  type TokenBucket,
} from '../rules/rate-limit.ts';
import type { Store } from '../store/store.ts';
import { type ClientEventHandler, type ClientEventHandlers, clientEventHandlers } from './client-events.ts';
import { MemberSockets } from './member-sockets.ts';
import { dropWhenBacklogged } from './outbound-limit.ts';
import type { Peers } from './peers.ts';
import type { Relay } from './relay.ts';

/** docs/PROTOCOL.md §4: payloads over 64 kB are refused by the transport. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

export interface SocketData {
  member: Member;
  missionId: string;
  lastSeq: number | undefined;
  /** When the socket joined its rooms (monotonic): from then on it is sent every change live. */
  connectedAt: number;
  /**
   * What this socket's next cue must wait for (the replay, or cues queued behind it), so cues
   * reach it in order; undefined when nothing is waiting and a cue can go at once.
   */
  cuesWaiting: Promise<void> | undefined;
  /** Cue ids already sent on this socket: a cue is sent to a socket once, however many paths bring it. */
  sentCues: Set<string>;
  bucket: TokenBucket;
  rateLimitedSince: number;
  rateLimitedCount: number;
  /** Made the first time the socket has something to log: ten thousand quiet devices need none. */
  logger: Logger | undefined;
}

/** Between nodes: a cue for a member whose socket may be on another node. */
interface InterServerEvents {
  cue: (memberId: string, cue: TriggerCue) => void;
  presence: (updates: PresenceUpdate[]) => void;
  states: (states: WaitingState[]) => void;
  /** A node about to listen (see Peers): each node answers once it publishes for it. */
  joining: (ack: (heard: boolean) => void) => void;
}

/** A trigger's latest state, waiting to go to its mission's watchers. */
interface WaitingState {
  missionId: string;
  state: TriggerState;
}
export type LockstepIo = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
type LockstepSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

export const rooms = {
  mission: (missionId: string) => `mission:${missionId}`,
  watchers: (missionId: string) => `watch:${missionId}`,
  member: (memberId: string) => `member:${memberId}`,
};

export interface SocketDeps {
  store: Store;
  clock: Clock;
  metrics: Metrics;
  logger: Logger;
  /** Origins allowed to open a socket from a browser: the configured list, else the server's own (known once it listens). */
  allowedOrigins: () => readonly string[];
}

/** A browser's `Origin` must be allowed; native clients that send none rely on the token alone (§4). CORS does not cover WebSocket. */
export function originAllowed(origin: string | undefined, allowed: readonly string[]): boolean {
  return origin === undefined || allowed.includes(origin);
}

export function createIo(httpServer: HttpServer, deps: SocketDeps): LockstepIo {
  return new Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>(httpServer, {
    path: '/socket.io',
    transports: ['websocket'],
    maxHttpBufferSize: MAX_PAYLOAD_BYTES,
    serveClient: false,
    allowRequest: (req, callback) => callback(null, originAllowed(req.headers.origin, deps.allowedOrigins())),
  });
}

/**
 * The socket side of `Fanout`: rooms for broadcasts (across nodes through the adapter),
 * per-socket emits with a receipt for cues. A cue goes to this node's sockets of the member
 * and, in a cluster, to the other nodes, each of which delivers to its own. A node alone on its
 * Redis publishes none of it (see Peers).
 */
export class SocketFanout implements Fanout {
  /** Per trigger, its latest state not broadcast yet (see #stateSoon). */
  readonly #statesWaiting = new Map<string, WaitingState>();
  #statesFlush: NodeJS.Immediate | undefined;

  constructor(
    private readonly io: LockstepIo,
    private readonly onReceipt: (socket: LockstepSocket, cue: TriggerCue, receipt: Receipt) => void,
    private readonly ackTimeoutMs: (cue: TriggerCue) => number,
    private readonly peers: Peers,
  ) {
    io.on('cue', (memberId, cue) => this.#deliverHere(memberId, cue));
    io.on('presence', (updates) => this.#presenceHere(updates));
    io.on('states', (states) => this.#statesHere(states));
  }

  toWatchers: Fanout['toWatchers'] = (missionId, event, payload) => {
    if (event === 'trigger:state') return this.#stateSoon(missionId, payload as TriggerState);
    this.#broadcast(rooms.watchers(missionId), event, payload);
  };
  toMission: Fanout['toMission'] = (missionId, event, payload) => this.#broadcast(rooms.mission(missionId), event, payload);
  toMember: Fanout['toMember'] = (memberId, event, payload) => this.#broadcast(rooms.member(memberId), event, payload);

  /**
   * A trigger's states from one turn of the event loop go as one `trigger:state`, the latest: the
   * receipts of a convoy written together (the store batches them) would otherwise be sent, and
   * published to every node, once per driver, each superseded a moment later. The latest state
   * carries every recipient's change. Whatever else is broadcast first sends the states waiting,
   * so watchers see every event in the order it happened. The other nodes get a turn's states as
   * one message, as presence goes: a publish per state was, with the adapter decoding each again
   * on its way back, a tenth of a node's work in a reconnect storm.
   */
  #stateSoon(missionId: string, state: TriggerState): void {
    this.#statesWaiting.set(state.id, { missionId, state });
    this.#statesFlush ??= setImmediate(() => this.#sendStates());
  }

  #sendStates(): void {
    if (this.#statesWaiting.size === 0) return;
    clearImmediate(this.#statesFlush);
    this.#statesFlush = undefined;
    const waiting = [...this.#statesWaiting.values()];
    this.#statesWaiting.clear();
    this.#statesHere(waiting);
    this.#toOtherNodes('states', waiting);
  }

  #statesHere(states: readonly WaitingState[]): void {
    for (const { missionId, state } of states) this.#watchersHere(missionId).emit('trigger:state', state);
  }

  presenceToWatchers(updates: readonly PresenceUpdate[]): void {
    this.#sendStates();
    this.#presenceHere(updates);
    if (updates.length > 0) this.#toOtherNodes('presence', [...updates]);
  }

  #presenceHere(updates: readonly PresenceUpdate[]): void {
    for (const { missionId, presence } of updates) this.#watchersHere(missionId).emit('presence', presence);
  }

  /**
   * This node's watchers of the mission only: presence and states go to the other nodes a batch
   * to one message, and each node emits the batch to its own watchers.
   */
  #watchersHere(missionId: string) {
    return this.io.local.to(rooms.watchers(missionId));
  }

  #broadcast(room: string, event: string, payload: unknown): void {
    this.#sendStates();
    this.#emit(room, event, payload);
  }

  /** Each event is typed by the Fanout signatures; socket.io's emit overloads cannot see through their generics. */
  #emit(room: string, event: string, payload: unknown): void {
    (this.#everywhere().to(room).emit as (event: string, payload: unknown) => boolean)(event, payload);
  }

  /** Every node's sockets: through the adapter, unless this node is alone and the publish would reach only itself. */
  #everywhere() {
    return this.peers.alone ? this.io.local : this.io;
  }

  /** A message for the other nodes, which each deliver to their own sockets; none is sent while this node is alone. */
  #toOtherNodes: LockstepIo['serverSideEmit'] = (...message) => !this.peers.alone && this.io.serverSideEmit(...message);

  deliverCue(memberId: string, cue: TriggerCue): void {
    this.#deliverHere(memberId, cue);
    this.#toOtherNodes('cue', memberId, cue);
  }

  #deliverHere(memberId: string, cue: TriggerCue): void {
    for (const socketId of this.io.sockets.adapter.rooms.get(rooms.member(memberId)) ?? []) {
      const socket = this.io.sockets.sockets.get(socketId);
      if (socket) this.queueCue(socket, cue);
    }
  }

  /**
   * Sends a cue to this socket at once, or behind whatever it must wait for. Waiting only when
   * something is waiting keeps a live cue from going out a microtask later, behind the rest of
   * the relay's work, on every cue.
   */
  queueCue(socket: LockstepSocket, cue: TriggerCue): void {
    if (socket.data.cuesWaiting)
      this.queueAfter(
        socket,
        socket.data.cuesWaiting.then(() => this.#sendCue(socket, cue)),
      );
    else this.#sendCue(socket, cue);
  }

  /** Makes this socket's cues wait for `step` (the replay, or a cue queued behind it). */
  queueAfter(socket: LockstepSocket, step: Promise<void>): void {
    socket.data.cuesWaiting = step;
    void step.then(() => {
      if (socket.data.cuesWaiting === step) socket.data.cuesWaiting = undefined;
    });
  }

  /** A cue already sent on this socket is skipped. */
  #sendCue(socket: LockstepSocket, cue: TriggerCue): void {
    if (socket.data.sentCues.has(cue.id)) return;
    socket.data.sentCues.add(cue.id);
    socket.timeout(this.ackTimeoutMs(cue)).emit('trigger', cue, (error, receipt) => {
      if (error) return;
      const parsed = Receipt.safeParse(receipt);
      // A malformed receipt still proves the cue arrived: it counts, without a device time.
      this.onReceipt(socket, cue, parsed.success ? parsed.data : {});
    });
  }

  disconnectMember(memberId: string): void {
    this.#everywhere().in(rooms.member(memberId)).disconnectSockets(true);
  }
}

export interface SessionDeps extends SocketDeps {
  /** Events being handled right now, so a shutdown can let them finish. */
  inFlight: Set<Promise<unknown>>;
  relay: Relay;
  gaps: ResponseGapTracker;
  missions: Missions;
  alerts: Alerts;
  presence: PresenceTracker;
  fanout: SocketFanout;
  /** Bytes a socket may leave unread before it is dropped. */
  outboundLimitBytes: number;
}

/**
 * Handshake: the token names exactly one member of one mission; rooms come from that, never from the client.
 * A client that says it speaks another protocol version is refused with `incompatible_protocol`
 * (its `data.protocol` is the server's), so a page left open across a deploy reloads.
 */
export function authenticate(io: LockstepIo, deps: SocketDeps): void {
  io.use((socket, next) => {
    const auth = HandshakeAuth.safeParse(socket.handshake.auth);
    if (!auth.success) return next(new Error('unauthorized'));
    if (auth.data.protocol !== undefined && auth.data.protocol !== PROTOCOL_VERSION) {
      deps.logger.info({ address: socket.handshake.address, protocol: auth.data.protocol }, 'socket refused: incompatible protocol');
      return next(Object.assign(new Error('incompatible_protocol'), { data: { protocol: PROTOCOL_VERSION } }));
    }
    void (async () => {
      const identity = await memberOfToken(deps.store, auth.data.token);
      if (!identity) {
        deps.logger.info({ address: socket.handshake.address }, 'socket refused: unknown or revoked token');
        return next(new Error('unauthorized'));
      }
      socket.data = {
        ...identity,
        lastSeq: auth.data.lastSeq,
        connectedAt: Number.POSITIVE_INFINITY,
        cuesWaiting: undefined,
        sentCues: new Set(),
        bucket: fullBucket(deps.clock.monotonic()),
        rateLimitedSince: -Infinity,
        rateLimitedCount: 0,
        logger: undefined,
      };
      next();
    })().catch((error: unknown) => {
      deps.logger.error({ err: error }, 'socket authentication failed');
      next(new Error('internal'));
    });
  });
}

/** Everything one connected device does: replay, probes, and its events. */
export function serveSessions(io: LockstepIo, deps: SessionDeps): void {
  const handlers: ClientEventHandlers = clientEventHandlers(deps);
  const members = new MemberSockets<LockstepSocket>(MAX_SOCKETS_PER_MEMBER);
  io.on('connection', (socket) => {
    const { member, missionId } = socket.data;
    deps.metrics.connectedDevices.inc({ role: member.role });

    for (const evicted of members.add(member.memberId, socket, deps.clock.monotonic())) {
      socketLogger(socket, deps).info(
        { evicted: evicted.id, cap: MAX_SOCKETS_PER_MEMBER },
        'socket evicted: the member opened more sockets than the cap',
      );
      evicted.disconnect(true);
    }
    dropWhenBacklogged(socket.conn, deps.outboundLimitBytes, (backlogBytes) => {
      deps.metrics.slowConsumersDropped.inc();
      socketLogger(socket, deps).warn({ backlogBytes }, 'socket dropped: it does not read what it is sent');
    });

    if (ROLE_AUTHORITY[member.role].receivesCues) {
      deps.fanout.queueAfter(
        socket,
        deps.relay
          .cuesToReplay(member.memberId, socket.data.lastSeq)
          .then((cues) => {
            for (const cue of cues) deps.fanout.queueCue(socket, cue);
          })
          .catch((error: unknown) => socketLogger(socket, deps).error({ err: error }, 'replay failed')),
      );
    }
    socket.join([
      rooms.mission(missionId),
      rooms.member(member.memberId),
      ...(ROLE_AUTHORITY[member.role].watches ? [rooms.watchers(missionId)] : []),
    ]);
    socket.data.connectedAt = deps.clock.monotonic();

    deps.presence.attach(member, missionId, {
      id: socket.id,
      probe: (timeoutMs) =>
        new Promise((resolve) => {
          const sentAt = deps.clock.monotonic();
          const serverAt = deps.clock.now();
          socket.timeout(timeoutMs).emit('probe', { serverAt }, (error, answer) => {
            if (error) return resolve(undefined);
            const parsed = ProbeAnswer.safeParse(answer);
            resolve({ rttMs: deps.clock.monotonic() - sentAt, serverAt, deviceAt: parsed.success ? parsed.data.deviceAt : undefined });
          });
        }),
    });

    const memberBucket = members.bucketOf(member.memberId, deps.clock.monotonic());
    // Every packet is handled in the middleware: no listener per event per socket.
    socket.use((packet) => handlePacket(socket, deps, handlers, memberBucket, packet));

    socket.on('disconnect', () => {
      deps.metrics.connectedDevices.dec({ role: member.role });
      members.remove(member.memberId, socket);
      deps.presence.detach(member.memberId, socket.id);
    });
  });
}

/** The socket's own child logger, made the first time it has something to say. */
function socketLogger(socket: LockstepSocket, deps: SessionDeps): Logger {
  socket.data.logger ??= deps.logger.child({
    missionId: socket.data.missionId,
    memberId: socket.data.member.memberId,
    socketId: socket.id,
  });
  return socket.data.logger;
}

/** An event name the contract does not know, as it may be logged: bounded, and never mistaken for one it knows. */
const unknownEventName = (event: unknown) => `unknown: ${String(event).slice(0, 64)}`;

const isClientEvent = (event: unknown): event is ClientEventName => typeof event === 'string' && Object.hasOwn(CLIENT_EVENTS, event);

/** Records a socket's refusal (§4): counted and logged. */
function recordSocketRefusal(socket: LockstepSocket, deps: SessionDeps, request: string, refusal: Refusal): void {
  const { member, missionId } = socket.data;
  void recordRefusal({ ...deps, logger: socketLogger(socket, deps) }, { missionId, memberId: member.memberId, request, refusal });
}

/** A flood of rate-limited refusals is counted in full and logged at most once a second, with how many it stands for. */
function recordRateLimited(socket: LockstepSocket, deps: SessionDeps, request: string, refusal: Refusal): void {
  const { member, missionId } = socket.data;
  const logger = socketLogger(socket, deps);
  const now = deps.clock.monotonic();
  socket.data.rateLimitedCount += 1;
  if (now - socket.data.rateLimitedSince < 1000) {
    void recordRefusal({ ...deps, logger }, { missionId: undefined, memberId: member.memberId, request, refusal });
    return;
  }
  socket.data.rateLimitedSince = now;
  const count = socket.data.rateLimitedCount;
  socket.data.rateLimitedCount = 0;
  logger.warn({ event: request, refused: count }, 'rate limited');
  void recordRefusal({ ...deps, logger }, { missionId, memberId: member.memberId, request, refusal, refused: count });
}

/**
 * Every packet a socket sends is handled here, whatever its name, in the order of
 * docs/PROTOCOL.md §4: the socket's own limit and its member's budget across sockets (an
 * expensive event costs more) → the name is one the contract knows → the role may send it →
 * the payload parses → the handler's own checks. Every event is answered when it carries a
 * callback; every refusal is counted and logged.
 */
function handlePacket(
  socket: LockstepSocket,
  deps: SessionDeps,
  handlers: ClientEventHandlers,
  memberBucket: TokenBucket,
  [event, ...args]: [unknown, ...unknown[]],
): void {
  const answer = typeof args.at(-1) === 'function' ? (args.pop() as (reply: unknown) => void) : undefined;
  const known = isClientEvent(event);
  const request = known ? event : unknownEventName(event);
  const admitted = takeFromAll(
    [
      { bucket: socket.data.bucket, limit: SOCKET_LIMIT, cost: 1 },
      { bucket: memberBucket, limit: MEMBER_LIMIT, cost: eventCost(request) },
    ],
    deps.clock.monotonic(),
  );
  if (!admitted) {
    const { refusal } = refuse('rate_limited', 'too many events: at most 20 per second per socket, bursts of 40, and a budget per member');
    recordRateLimited(socket, deps, request, refusal);
    answer?.({ ok: false, error: refusal });
    return;
  }
  if (!known) {
    const { refusal } = refuse('invalid_payload', 'unknown event');
    deps.metrics.unknownEvents.inc();
    recordSocketRefusal(socket, deps, request, refusal);
    answer?.({ ok: false, error: refusal });
    return;
  }
  handleEvent(socket, deps, event, handlers[event], args[0], answer);
}

/** A known, admitted event: the role, the payload, then its handler; generic in the event so each handler meets its own payload and reply. */
function handleEvent<E extends ClientEventName>(
  socket: LockstepSocket,
  deps: SessionDeps,
  event: E,
  handle: ClientEventHandler<E>,
  payload: unknown,
  answer: ((reply: ClientReply<E>) => void) | undefined,
): void {
  const { member, missionId } = socket.data;
  const receivedAt = deps.clock.monotonic();
  const send = (result: Result<ReplyBody<E>>) => {
    // `ok: true` plus the body is the reply's shape; TypeScript cannot see through Omit of a generic E.
    if (result.ok) answer?.({ ok: true, ...result.value } as ClientReply<E>);
    else answer?.({ ok: false, error: result.refusal });
  };
  if (!maySend(member.role, event)) {
    const result = refuse('forbidden', `a ${member.role} may not send ${event}`);
    recordSocketRefusal(socket, deps, event, result.refusal);
    send(result);
    return;
  }
  const schema: z.ZodType = CLIENT_EVENTS[event].payload;
  const parsed = schema.safeParse(payload);
  if (!parsed.success) {
    const result = invalidPayload(parsed.error);
    recordSocketRefusal(socket, deps, event, result.refusal);
    send(result);
    return;
  }
  // The table's schema for E parsed it; TypeScript cannot follow a generic key into the table.
  const handling = handle(parsed.data as ParsedPayload<E>, { member, missionId, receivedAt, connectedAt: socket.data.connectedAt })
    .then((result) => {
      if (!result.ok) recordSocketRefusal(socket, deps, event, result.refusal);
      send(result);
    })
    .catch((error: unknown) => {
      socketLogger(socket, deps).error({ err: error, event }, 'event failed');
      send(refuse('internal', 'the server could not process this event'));
    })
    .finally(() => deps.inFlight.delete(handling));
  deps.inFlight.add(handling);
}

import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { buildApp, type Clock, type LockstepApp } from '@lockstep/server';
import {
  CLIENT_EVENTS,
  type AddMemberBody,
  type ClientEventName,
  type ClientReply,
  type ClientToServerEvents,
  type ErrorReply,
  type MissionSettingsInput,
  type PlanInput,
  type ServerToClientEvents,
  type SuccessReply,
} from '@lockstep/shared';
import { pino } from 'pino';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, inject } from 'vitest';

export type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface Hub {
  app: LockstepApp;
  url: string;
  adminToken: string;
  /** Every log line the node wrote, for assertions such as "no token in the logs". */
  logLines: string[];
  // biome-ignore lint/suspicious/noExplicitAny: an HTTP body is whatever the test asserts on
  api(method: string, path: string, options?: { body?: unknown; token?: string }): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

export interface HubOptions {
  store?: 'redis' | 'memory';
  /** Redis key prefix; two nodes given the same prefix form one hub. */
  prefix?: string;
  presence?: { probeIntervalMs: number; offlineAfterMs: number };
  allowedOrigins?: string[];
  /** The server's own origin, as LOCKSTEP_PUBLIC_URL gives it. */
  publicOrigin?: string;
  /** Bytes a socket may leave unread before it is dropped. */
  outboundLimitBytes?: number;
  /** The port to listen on (default: any free one), for a public origin that names it. */
  port?: number;
  /** Another Redis than the run's shared one (fault tests bring their own). */
  redisUrl?: string;
  /** Where the node keeps its outage journal; a fresh file by default. */
  journalPath?: string;
  /** The server's clock, for tests that script exact times (see `SteppedClock`). */
  clock?: Clock;
  /** How often the node counts the nodes on its Redis. */
  peerCountMs?: number;
}

/** Real time plus the steps a test takes: a scripted driver "takes" 2.5 s to answer without the test waiting for it. */
export class SteppedClock implements Clock {
  #ahead = 0;
  now = () => Date.now() + this.#ahead;
  monotonic = () => performance.now();
  step(ms: number) {
    this.#ahead += ms;
  }
}

/** One real Lockstep node on 127.0.0.1, port 0, on the run's spawned Redis under its own key prefix. */
export async function startHub(options: HubOptions = {}): Promise<Hub> {
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString());
      done();
    },
  });
  const adminToken = `admin-${randomUUID()}`;
  const app = await buildApp({
    store:
      options.store === 'memory'
        ? { kind: 'memory' }
        : {
            kind: 'redis',
            url: options.redisUrl ?? inject('redisUrl'),
            prefix: options.prefix ?? `test:${randomUUID()}:`,
            journalPath: options.journalPath ?? join(tmpdir(), 'lockstep-test-journals', `${randomUUID()}.jsonl`),
          },
    adminToken,
    logger: pino({ level: 'debug' }, sink),
    ...(options.presence ? { presence: options.presence } : {}),
    ...(options.allowedOrigins ? { allowedOrigins: options.allowedOrigins } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.publicOrigin ? { publicOrigin: options.publicOrigin } : {}),
    ...(options.outboundLimitBytes ? { outboundLimitBytes: options.outboundLimitBytes } : {}),
    ...(options.peerCountMs ? { peerCountMs: options.peerCountMs } : {}),
  });
  const url = await app.listen(options.port ?? 0, '127.0.0.1');
  const api: Hub['api'] = async (method, path, { body, token = adminToken } = {}) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // CSV and other text bodies stay text.
    }
    return { status: response.status, body: parsed };
  };
  return { app, url, adminToken, logLines, api, close: () => app.close() };
}

/** Options for a hub a test file starts once: as given, or worked out when the file starts (a free port, say). */
export type FileHubOptions = HubOptions | (() => Promise<HubOptions>);

export const resolveHubOptions = async (options: FileHubOptions = {}) => (typeof options === 'function' ? options() : options);

/**
 * A stand-in for a hub that a `beforeAll` starts: it can be taken at the top of a file, and each
 * member reads the started hub when used (in a test, a hook, or a helper they call).
 */
export function startedHub(current: () => Hub | undefined): Hub {
  const hub = () => {
    const started = current();
    if (!started) throw new Error('the hub is started in beforeAll: use it inside a test or a hook');
    return started;
  };
  return {
    get app() {
      return hub().app;
    },
    get url() {
      return hub().url;
    },
    get adminToken() {
      return hub().adminToken;
    },
    get logLines() {
      return hub().logLines;
    },
    api: (...args) => hub().api(...args),
    close: () => hub().close(),
  };
}

/** One node for a test file: started before its first test, closed after its last. */
export function useHub(options?: FileHubOptions): Hub {
  let started: Hub | undefined;
  beforeAll(async () => {
    started = await startHub(await resolveHubOptions(options));
  });
  afterAll(() => started?.close());
  return startedHub(() => started);
}

export interface MissionSpec {
  vehicles?: { id: string; callsign: string }[];
  settings?: MissionSettingsInput;
  members: (AddMemberBody & { callsign: string })[];
  plan?: PlanInput;
  start?: boolean;
}

export interface TestMission {
  id: string;
  /** memberId and token by callsign. */
  members: Record<string, { memberId: string; token: string }>;
}

export const TWO_VEHICLES = [
  { id: 'v1', callsign: 'ALPHA' },
  { id: 'v2', callsign: 'BRAVO' },
];

/** Creates a mission through the HTTP API, as an operator would. */
export async function createMission(hub: Pick<Hub, 'api'>, spec: MissionSpec): Promise<TestMission> {
  const created = await hub.api('POST', '/api/missions', {
    body: { name: 'Test detail', vehicles: spec.vehicles ?? TWO_VEHICLES, ...(spec.settings ? { settings: spec.settings } : {}) },
  });
  if (created.status !== 201) throw new Error(`mission not created: ${JSON.stringify(created.body)}`);
  const id = created.body.id as string;
  const members: TestMission['members'] = {};
  for (const member of spec.members) {
    const added = await hub.api('POST', `/api/missions/${id}/members`, { body: member });
    if (added.status !== 201) throw new Error(`member not added: ${JSON.stringify(added.body)}`);
    members[member.callsign] = added.body;
  }
  if (spec.plan) await hub.api('PUT', `/api/missions/${id}/plan`, { body: spec.plan });
  if (spec.start ?? true) {
    const started = await hub.api('POST', `/api/missions/${id}/start`, { body: { force: true } });
    if (started.status !== 200) throw new Error(`mission not started: ${JSON.stringify(started.body)}`);
  }
  return { id, members };
}

/** The standard detail: a lead, a cpo in v1, a driver per vehicle, an ops board. */
export const STANDARD_MEMBERS: MissionSpec['members'] = [
  { callsign: 'LEAD', role: 'lead' },
  { callsign: 'CPO-1', role: 'cpo', vehicleId: 'v1' },
  { callsign: 'DRV-1', role: 'driver', vehicleId: 'v1' },
  { callsign: 'DRV-2', role: 'driver', vehicleId: 'v2' },
  { callsign: 'OPS', role: 'ops' },
];

export interface ConnectOptions {
  lastSeq?: number;
  /** The protocol version the device says it speaks (default: none, as a native client may send). */
  protocol?: number;
  /** Answer `probe` at once, as every Lockstep client must (default true). */
  answerProbes?: boolean;
  origin?: string;
  /** Other handshake headers, e.g. a forged `host`. */
  headers?: Record<string, string>;
  /** Attaches listeners before the handshake, so nothing replayed on connect can slip past them. */
  before?: (socket: Client) => void;
}

const openSockets = new Set<Client>();

/** A real Socket.IO client over WebSocket; resolves once connected, rejects with the connect_error (its message, and `data`). */
export function connect(hub: Pick<Hub, 'url'>, token: string, options: ConnectOptions = {}): Promise<Client> {
  const socket: Client = io(hub.url, {
    transports: ['websocket'],
    auth: {
      token,
      ...(options.lastSeq === undefined ? {} : { lastSeq: options.lastSeq }),
      ...(options.protocol === undefined ? {} : { protocol: options.protocol }),
    },
    reconnection: false,
    forceNew: true,
    autoConnect: false,
    ...(options.origin || options.headers
      ? { extraHeaders: { ...options.headers, ...(options.origin ? { origin: options.origin } : {}) } }
      : {}),
  });
  openSockets.add(socket);
  options.before?.(socket);
  if (options.answerProbes ?? true)
    socket.on('probe', (_probe, answer) => answer({ deviceAt: performance.timeOrigin + performance.now() }));
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
    socket.connect();
  });
}

export function closeAllSockets() {
  for (const socket of openSockets) socket.close();
  openSockets.clear();
}

type EventArgs<E extends keyof ServerToClientEvents> = Parameters<ServerToClientEvents[E]>;

/** Resolves with the next `event` (matching `predicate`); fails after `timeoutMs` instead of sleeping. */
export function nextEvent<E extends keyof ServerToClientEvents>(
  socket: Client,
  event: E,
  predicate: (...args: EventArgs<E>) => boolean = () => true,
  timeoutMs = 5000,
): Promise<EventArgs<E>> {
  return new Promise((resolve, reject) => {
    const listener = (...args: EventArgs<E>) => {
      if (!predicate(...args)) return;
      clearTimeout(timer);
      (socket.off as (event: string, listener: unknown) => void)(event, listener);
      resolve(args);
    };
    const timer = setTimeout(() => {
      (socket.off as (event: string, listener: unknown) => void)(event, listener);
      reject(new Error(`no ${event} within ${timeoutMs} ms`));
    }, timeoutMs);
    (socket.on as (event: string, listener: unknown) => void)(event, listener);
  });
}

/** Collects every event of a kind as it arrives, to assert on order and count. */
export function collect<E extends keyof ServerToClientEvents>(socket: Client, event: E): EventArgs<E>[0][] {
  const seen: EventArgs<E>[0][] = [];
  (socket.on as (event: string, listener: (...args: unknown[]) => void) => void)(event, (first) => seen.push(first as EventArgs<E>[0]));
  return seen;
}

/**
 * Emits with an acknowledgement and resolves with the server's reply, typed by the event table.
 * The payload is `unknown`, as tests send malformed ones on purpose; a success reply is checked
 * against the table's reply schema, so every test also proves the server answers in the contract's shape.
 */
export async function request<E extends ClientEventName>(socket: Client, event: E, payload: unknown): Promise<ClientReply<E>> {
  const reply = await (socket.timeout(5000).emitWithAck as (event: string, payload: unknown) => Promise<ClientReply<E>>)(event, payload);
  if (reply.ok) {
    const checked = CLIENT_EVENTS[event].reply.safeParse(reply);
    if (!checked.success) throw new Error(`${event} answered outside its reply schema: ${checked.error.message}`);
  }
  return reply;
}

/** `request` for a reply the test needs to be a success: fails with the refusal otherwise. */
export async function requestOk<E extends ClientEventName>(socket: Client, event: E, payload: unknown): Promise<SuccessReply<E>> {
  const reply = await request(socket, event, payload);
  if (!reply.ok) throw new Error(`${event} refused: ${JSON.stringify(reply.error)}`);
  return reply;
}

/** `request` for a reply the test needs to be a refusal: fails with the accepted reply otherwise. */
export async function requestRefused<E extends ClientEventName>(socket: Client, event: E, payload: unknown): Promise<ErrorReply> {
  const reply = await request(socket, event, payload);
  if (reply.ok) throw new Error(`${event} was accepted: ${JSON.stringify(reply)}`);
  return reply;
}

/** Device time as a tablet takes it: monotonic, anchored at the time origin. */
export const deviceNow = () => performance.timeOrigin + performance.now();

export const newId = () => randomUUID();

/** Polls what no event announces (a node's health, a count taken on a timer), bounded. */
export async function until(condition: () => boolean | Promise<boolean>, what = 'the condition', timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The node's own count of the nodes on its Redis, as /metrics gives it to an operator. */
export async function nodesCounted(hub: Pick<Hub, 'url'>): Promise<number | undefined> {
  const text = await fetch(`${hub.url}/metrics`).then((response) => response.text());
  const value = /^lockstep_nodes (\d+)$/m.exec(text)?.[1];
  return value === undefined ? undefined : Number(value);
}

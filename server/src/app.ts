import { EventEmitter } from 'node:events';
import type { Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyServerFactory } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Receipt, TriggerCue } from '@lockstep/shared';
import { createAdapter } from '@socket.io/redis-adapter';
import { Alerts } from './alerts.ts';
import { loggablePath } from './auth/tokens.ts';
import { systemClock, type Clock } from './clock.ts';
import { OverloadWatch } from './coordination/overload.ts';
import { PlanAckWatch } from './coordination/plan-acks.ts';
import { SilenceWatch } from './coordination/silence.ts';
import { Succession } from './coordination/succession.ts';
import type { Deadline } from './deadline-keys.ts';
import { Deadlines } from './deadlines.ts';
import { ResponseGapTracker } from './gaps/response-gaps.ts';
import { registerApi, registerErrorShape } from './http/api.ts';
import { registerClients } from './http/clients.ts';
import { addressOrigins } from './http/own-origins.ts';
import { Metrics } from './metrics.ts';
import { Missions } from './missions/missions.ts';
import { People } from './people/people.ts';
import { PROTOCOL_PRESENCE, PresenceTracker, type PresenceTiming } from './presence/presence.ts';
import { OUTBOUND_LIMIT_BYTES } from './relay/outbound-limit.ts';
import { Relay } from './relay/relay.ts';
import { NO_PEERS, PEER_COUNT_MS, RedisPeers } from './relay/peers.ts';
import { Reports } from './report/reports.ts';
import { MAX_PAYLOAD_BYTES, SocketFanout, authenticate, createIo, serveSessions, type LockstepIo } from './relay/socket-server.ts';
import { JournaledStore } from './store/journaled-store.ts';
import { MemoryStore } from './store/memory-store.ts';
import { OutageJournal } from './store/outage-journal.ts';
import { RedisStore, closeRedis, connectRedis } from './store/redis-store.ts';
import { LISTEN_BACKLOG } from './listen-backlog.ts';
import type { Store } from './store/store.ts';

export type StoreConfig =
  | { kind: 'memory' }
  | {
      kind: 'redis';
      url: string;
      prefix?: string;
      /** This node's outage journal: while Redis is away, what the node relays is written here first. One file per node. */
      journalPath?: string;
    };

/** How many writes a node may hold through one Redis outage. */
const OUTAGE_JOURNAL_CAPACITY = 10_000;

/** PEM certificate chain and key: the node then serves https and wss itself. */
export interface TlsConfig {
  cert: string;
  key: string;
}

/** An https server carries the same request and upgrade events as http; Fastify and Socket.IO use nothing else of it. */
const httpsFactory =
  (tls: TlsConfig): FastifyServerFactory =>
  (handler) =>
    createHttpsServer(tls, handler) as unknown as HttpServer;

export interface AppConfig {
  store: StoreConfig;
  tls?: TlsConfig | undefined;
  adminToken: string;
  /** Origins allowed to open a socket from a browser; undefined = the server's own origin. */
  allowedOrigins?: readonly string[] | undefined;
  /** The server's own origin (LOCKSTEP_PUBLIC_URL), besides its loopback and interface addresses at its port. */
  publicOrigin?: string | undefined;
  logger: Logger;
  /** The built clients; defaults to client/dist of this repository. */
  clientDir?: string;
  /** Probe cadence; docs/PROTOCOL.md's 3 s / 10 s unless a test needs it faster. */
  presence?: PresenceTiming;
  clock?: Clock;
  /** Bytes a socket may leave unread before it is dropped; OUTBOUND_LIMIT_BYTES unless a test needs it smaller. */
  outboundLimitBytes?: number;
  /** How often a node counts the nodes on its Redis; PEER_COUNT_MS unless a test needs it otherwise. */
  peerCountMs?: number;
}

export interface LockstepApp {
  http: FastifyInstance;
  io: LockstepIo;
  store: Store;
  missions: Missions;
  metrics: Metrics;
  /** Listens and resolves with the base URL, e.g. http://127.0.0.1:8080. */
  listen(port: number, host: string): Promise<string>;
  close(): Promise<void>;
}

/** How long a shutdown waits for events already being handled. */
const IN_FLIGHT_GRACE_MS = 5000;

const DEFAULT_CLIENT_DIR = fileURLToPath(new URL('../../client/dist', import.meta.url));

/** The adapter's calls whose promises it never handles (see atMostOnce). */
const UNHANDLED_BY_ADAPTER = new Set(['publish', 'subscribe', 'psubscribe', 'unsubscribe', 'punsubscribe']);

/**
 * The adapter publishes and (un)subscribes without handling the promises, so each failure — an
 * outage, a command timed out on a loaded machine, a link closed at shutdown — would be an
 * unhandled rejection. Pub/sub is at-most-once anyway: what must arrive is in the store and
 * replayed on connect, and ioredis subscribes again when it reconnects; so a failure is logged
 * and dropped here.
 */
function atMostOnce(client: Redis, onError: (error: Error) => void): Redis {
  return new Proxy(client, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      if (typeof property !== 'string' || !UNHANDLED_BY_ADAPTER.has(property)) return value.bind(target);
      return (...args: unknown[]) =>
        (value.apply(target, args) as Promise<unknown>).catch((error: Error) => {
          onError(error);
          return 0;
        });
    },
  });
}

/** Builds one Lockstep node: HTTP API, Socket.IO on the same server, and the store. Listening is the caller's. */
export async function buildApp(config: AppConfig): Promise<LockstepApp> {
  const clock = config.clock ?? systemClock;
  const logger = config.logger;
  const onRedisError = (error: Error) => logger.warn({ err: error.message }, 'redis connection error');
  const redis = config.store.kind === 'redis' ? connectRedis(config.store.url, onRedisError) : undefined;
  const metrics = new Metrics();
  const store: Store =
    redis && config.store.kind === 'redis'
      ? new JournaledStore({
          redis,
          store: new RedisStore(redis, config.store.prefix),
          journal: new OutageJournal(
            config.store.journalPath ?? join(tmpdir(), 'lockstep-journal', `node-${process.pid}.jsonl`),
            OUTAGE_JOURNAL_CAPACITY,
          ),
          clock,
          logger,
          onDepth: (depth) => metrics.outageJournalDepth.set(depth),
        })
      : new MemoryStore();

  const fastifyLogger: FastifyBaseLogger = logger;
  // Fastify's own request lines would carry the query string, where a token may hide: they are off, and logged below by path alone.
  const http = Fastify({
    loggerInstance: fastifyLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: MAX_PAYLOAD_BYTES,
    forceCloseConnections: true,
    ...(config.tls ? { serverFactory: httpsFactory(config.tls) } : {}),
  });
  http.addHook('onResponse', async (request, reply) => {
    request.log.info(
      { method: request.method, url: loggablePath(request.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      'request',
    );
  });

  // The server's own origin comes from its configuration or its own bound port, never from a request's Host.
  let ownOrigins: readonly string[] = [];
  const allowedOrigins = () => config.allowedOrigins ?? ownOrigins;
  const io = createIo(http.server, { store, clock, metrics, logger, allowedOrigins });
  // Nodes on one Redis form one hub: rooms, broadcasts and cues cross nodes over pub/sub.
  // A cue for another node is published the moment it is relayed, not behind a pipeline in flight.
  // The subscriber's commands wait for Redis however long it is away: a node that starts during an
  // outage had its subscriptions refused for good, and heard no other node once Redis was back.
  const adapterClients = redis
    ? [redis.duplicate({ enableAutoPipelining: false }), redis.duplicate({ enableAutoPipelining: false, maxRetriesPerRequest: null })]
    : [];
  const [pubClient, subClient] = adapterClients;
  let peers: RedisPeers | undefined;
  if (pubClient && subClient && config.store.kind === 'redis') {
    for (const client of adapterClients) client.on('error', onRedisError);
    const adapterKey = `${config.store.prefix ?? 'lockstep:'}socket.io`;
    io.adapter(createAdapter(atMostOnce(pubClient, onRedisError), atMostOnce(subClient, onRedisError), { key: adapterKey }));
    peers = new RedisPeers(io, pubClient, subClient, {
      adapterKey,
      countMs: config.peerCountMs ?? PEER_COUNT_MS,
      logger,
      onCount: (nodes) => metrics.nodes.set(nodes),
    });
  }

  // Receipts come in on the sockets of the fanout, which the tracker below speaks through: they
  // reach it through this emitter, which the tracker listens on once it exists.
  const receipts = new EventEmitter<{ receipt: [memberId: string, deviceId: string, cue: TriggerCue, receipt: Receipt] }>();
  const fanout = new SocketFanout(
    io,
    (socket, cue, receipt) => receipts.emit('receipt', socket.data.member.memberId, socket.id, cue, receipt),
    (cue) => Math.max(1000, cue.staleAt - clock.now()),
    peers ?? NO_PEERS,
  );
  const deadlines = new Deadlines({ store, clock, logger });
  const alerts = new Alerts({ store, fanout, clock, metrics, logger });
  const succession = new Succession({ store, deadlines, fanout, alerts, clock, logger });
  const presence = new PresenceTracker({
    store,
    deadlines,
    fanout,
    alerts,
    clock,
    timing: config.presence ?? PROTOCOL_PRESENCE,
    logger,
    watcher: succession,
  });
  const rttOf = (memberId: string) => presence.rttOf(memberId);
  const linkOf = (memberId: string, deviceId: string) => presence.linkOf(memberId, deviceId);
  const responseGaps = new ResponseGapTracker({ store, deadlines, fanout, alerts, clock, metrics, logger, rttOf, linkOf });
  receipts.on('receipt', (memberId, deviceId, cue, receipt) => {
    responseGaps
      .receipt(cue.id, memberId, deviceId, receipt)
      .catch((error: unknown) => logger.error({ err: error, triggerId: cue.id }, 'receipt not recorded'));
  });
  const overload = new OverloadWatch({ store, deadlines, alerts, clock, logger });
  const silence = new SilenceWatch({ store, deadlines, alerts });
  const planAcks = new PlanAckWatch({ store, deadlines, alerts });
  const relay = new Relay({ store, fanout, gaps: responseGaps, alerts, overload, clock, metrics, logger });
  const missions = new Missions({ store, fanout, relay, alerts, clock, logger, planAcks, silence, succession });
  /** Every deadline goes to the one service that handles its kind. */
  const fireDeadline = async (deadline: Deadline): Promise<void> => {
    switch (deadline.kind) {
      case 'undelivered':
        return responseGaps.fireUndelivered(deadline);
      case 'hesitation':
        return responseGaps.fireHesitation(deadline);
      case 'expired':
        return responseGaps.fireExpired(deadline);
      case 'offline':
        return presence.fireOffline(deadline);
      case 'silence':
        return silence.fire(deadline);
      case 'plan-unacked':
        return planAcks.fire(deadline);
      case 'overload':
        return overload.fire(deadline);
      case 'command':
        return succession.fireReview(deadline);
      case 'command-handover':
        return succession.fireHandover(deadline);
      default:
        return deadline satisfies never;
    }
  };
  const inFlight = new Set<Promise<unknown>>();

  authenticate(io, { store, clock, metrics, logger, allowedOrigins });
  serveSessions(io, {
    store,
    clock,
    metrics,
    logger,
    allowedOrigins,
    inFlight,
    relay,
    gaps: responseGaps,
    missions,
    alerts,
    presence,
    fanout,
    outboundLimitBytes: config.outboundLimitBytes ?? OUTBOUND_LIMIT_BYTES,
  });

  let ready = false;
  registerErrorShape(http);
  http.get('/healthz', async (_request, reply) => {
    if (!ready) return reply.code(503).send({ status: 'degraded', store: store.kind });
    return reply.send({ status: (await store.ping()) ? 'ok' : 'degraded', store: store.kind });
  });
  http.get('/metrics', async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  const reports = new Reports(store);
  registerApi(http, { store, missions, people: new People(store, reports), reports, clock, metrics, adminToken: config.adminToken });
  await registerClients(http, config.clientDir ?? DEFAULT_CLIENT_DIR);

  // Shutdown: stop answering health checks, close the sockets so devices reconnect to another
  // node, let the events already in hand finish, then stop firing deadlines (they stay in the
  // store for the other nodes) and close the store last.
  http.addHook('preClose', async () => {
    ready = false;
    presence.close();
    peers?.close();
    await io.close();
    await Promise.race([Promise.allSettled([...inFlight]), new Promise((resolve) => setTimeout(resolve, IN_FLIGHT_GRACE_MS))]);
  });
  http.addHook('onClose', async () => {
    await deadlines.close();
    await Promise.all(adapterClients.map(closeRedis));
    await store.close();
  });

  await http.ready();
  deadlines.start(fireDeadline);
  ready = true;

  return {
    http,
    io,
    store,
    missions,
    metrics,
    async listen(port, host) {
      await peers?.join();
      await http.listen({ port, host, backlog: LISTEN_BACKLOG });
      const address = http.server.address();
      const boundPort = typeof address === 'object' && address ? address.port : port;
      // Its addresses are its own whatever the public URL: a page at an IP literal was served by this node, not by a rebound name.
      ownOrigins = [...(config.publicOrigin ? [config.publicOrigin] : []), ...addressOrigins(boundPort)];
      return `${config.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${boundPort}`;
    },
    close: () => http.close(),
  };
}

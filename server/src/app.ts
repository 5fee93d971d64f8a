import { fileURLToPath } from 'node:url';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Alerts } from './alerts.ts';
import { withoutToken } from './auth/tokens.ts';
import { systemClock, type Clock } from './clock.ts';
import { ResponseGapTracker } from './gaps/response-gaps.ts';
import { registerApi, registerErrorShape } from './http/api.ts';
import { registerClients } from './http/clients.ts';
import { Metrics } from './metrics.ts';
import { Missions } from './missions/missions.ts';
import { PROTOCOL_PRESENCE, PresenceTracker, type PresenceTiming } from './presence/presence.ts';
import { Relay } from './relay/relay.ts';
import { MAX_PAYLOAD_BYTES, SocketFanout, authenticate, createIo, serveSessions, type LockstepIo } from './relay/socket-server.ts';
import { MemoryStore } from './store/memory-store.ts';
import { RedisStore, connectRedis } from './store/redis-store.ts';
import type { Store } from './store/store.ts';

export type StoreConfig = { kind: 'memory' } | { kind: 'redis'; url: string; prefix?: string };

export interface AppConfig {
  store: StoreConfig;
  adminToken: string;
  /** Origins allowed to open a socket from a browser; undefined = the server's own origin. */
  allowedOrigins?: readonly string[] | undefined;
  logger: Logger;
  /** The built clients; defaults to client/dist of this repository. */
  clientDir?: string;
  /** Probe cadence; PROTOCOL.md's 3 s / 10 s unless a test needs it faster. */
  presence?: PresenceTiming;
  clock?: Clock;
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

const DEFAULT_CLIENT_DIR = fileURLToPath(new URL('../../client/dist', import.meta.url));

/** Builds one Lockstep node: HTTP API, Socket.IO on the same server, and the store. Listening is the caller's. */
export async function buildApp(config: AppConfig): Promise<LockstepApp> {
  const clock = config.clock ?? systemClock;
  const logger = config.logger;
  const store: Store =
    config.store.kind === 'redis'
      ? new RedisStore(connectRedis(config.store.url, (error) => logger.warn({ err: error.message }, 'redis connection error')), config.store.prefix)
      : new MemoryStore();
  const metrics = new Metrics();

  const fastifyLogger: FastifyBaseLogger = logger;
  // Fastify's own request lines would carry ?token= in the URL: they are off, and logged below with the token masked.
  const http = Fastify({
    loggerInstance: fastifyLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: MAX_PAYLOAD_BYTES,
    forceCloseConnections: true,
  });
  http.addHook('onResponse', async (request, reply) => {
    request.log.info({ method: request.method, url: withoutToken(request.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });

  const io = createIo(http.server, { store, clock, metrics, logger, allowedOrigins: config.allowedOrigins });
  let gaps: ResponseGapTracker | undefined;
  const fanout = new SocketFanout(
    io,
    (socket, cue, receipt) => {
      gaps?.receipt(cue.id, socket.data.member.memberId, receipt).catch((error: unknown) => logger.error({ err: error, triggerId: cue.id }, 'receipt not recorded'));
    },
    (cue) => Math.max(1000, cue.staleAt - clock.now()),
  );
  const alerts = new Alerts(store, fanout, clock, metrics, logger);
  const presence = new PresenceTracker(store, fanout, alerts, clock, config.presence ?? PROTOCOL_PRESENCE, logger);
  gaps = new ResponseGapTracker(store, fanout, alerts, clock, metrics, logger, (memberId) => presence.rttOf(memberId));
  const relay = new Relay(store, fanout, gaps, alerts, clock, metrics, logger);
  const missions = new Missions(store, fanout, relay, clock, logger);

  authenticate(io, { store, clock, metrics, logger, allowedOrigins: config.allowedOrigins });
  serveSessions(io, { store, clock, metrics, logger, allowedOrigins: config.allowedOrigins, relay, gaps, missions, alerts, presence, fanout });

  let ready = false;
  registerErrorShape(http);
  http.get('/healthz', async (_request, reply) => {
    if (!ready) return reply.code(503).send({ status: 'degraded', store: store.kind });
    return reply.send({ status: (await store.ping()) ? 'ok' : 'degraded', store: store.kind });
  });
  http.get('/metrics', async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  registerApi(http, { store, missions, clock, metrics, adminToken: config.adminToken });
  await registerClients(http, config.clientDir ?? DEFAULT_CLIENT_DIR);

  // Socket.IO closes first so devices see the server go away and reconnect elsewhere.
  http.addHook('preClose', async () => {
    ready = false;
    await io.close();
  });
  http.addHook('onClose', async () => {
    gaps?.close();
    presence.close();
    await store.close();
  });

  await http.ready();
  ready = true;

  return {
    http,
    io,
    store,
    missions,
    metrics,
    async listen(port, host) {
      await http.listen({ port, host });
      const address = http.server.address();
      const boundPort = typeof address === 'object' && address ? address.port : port;
      return `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`;
    },
    close: () => http.close(),
  };
}

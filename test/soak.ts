/**
 * Soak: at least 1,000 cues across 3 nodes on one Redis, with random driver disconnects and
 * one node SIGKILLed mid-run; then counts what docs/PROTOCOL.md §5 promises. Loopback only,
 * bounded in count and time; exits non-zero if anything was lost, duplicated or wrongly live.
 *
 *   npm run soak            (1,000 cues)
 *   npm run soak -- --cues 3000
 */
import { randomUUID } from 'node:crypto';
import type { ClientToServerEvents, ServerToClientEvents, TriggerCue } from '@lockstep/shared';
import { io, type Socket } from 'socket.io-client';
import { STANDARD_MEMBERS, createMission, type TestMission } from './support/hub.ts';
import { startNodeProcess, type NodeProcess } from './support/node-process.ts';
import { RedisServer } from './support/redis-server.ts';

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

const argCues = process.argv.indexOf('--cues');
const CUES = Math.max(1000, Number(argCues > 0 ? process.argv[argCues + 1] : 1000) || 1000);
const MISSIONS = 10;
const RATE_PER_SECOND = 40;
const HARD_LIMIT_MS = 240_000;
const SETTINGS = { thresholds: { default: 1000 }, staleMs: { default: 5000 }, offlineGraceMs: 1000 };
/** A cue shown as an order this long after its staleAt counts as wrongly actionable (same machine, one clock). */
const STALE_TOLERANCE_MS = 50;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

const adminToken = `soak-${randomUUID()}`;
const redis = await RedisServer.start();
const nodes: NodeProcess[] = [];
const alive = () => nodes.filter((n) => n.child.exitCode === null && n.child.signalCode === null);
const stopAt = Date.now() + HARD_LIMIT_MS;
const watchdog = setTimeout(() => {
  process.stderr.write('soak: hard time limit reached\n');
  void cleanUp().then(() => process.exit(2));
}, HARD_LIMIT_MS);

async function cleanUp() {
  for (const node of nodes) node.signal('SIGKILL');
  redis.stop();
}

/** One driver tablet: keeps the highest seq it saw, reconnects to any live node with it, answers open cues. */
class Tablet {
  socket: Client | undefined;
  lastSeq = 0;
  readonly received = new Map<string, number>();
  wronglyLive = 0;
  pausedUntil = 0;

  constructor(readonly token: string) {}

  connect() {
    const node = pick(alive());
    const socket: Client = io(node.url, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      auth: { token: this.token, lastSeq: this.lastSeq },
    });
    this.socket = socket;
    socket.on('probe', (_probe, answer) => answer({ deviceAt: performance.timeOrigin + performance.now() }));
    socket.on('trigger', (cue: TriggerCue, receipt) => {
      receipt({ shownAt: performance.timeOrigin + performance.now() });
      this.received.set(cue.id, (this.received.get(cue.id) ?? 0) + 1);
      this.lastSeq = Math.max(this.lastSeq, cue.seq);
      if (!cue.expired && Date.now() > cue.staleAt + STALE_TOLERANCE_MS) this.wronglyLive += 1;
      if (cue.expired) return;
      // Most answer within the threshold; some hesitate past it.
      const answer = () =>
        socket.emit(
          'trigger:respond',
          { triggerId: cue.id, response: 'ack', respondedAt: performance.timeOrigin + performance.now() },
          () => {},
        );
      setTimeout(answer, 100 + Math.random() * 1400);
    });
    socket.on('disconnect', () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      const back = Math.max(100, this.pausedUntil - Date.now());
      setTimeout(() => this.connect(), back);
    });
    socket.on('connect_error', () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      setTimeout(() => this.connect(), 200);
    });
  }

  /** Drops off the network (a tunnel) for a while, then comes back by itself. */
  dropFor(ms: number) {
    this.pausedUntil = Date.now() + ms;
    this.socket?.disconnect();
  }
}

/** One lead handset with an outbox: a cue is retried with its id until a node says ok. */
class Handset {
  socket: Client | undefined;
  readonly outbox = new Map<string, { id: string; type: 'hold'; target: { convoy: true } }>();
  accepted = 0;

  constructor(readonly token: string) {}

  connect() {
    const socket: Client = io(pick(alive()).url, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      auth: { token: this.token },
    });
    this.socket = socket;
    socket.on('probe', (_probe, answer) => answer({ deviceAt: performance.timeOrigin + performance.now() }));
    socket.on('connect', () => {
      for (const id of this.outbox.keys()) this.send(id);
    });
    socket.on('disconnect', () => {
      this.socket = undefined;
      setTimeout(() => this.connect(), 100);
    });
    socket.on('connect_error', () => {
      this.socket = undefined;
      setTimeout(() => this.connect(), 200);
    });
  }

  fire() {
    const id = randomUUID();
    this.outbox.set(id, { id, type: 'hold', target: { convoy: true } });
    this.send(id);
  }

  send(id: string) {
    const issue = this.outbox.get(id);
    const socket = this.socket;
    if (!issue || !socket?.connected) return;
    socket.timeout(2000).emit('trigger:issue', issue, (error, reply) => {
      if (!error && reply.ok && this.outbox.delete(id)) this.accepted += 1;
      else if (this.outbox.has(id)) setTimeout(() => this.send(id), 250);
    });
  }
}

try {
  nodes.push(...(await Promise.all([0, 1, 2].map(() => startNodeProcess(redis.url, adminToken)))));
  const missions: TestMission[] = [];
  for (let m = 0; m < MISSIONS; m++) {
    missions.push(
      await createMission(nodes[0]!, {
        vehicles: [
          { id: 'v1', callsign: 'ALPHA' },
          { id: 'v2', callsign: 'BRAVO' },
          { id: 'v3', callsign: 'CHARLIE' },
        ],
        members: [...STANDARD_MEMBERS.filter((x) => x.role !== 'cpo'), { callsign: 'DRV-3', role: 'driver', vehicleId: 'v3' }],
        settings: SETTINGS,
      }),
    );
  }
  const tablets = missions.flatMap((mission) => ['DRV-1', 'DRV-2', 'DRV-3'].map((c) => new Tablet(mission.members[c]!.token)));
  const handsets = missions.map((mission) => new Handset(mission.members.LEAD!.token));
  for (const device of [...tablets, ...handsets]) device.connect();
  await sleep(1000);

  const started = Date.now();
  let killed: number | undefined;
  let disconnects = 0;
  for (let fired = 0; fired < CUES && Date.now() < stopAt; fired++) {
    pick(handsets).fire();
    if (fired % 25 === 0 && disconnects < 60) {
      pick(tablets).dropFor(300 + Math.random() * 2700);
      disconnects += 1;
    }
    if (killed === undefined && fired === Math.floor(CUES * 0.4)) {
      const victim = pick(nodes.slice(1));
      victim.signal('SIGKILL');
      await victim.exited;
      killed = nodes.indexOf(victim);
    }
    await sleep(1000 / RATE_PER_SECOND);
  }
  const firingMs = Date.now() - started;

  // Let every handset empty its outbox, every tablet come back, and every cue reach its staleAt.
  while (handsets.some((h) => h.outbox.size > 0) && Date.now() < stopAt) await sleep(100);
  await sleep(SETTINGS.staleMs.default + 1500);
  while (tablets.some((t) => !t.socket?.connected) && Date.now() < stopAt) await sleep(100);
  await sleep(1000);

  let pairs = 0;
  let deliveredOnce = 0;
  let duplicates = 0;
  let lost = 0;
  let raised = 0;
  let raisedTwice = 0;
  for (const [m, mission] of missions.entries()) {
    const log = await alive()[0]!.api('GET', `/api/missions/${mission.id}/log`);
    const events: { kind: string; triggerId?: string; memberId?: string; data: { recipients?: string[]; alertId?: string } }[] =
      log.body.events;
    const byMember = new Map(['DRV-1', 'DRV-2', 'DRV-3'].map((c, i) => [mission.members[c]!.memberId, tablets[m * 3 + i]!]));
    for (const issued of events.filter((e) => e.kind === 'trigger.issued')) {
      for (const memberId of issued.data.recipients ?? []) {
        pairs += 1;
        const count = byMember.get(memberId)?.received.get(issued.triggerId!) ?? 0;
        if (count === 0) lost += 1;
        else if (count === 1) deliveredOnce += 1;
        else duplicates += count - 1;
      }
    }
    const alertIds = events.filter((e) => e.kind === 'alert.raised').map((e) => e.data.alertId);
    raised += alertIds.length;
    raisedTwice += alertIds.length - new Set(alertIds).size;
  }
  const accepted = handsets.reduce((sum, h) => sum + h.accepted, 0);
  const wronglyLive = tablets.reduce((sum, t) => sum + t.wronglyLive, 0);

  const rows: [string, string | number][] = [
    ['cues fired (accepted by a node)', accepted],
    ['cue deliveries due (cue × driver)', pairs],
    ['delivered once', deliveredOnce],
    ['duplicates (must be 0)', duplicates],
    ['lost (must be 0)', lost],
    ['wrongly-actionable stale cues (must be 0)', wronglyLive],
    ['alerts raised', raised],
    ['alerts raised more than once (must be 0)', raisedTwice],
    ['driver disconnects', disconnects],
    ['node killed (SIGKILL)', killed === undefined ? 'none' : `node ${killed + 1} of 3`],
    ['firing time', `${(firingMs / 1000).toFixed(1)} s at ${RATE_PER_SECOND} cues/s`],
  ];
  process.stdout.write(
    `\n| soak, ${MISSIONS} missions × 3 drivers, 3 nodes | |\n|---|---|\n${rows.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}\n\n`,
  );
  const clean = accepted >= CUES && duplicates === 0 && lost === 0 && wronglyLive === 0 && raisedTwice === 0;
  process.stdout.write(clean ? 'soak: PASS\n' : 'soak: FAIL\n');
  for (const device of [...tablets, ...handsets]) device.socket?.close();
  clearTimeout(watchdog);
  await cleanUp();
  process.exit(clean ? 0 : 1);
} catch (error) {
  process.stderr.write(`soak: ${error instanceof Error ? error.stack : String(error)}\n`);
  clearTimeout(watchdog);
  await cleanUp();
  process.exit(2);
}

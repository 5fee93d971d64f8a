import { networkInterfaces } from 'node:os';
import { pino } from 'pino';
import { buildApp } from './app.ts';
import { loadConfig } from './config.ts';
import { createDemoMission, type DemoLinks } from './demo.ts';

/** How long a SIGTERM may take before the process exits anyway. */
const SHUTDOWN_DEADLINE_MS = 10_000;

const loaded = loadConfig(process.env);
if (!loaded.ok) {
  process.stderr.write(`Lockstep cannot start: bad configuration\n${loaded.problems.map((p) => `  - ${p}`).join('\n')}\n`);
  process.exit(1);
}
const config = loaded.config;
const logger = pino({ level: config.logLevel, base: { service: 'lockstep' } });

// A live operation outlives a stray promise: log it loudly, keep relaying.
process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection'));

const app = await buildApp({
  store: config.store,
  adminToken: config.adminToken,
  allowedOrigins: config.allowedOrigins,
  publicOrigin: config.publicOrigin,
  tls: config.tls,
  logger,
});
const url = await app.listen(config.port, config.host);
logger.info({ url, store: config.store.kind }, 'lockstep listening');
if (config.store.kind === 'memory') {
  logger.warn('no REDIS_URL: using the embedded in-memory store — one node only, nothing survives a restart');
}

const lanAddress = () =>
  Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;

/** The banner is for the person at the terminal, on stdout, not in the logs: it carries tokens. */
function banner(links: DemoLinks | undefined) {
  // Behind a proxy or in a container this node's own addresses are not the devices': LOCKSTEP_PUBLIC_URL names the one they use.
  const scheme = config.tls ? 'https' : 'http';
  const bases = config.publicUrl
    ? [config.publicUrl]
    : [
        `${scheme}://localhost:${config.port}`,
        ...(config.host === '0.0.0.0' && lanAddress() ? [`${scheme}://${lanAddress()}:${config.port}`] : []),
      ];
  const lines = ['', `Lockstep is running (${config.store.kind} store).`];
  if (config.adminTokenGenerated) lines.push(`Admin token (generated): ${config.adminToken}`);
  // The console signs in with the admin token: a demo hands it over in the link, otherwise the operator types it.
  if (!links) lines.push(`Operations console: ${bases[0]}/ops (sign in with the admin token)`);
  if (!config.tls && !config.publicUrl?.startsWith('https:'))
    lines.push('Plain http: phones and tablets on the LAN lose Screen Wake Lock; serve https (see README, "HTTPS on a LAN").');
  if (links) {
    for (const base of bases) {
      lines.push('', `Demo mission on ${base}:`, `  Console:   ${base}/ops?token=${encodeURIComponent(config.adminToken)}`);
      lines.push(`  Lead CPO:  ${base}${links.lead}`);
      for (const driver of links.drivers) lines.push(`  ${driver.callsign.padEnd(10)} ${base}${driver.path}`);
      lines.push(`  Board:     ${base}${links.board}`);
    }
  }
  process.stdout.write(`${lines.join('\n')}\n\n`);
}

banner(config.demo ? await createDemoMission(app.missions) : undefined);

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    setTimeout(() => process.exit(1), SHUTDOWN_DEADLINE_MS).unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}

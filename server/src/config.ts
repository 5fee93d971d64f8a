import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { MAKE_A_TOKEN, MIN_TOKEN_BITS, estimatedBits } from './auth/token-strength.ts';
import { newToken } from './auth/tokens.ts';
import type { StoreConfig, TlsConfig } from './app.ts';

const Env = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
    .optional(),
  LOCKSTEP_ADMIN_TOKEN: z
    .string()
    .superRefine((token, context) => {
      const bits = estimatedBits(token);
      if (bits < MIN_TOKEN_BITS)
        context.addIssue({
          code: 'custom',
          message: `is too weak: about ${bits} bits of randomness, at least ${MIN_TOKEN_BITS} needed; ${MAKE_A_TOKEN}`,
        });
    })
    .optional(),
  LOCKSTEP_DEMO: z.enum(['0', '1']).optional(),
  LOCKSTEP_ALLOWED_ORIGINS: z.string().optional(),
  LOCKSTEP_JOURNAL_DIR: z.string().min(1).optional(),
  LOCKSTEP_TLS_CERT: z.string().min(1).optional(),
  LOCKSTEP_TLS_KEY: z.string().min(1).optional(),
  LOCKSTEP_PUBLIC_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL, e.g. https://lockstep.example' })
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface ServerConfig {
  port: number;
  host: string;
  store: StoreConfig;
  adminToken: string;
  adminTokenGenerated: boolean;
  demo: boolean;
  allowedOrigins: string[] | undefined;
  /** The server's own origin, from LOCKSTEP_PUBLIC_URL; never taken from a request's Host. */
  publicOrigin: string | undefined;
  logLevel: string;
  /** Certificate and key (PEM) when the node serves https itself. */
  tls: TlsConfig | undefined;
  /** The address devices use (a proxy's, a DNS name): the banner prints its links with it alone. */
  publicUrl: string | undefined;
}

/** Reads the PEM files named by LOCKSTEP_TLS_CERT and LOCKSTEP_TLS_KEY: both or neither, each readable. */
function loadTls(cert: string | undefined, key: string | undefined): { tls: TlsConfig | undefined; problems: string[] } {
  if (cert === undefined && key === undefined) return { tls: undefined, problems: [] };
  if (cert === undefined || key === undefined)
    return { tls: undefined, problems: ['LOCKSTEP_TLS_CERT and LOCKSTEP_TLS_KEY: set both (certificate and key) or neither'] };
  const problems: string[] = [];
  const read = (variable: string, path: string) => {
    try {
      const pem = readFileSync(path, 'utf8');
      if (!pem.includes('-----BEGIN ')) problems.push(`${variable}: ${path} is not a PEM file`);
      return pem;
    } catch (error) {
      problems.push(`${variable}: cannot read ${path} (${error instanceof Error ? error.message : 'unreadable'})`);
      return '';
    }
  };
  const tls = { cert: read('LOCKSTEP_TLS_CERT', cert), key: read('LOCKSTEP_TLS_KEY', key) };
  return problems.length ? { tls: undefined, problems } : { tls, problems };
}

/** docs/PROTOCOL.md "Operating the server": the environment, validated once, with a clear message for a bad value. */
export function loadConfig(env: NodeJS.ProcessEnv): { ok: true; config: ServerConfig } | { ok: false; problems: string[] } {
  // An empty variable (as docker compose passes for an unset one) means unset.
  const parsed = Env.safeParse(Object.fromEntries(Object.entries(env).filter(([, value]) => value !== '')));
  if (!parsed.success) {
    return { ok: false, problems: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`) };
  }
  const e = parsed.data;
  const { tls, problems } = loadTls(e.LOCKSTEP_TLS_CERT, e.LOCKSTEP_TLS_KEY);
  if (problems.length) return { ok: false, problems };
  // One journal file per node: several nodes on one machine each need their own (PORT tells them apart).
  const journalPath = join(e.LOCKSTEP_JOURNAL_DIR ?? join(tmpdir(), 'lockstep-journal'), `node-${e.PORT}.jsonl`);
  const store: StoreConfig = e.REDIS_URL ? { kind: 'redis', url: e.REDIS_URL, journalPath } : { kind: 'memory' };
  const origins = e.LOCKSTEP_ALLOWED_ORIGINS?.split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  return {
    ok: true,
    config: {
      port: e.PORT,
      host: e.HOST,
      store,
      adminToken: e.LOCKSTEP_ADMIN_TOKEN ?? newToken(),
      adminTokenGenerated: e.LOCKSTEP_ADMIN_TOKEN === undefined,
      demo: e.LOCKSTEP_DEMO ? e.LOCKSTEP_DEMO === '1' : store.kind === 'memory',
      allowedOrigins: origins?.length ? origins : undefined,
      publicOrigin: e.LOCKSTEP_PUBLIC_URL === undefined ? undefined : new URL(e.LOCKSTEP_PUBLIC_URL).origin,
      logLevel: e.LOG_LEVEL,
      tls,
      publicUrl: e.LOCKSTEP_PUBLIC_URL?.replace(/\/$/, ''),
    },
  };
}

import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, loadConfig } from '@lockstep/server';
import { pino } from 'pino';
import { io } from 'socket.io-client';
import { describe, expect, it } from 'vitest';

/** A node given LOCKSTEP_TLS_CERT and LOCKSTEP_TLS_KEY serves https and wss; bad TLS settings stop it with a message. */

function selfSigned() {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-tls-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}

const getText = (url: string, ca: string) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    get(url, { ca }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    }).on('error', reject);
  });

describe('TLS at the node', () => {
  it('serves https and wss with the certificate and key named in the environment', async () => {
    const files = selfSigned();
    const loaded = loadConfig({ LOCKSTEP_TLS_CERT: files.cert, LOCKSTEP_TLS_KEY: files.key });
    if (!loaded.ok) throw new Error(loaded.problems.join('; '));
    const { tls } = loaded.config;
    expect(tls?.cert).toContain('BEGIN CERTIFICATE');
    const app = await buildApp({
      store: { kind: 'memory' },
      adminToken: 'admin-token-for-tls-test',
      tls,
      logger: pino({ level: 'silent' }),
    });
    try {
      const url = await app.listen(0, '127.0.0.1');
      expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const health = await getText(`${url}/healthz`, tls?.cert ?? '');
      expect(health.status).toBe(200);
      // A WebSocket upgrade reaches Socket.IO through the https server: a made-up token is refused by the handshake, not by TLS.
      const socket = io(url, { transports: ['websocket'], auth: { token: 'not-a-token' }, reconnection: false, ca: tls?.cert });
      const refusal = await new Promise<string>((resolve) => socket.once('connect_error', (error) => resolve(error.message)));
      socket.close();
      expect(refusal).toBe('unauthorized');
    } finally {
      await app.close();
    }
  });

  it('stops with a message naming the variable for half a TLS setting or an unreadable file', () => {
    const files = selfSigned();
    const half = loadConfig({ LOCKSTEP_TLS_CERT: files.cert });
    expect(half.ok ? [] : half.problems.join('\n')).toMatch(/LOCKSTEP_TLS_CERT and LOCKSTEP_TLS_KEY/);
    const missing = loadConfig({ LOCKSTEP_TLS_CERT: files.cert, LOCKSTEP_TLS_KEY: '/nonexistent/key.pem' });
    expect(missing.ok ? [] : missing.problems.join('\n')).toMatch(/LOCKSTEP_TLS_KEY: cannot read \/nonexistent\/key.pem/);
    const notPem = loadConfig({ LOCKSTEP_TLS_CERT: files.cert, LOCKSTEP_TLS_KEY: '/etc/hostname' });
    expect(notPem.ok).toBe(false);
    expect(loadConfig({ LOCKSTEP_PUBLIC_URL: 'ftp://x' }).ok).toBe(false);
    const publicUrl = loadConfig({ LOCKSTEP_PUBLIC_URL: 'https://lockstep.example:8443/' });
    expect(publicUrl.ok && publicUrl.config.publicUrl).toBe('https://lockstep.example:8443');
  });
});

import { loadConfig } from '@lockstep/server';
import { describe, expect, it } from 'vitest';

describe('configuration from the environment', () => {
  it('defaults to port 8080, the memory store and demo mode, with a generated admin token', () => {
    const loaded = loadConfig({});
    expect(loaded.ok && loaded.config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      store: { kind: 'memory' },
      demo: true,
      adminTokenGenerated: true,
      logLevel: 'info',
    });
  });

  it('uses Redis without demo mode when REDIS_URL is set, and treats empty variables as unset', () => {
    const loaded = loadConfig({
      REDIS_URL: 'redis://127.0.0.1:6379/0',
      LOCKSTEP_ADMIN_TOKEN: '',
      LOCKSTEP_ALLOWED_ORIGINS: 'https://ops.example, https://b.example',
    });
    expect(loaded.ok && loaded.config).toMatchObject({
      store: { kind: 'redis', url: 'redis://127.0.0.1:6379/0' },
      demo: false,
      adminTokenGenerated: true,
      allowedOrigins: ['https://ops.example', 'https://b.example'],
    });
  });

  it('keeps one outage journal per node, named by its port, in LOCKSTEP_JOURNAL_DIR', () => {
    const loaded = loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379', PORT: '8081', LOCKSTEP_JOURNAL_DIR: '/var/lib/lockstep' });
    expect(loaded.ok && loaded.config.store).toEqual({
      kind: 'redis',
      url: 'redis://127.0.0.1:6379',
      journalPath: '/var/lib/lockstep/node-8081.jsonl',
    });
  });

  it('names every bad value in one clear message', () => {
    const loaded = loadConfig({ PORT: 'eighty', REDIS_URL: 'localhost:6379', LOCKSTEP_ADMIN_TOKEN: 'short', LOG_LEVEL: 'loud' });
    expect(loaded.ok).toBe(false);
    const problems = loaded.ok ? [] : loaded.problems.join('\n');
    for (const variable of ['PORT', 'REDIS_URL', 'LOCKSTEP_ADMIN_TOKEN', 'LOG_LEVEL']) expect(problems).toContain(variable);
  });
});

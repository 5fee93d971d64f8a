import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

export const SCREENS = ['driver', 'cpo', 'board', 'field', 'ops'] as const;

/**
 * Serves the built clients: /driver, /cpo, /board, /field (advance, surveillance, liaison) and /ops
 * (the operations console), with their hashed assets cached for good.
 */
export async function registerClients(app: FastifyInstance, clientDir: string): Promise<void> {
  if (!existsSync(join(clientDir, 'driver', 'index.html'))) {
    app.log.warn({ clientDir }, 'the clients are not built (npm run build -w @lockstep/client): /driver, /cpo, /board and /ops answer 503');
    for (const screen of SCREENS) {
      app.get(`/${screen}`, (_request, reply) =>
        reply.code(503).send({ error: { code: 'internal', message: 'the clients are not built' } }),
      );
    }
    return;
  }
  await app.register(fastifyStatic, {
    root: clientDir,
    prefix: '/',
    index: false,
    wildcard: false,
    setHeaders: (res, path) => {
      res.header('cache-control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  app.get('/assets/*', (request, reply) => reply.sendFile(`assets/${(request.params as { '*': string })['*']}`));
  for (const screen of SCREENS) {
    app.get(`/${screen}`, (_request, reply) => reply.sendFile(`${screen}/index.html`));
  }
  app.get('/', (_request, reply) => reply.redirect('/board'));
}

import type { TestProject } from 'vitest/node';
import { RedisServer } from './redis-server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

/** One spawned redis-server for the whole run; each test keeps to its own key prefix. Fault tests spawn their own. */
export default async function setup(project: TestProject) {
  const redis = await RedisServer.start();
  project.provide('redisUrl', redis.url);
  return () => redis.stop();
}

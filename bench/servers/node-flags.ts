/**
 * How every measured server process runs. --expose-gc: memory is read after a full collection,
 * so it is what the devices keep alive. --max-semi-space-size=64 is how Lockstep runs in
 * production (package.json `start`, Dockerfile); the bare relay gets it too, so both are measured
 * on the same V8 settings.
 */
export const SERVER_NODE_FLAGS = ['--expose-gc', '--max-semi-space-size=64'];

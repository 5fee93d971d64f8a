import { networkInterfaces } from 'node:os';

/**
 * The origins a browser shows for pages this node serves when no public URL is configured: its
 * loopback and interface addresses at its port. Never a name taken from a request: `Host` is
 * whatever the client says, and a name is what DNS rebinding points at this machine.
 */
export function addressOrigins(port: number): string[] {
  const addresses = Object.values(networkInterfaces())
    .flat()
    .flatMap((i) => (i ? [i.family === 'IPv6' ? `[${i.address.split('%')[0]}]` : i.address] : []));
  const hosts = [...new Set(['localhost', '127.0.0.1', '[::1]', ...addresses])];
  return hosts.flatMap((host) => [
    `http://${host}:${port}`,
    `https://${host}:${port}`,
    // A browser leaves the scheme's default port out of the origin.
    ...(port === 80 ? [`http://${host}`] : []),
    ...(port === 443 ? [`https://${host}`] : []),
  ]);
}

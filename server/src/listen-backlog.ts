/**
 * Connections the kernel holds for the node to accept. A node taking over a dead node's devices
 * is sent thousands of reconnects within half a second; with Node's default of 511 the rest of
 * the SYNs are dropped, and each waits out TCP's retransmit (1 s, then 3 s) while the node idles.
 * The kernel caps it at net.core.somaxconn.
 */
export const LISTEN_BACKLOG = 4096;

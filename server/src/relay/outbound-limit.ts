import type { Socket } from 'socket.io';

/**
 * Past this many bytes waiting to be sent to one socket, the socket is dropped. Well above the
 * largest single reply (a watcher's snapshot of 500 triggers is about 1 MB), so a slow but
 * reading link is never dropped for one big reply; what it bounds is a socket that never reads.
 */
export const OUTBOUND_LIMIT_BYTES = 8 * 1024 * 1024;

type EngineConnection = Socket['conn'];

/** The `ws` socket under engine.io's WebSocket transport; engine.io does not type it. */
interface RawWebSocket {
  bufferedAmount: number;
  terminate(): void;
}

function rawWebSocket(conn: EngineConnection): RawWebSocket | undefined {
  const raw: unknown = (conn.transport as unknown as { socket?: unknown }).socket;
  if (typeof raw !== 'object' || raw === null) return undefined;
  const candidate = raw as Partial<RawWebSocket>;
  return typeof candidate.bufferedAmount === 'number' && typeof candidate.terminate === 'function' ? (raw as RawWebSocket) : undefined;
}

const sizeOf = (data: unknown): number =>
  typeof data === 'string' ? data.length : data instanceof ArrayBuffer || ArrayBuffer.isView(data) ? data.byteLength : 0;

/**
 * Bounds what a socket that does not read can make this node hold: engine.io's write buffer
 * (packets not yet handed to the transport) plus what `ws` and the TCP stream still hold. Beyond
 * `limitBytes` the connection is cut, not closed politely (a polite close waits for the buffer to
 * drain, which never happens); the device sees the transport close, reconnects, and gets its
 * cues again from `lastSeq` (docs/PROTOCOL.md §5), so nothing is lost.
 */
export function dropWhenBacklogged(conn: EngineConnection, limitBytes: number, onDrop: (backlogBytes: number) => void): void {
  let queued = 0;
  let dropped = false;
  conn.on('flush', () => {
    queued = 0;
  });
  conn.on('packetCreate', (packet: { data?: unknown }) => {
    if (dropped) return;
    queued += sizeOf(packet.data);
    const ws = rawWebSocket(conn);
    const backlog = queued + (ws?.bufferedAmount ?? 0);
    if (backlog <= limitBytes) return;
    dropped = true;
    onDrop(backlog);
    if (ws) ws.terminate();
    else conn.close();
  });
}

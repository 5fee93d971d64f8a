/**
 * The version of docs/PROTOCOL.md this code speaks, sent in the handshake: a page left open across
 * a deploy that changed the protocol is refused and reloads instead of talking past the server.
 * A module of its own, so the driver's bundle takes this one number and no catalogue or zod.
 */
export const PROTOCOL_VERSION = 1;

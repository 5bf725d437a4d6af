import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** A base64 nonce of 16 bytes (RFC 6455 §4.1). */
const KEY = /^[+/0-9A-Za-z]{22}==$/;
/** An HTTP token (RFC 7230 §3.2.6), which a subprotocol name must be. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

const hasToken = (header: string | undefined, token: string) =>
  (header ?? '').split(',').some((t) => t.trim().toLowerCase() === token);

/**
 * Answer a WebSocket upgrade (RFC 6455 §4.2) on the raw socket, so the stream behind it
 * can be framed by hand (ws-frames.ts) instead of through a general-purpose WebSocket
 * object. Refuses with an HTTP error what is not a version-13 upgrade. Offers no
 * extension (so no compression: VNC's encodings compress already) and picks `binary`
 * among offered subprotocols (what noVNC asks for), else the first offered, as ws does.
 * Returns whether the socket is now a WebSocket.
 */
export function acceptUpgrade(req: IncomingMessage, socket: Duplex): boolean {
  const refuse = (status: string, extra = '') => {
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n${extra}Content-Length: 0\r\n\r\n`);
    return false;
  };
  const key = req.headers['sec-websocket-key'];
  if (req.method !== 'GET' || !hasToken(req.headers.upgrade, 'websocket') || typeof key !== 'string' || !KEY.test(key)) {
    return refuse('400 Bad Request');
  }
  if (req.headers['sec-websocket-version'] !== '13') return refuse('426 Upgrade Required', 'Sec-WebSocket-Version: 13\r\n');
  const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter((p) => p);
  if (offered.some((p) => !TOKEN.test(p))) return refuse('400 Bad Request');
  const protocol = offered.includes('binary') ? 'binary' : offered[0];
  const accept = createHash('sha1').update(key + GUID).digest('base64');
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Accept: ${accept}\r\n${protocol ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : ''}\r\n`,
  );
  return true;
}

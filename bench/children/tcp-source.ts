import { createServer, type AddressInfo, type Server } from 'node:net';

/**
 * The TCP service the VNC proxy benchmark reaches through each proxy: one port streams
 * bytes as fast as the reader takes them (a VNC server sending framebuffer updates),
 * the other echoes what it gets (input events and their answers). Runs in a process of
 * its own so its work is charged to nobody we measure.
 */
const CHUNK = Buffer.alloc(256 * 1024, 0x5a);

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

const bulk = createServer((s) => {
  s.setNoDelay(true);
  s.on('error', () => undefined);
  const pump = () => {
    while (!s.destroyed && s.write(CHUNK));
  };
  s.on('drain', pump);
  pump();
});
const echo = createServer((s) => {
  s.setNoDelay(true);
  s.on('error', () => undefined);
  s.on('data', (d) => s.write(d));
});
const [b, e] = await Promise.all([listen(bulk), listen(echo)]);
process.stdout.write(`${JSON.stringify({ bulk: b, echo: e })}\n`);
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));

import type { ConsoleEndpoint } from '../driver.js';
import { driverError } from '../../base/errors.js';
import { what, type Lv } from './context.js';
import { isActiveState, domstate } from './lifecycle.js';
import { D, uriHost } from './virsh.js';

/** `virsh domdisplay --type vnc`: vnc://HOST:DISPLAY or vnc+unix:///PATH. */
export function parseDisplay(text: string): { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number } | undefined {
  const t = text.trim();
  const unix = /^vnc\+unix:\/\/(\/\S+)$/.exec(t);
  if (unix) return { kind: 'unix', path: decodeURIComponent(unix[1]!) };
  const tcp = /^vnc:\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^:/]+):(\d+)\/?$/.exec(t);
  if (tcp) return { kind: 'tcp', host: tcp[1]!.replace(/^\[|\]$/g, ''), port: 5900 + Number(tcp[2]) };
  return undefined;
}

const LOOPBACK = /^(127\.|::1$|localhost$)/;
const ANY = /^(0\.0\.0\.0|::)$/;

/**
 * Where the core's WebSocket proxy finds a domain's VNC server, from `domdisplay`. A
 * unix socket (what NovaCron gives the domains it defines) or a TCP port (virt-manager's
 * usual 127.0.0.1 autoport). On a remote connection only a VNC server listening on a
 * reachable address can be proxied: one bound to the remote host's loopback or to a
 * socket there is out of reach, and the error says so.
 */
export async function vncEndpoint(lv: Lv, local: string, signal: AbortSignal): Promise<ConsoleEndpoint> {
  const uuid = lv.domains.check(local);
  const facts = await lv.domains.factsOf(uuid, signal);
  const state = await domstate(lv, uuid, signal);
  if (!isActiveState(state)) throw driverError(D, 'CONFLICT', `${what(facts)} is not running (${state}): it has no screen`);
  if (!facts.graphics.some((g) => g.type === 'vnc')) {
    const other = facts.graphics.map((g) => g.type).join(', ');
    throw driverError(D, 'NOT_SUPPORTED', `${what(facts)} has no VNC display${other ? ` (it has ${other}, which the console does not speak)` : ''}`);
  }
  const ep = parseDisplay(await lv.virsh.run(['domdisplay', uuid, '--type', 'vnc'], { signal }));
  if (!ep) throw driverError(D, 'INTERNAL', `${what(facts)}: libvirt gave no VNC address`);
  if (lv.local) return ep.kind === 'tcp' && ANY.test(ep.host) ? { kind: 'tcp', host: '127.0.0.1', port: ep.port } : ep;
  if (ep.kind === 'unix') throw driverError(D, 'NOT_SUPPORTED', `${what(facts)}: its VNC server is a unix socket on ${uriHost(lv.uri) ?? 'the remote host'}, out of this host's reach`);
  if (LOOPBACK.test(ep.host)) throw driverError(D, 'NOT_SUPPORTED', `${what(facts)}: its VNC server listens on the loopback of ${uriHost(lv.uri) ?? 'the remote host'} only`);
  return { kind: 'tcp', host: ANY.test(ep.host) ? uriHost(lv.uri)!.replace(/^\[|\]$/g, '') : ep.host, port: ep.port };
}

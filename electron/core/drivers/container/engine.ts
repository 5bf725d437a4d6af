import { existsSync, readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { inspect } from 'node:util';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { invalid } from '../../base/errors.js';
import { D, engineError } from './errors.js';

/**
 * Where a Docker engine listens, as DOCKER_HOST spells it: unix:///path, tcp://host:port
 * or ssh://user@host[:port]. Parsed here once, for the configured engine and for
 * migration targets alike.
 */
export type EngineAddress =
  | { kind: 'unix'; path: string; text: string }
  | { kind: 'tcp'; host: string; port: number; tls: boolean; text: string }
  | { kind: 'ssh'; host: string; port: number; user?: string; text: string };

export function parseEngineAddress(raw: string, field = 'container.docker_host'): EngineAddress {
  const text = raw.trim();
  // eslint-disable-next-line no-control-regex -- control characters are exactly what we reject
  if (/[\u0000-\u001f\u007f]/.test(text)) throw invalid(field, 'must not contain control characters', D);
  if (text.startsWith('/')) return { kind: 'unix', path: text, text: `unix://${text}` };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid(field, `'${text}' is not an engine address (unix:///var/run/docker.sock, tcp://host:2375, ssh://user@host)`, D);
  }
  switch (url.protocol) {
    case 'unix:': {
      const path = decodeURIComponent(url.pathname);
      if (url.host || !path.startsWith('/')) throw invalid(field, `'${text}': a unix address is unix:///absolute/path`, D);
      return { kind: 'unix', path, text: `unix://${path}` };
    }
    case 'tcp:':
    case 'http:':
    case 'https:': {
      if (!url.hostname) throw invalid(field, `'${text}' names no host`, D);
      const tls = url.protocol === 'https:' || url.port === '2376' || process.env.DOCKER_TLS_VERIFY === '1';
      const port = Number(url.port || (tls ? 2376 : 2375));
      return { kind: 'tcp', host: url.hostname.replace(/^\[|\]$/g, ''), port, tls, text: `tcp://${url.host}${url.port ? '' : `:${port}`}` };
    }
    case 'ssh:': {
      if (!url.hostname) throw invalid(field, `'${text}' names no host`, D);
      const user = decodeURIComponent(url.username) || undefined;
      const port = Number(url.port || 22);
      return { kind: 'ssh', host: url.hostname.replace(/^\[|\]$/g, ''), port, ...(user ? { user } : {}), text: `ssh://${user ? `${user}@` : ''}${url.host}` };
    }
    default:
      throw invalid(field, `'${url.protocol}' engines are not supported: use unix://, tcp:// or ssh://`, D);
  }
}

/** The private keys ssh would try, for when no agent is running. */
function sshKey(): Buffer | undefined {
  for (const f of ['id_ed25519', 'id_ecdsa', 'id_rsa']) {
    const p = join(homedir(), '.ssh', f);
    if (existsSync(p)) return readFileSync(p);
  }
  return undefined;
}

/**
 * The HTTP agent for engines on a unix socket: the settings of Node's global agent (keep-alive), plus an empty
 * TLS server name. Without one, Node works a server name out of the Host header for every request and tests it
 * against its IPv6 pattern, whose first use in a process compiles that pattern: ~4.6 ms of CPU in every process
 * that talks to dockerd (each `novacron ls`), for a name a unix socket never uses.
 */
let unixAgent: Agent | undefined;
const agentForUnix = () =>
  (unixAgent ??= new Agent({ keepAlive: true, scheduling: 'lifo', timeout: 5000, noDelay: true, servername: '' } as ConstructorParameters<typeof Agent>[0]));

/**
 * docker-modem formats every request's options with util.inspect (hidden fields, no depth limit) for its debug log,
 * whether that log is on or not: ~1.7 ms of CPU for a process's first request (inspect's own code warming up), then
 * ~0.1 ms a request when it carries an AbortSignal (nearly every call of ours does; the watchers' too), ~6 times the
 * rest. Unless a DEBUG log is asked for, each request's options answer inspect with one word instead.
 */
function quietRequests(docker: Dockerode): void {
  if (process.env.DEBUG) return;
  type Build = (options: object, ...rest: unknown[]) => unknown;
  const modem = docker.modem as unknown as { buildRequest: Build };
  const build = modem.buildRequest;
  modem.buildRequest = function (this: unknown, options, ...rest) {
    Object.defineProperty(options, inspect.custom, { value: quietOptions });
    return build.call(this, options, ...rest);
  };
}
const quietOptions = () => '[request options: set DEBUG=modem to see them]';

/**
 * Modem options for an address. Every field docker-modem would otherwise take from the
 * environment is set explicitly, so a DOCKER_HOST in our own environment never wins over
 * the address we were asked to use.
 */
export function modemOptions(a: EngineAddress): Dockerode.DockerOptions {
  const none = { socketPath: undefined, host: undefined, port: undefined, protocol: undefined } as const;
  switch (a.kind) {
    case 'unix':
      return { ...none, socketPath: a.path, agent: agentForUnix() } as Dockerode.DockerOptions;
    case 'tcp': {
      const certs = process.env.DOCKER_CERT_PATH;
      const tlsFiles = a.tls && certs
        ? { ca: readFileSync(join(certs, 'ca.pem')), cert: readFileSync(join(certs, 'cert.pem')), key: readFileSync(join(certs, 'key.pem')) }
        : {};
      return { ...none, host: a.host, port: a.port, protocol: a.tls ? 'https' : 'http', ...tlsFiles };
    }
    case 'ssh': {
      const agent = process.env.SSH_AUTH_SOCK;
      const key = agent ? undefined : sshKey();
      return {
        ...none,
        host: a.host,
        port: a.port,
        protocol: 'ssh',
        ...(a.user ? { username: a.user } : {}),
        sshOptions: { ...(agent ? { agent } : {}), ...(key ? { privateKey: key } : {}), readyTimeout: 10_000 },
      };
    }
  }
}

export interface Engine {
  address: EngineAddress;
  docker: Dockerode;
}

/** One dockerode client per engine address, created on first use. */
export class Engines {
  private readonly clients = new Map<string, Engine>();
  constructor(private readonly load: () => Promise<typeof Dockerode>) {}

  async get(a: EngineAddress): Promise<Engine> {
    const hit = this.clients.get(a.text);
    if (hit) return hit;
    const Docker = await this.load();
    let docker: Dockerode;
    try {
      docker = new Docker(modemOptions(a));
      quietRequests(docker);
    } catch (e) {
      throw engineError(e, `cannot reach the engine at ${a.text}`);
    }
    const engine = { address: a, docker };
    this.clients.set(a.text, engine);
    return engine;
  }
}

/** Whether the engine runs on this machine, so its containers' cgroup files are ours to read. */
export const isLocal = (a: EngineAddress) => a.kind === 'unix';

/** What /version and /info answer, in the parts we read. */
export interface EngineVersion {
  Version: string;
  ApiVersion: string;
  MinAPIVersion?: string;
  Os?: string;
  Arch?: string;
}
export interface EngineInfo {
  CgroupVersion?: string;
  CgroupDriver?: string;
  MemoryLimit?: boolean;
  Driver?: string;
  DefaultRuntime?: string;
  Runtimes?: Record<string, unknown>;
}

/** dockerode takes an abort signal for these; its typings do not say so. */
type WithSignal = { version(o: { abortSignal: AbortSignal }): Promise<EngineVersion>; info(o: { abortSignal: AbortSignal }): Promise<EngineInfo> };
export const engineVersion = (docker: Dockerode, signal: AbortSignal) => (docker as unknown as WithSignal).version({ abortSignal: signal });
export const engineInfo = (docker: Dockerode, signal: AbortSignal) => (docker as unknown as WithSignal).info({ abortSignal: signal });

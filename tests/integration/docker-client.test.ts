import Docker from 'dockerode';
import { inspect } from 'node:util';
import { expect, it } from 'vitest';
import { Engines, parseEngineAddress } from '../../electron/core/drivers/container/engine.js';
import { DOCKER_SOCK, dockerWhy } from '../helpers/docker.js';
import { describeWith } from '../helpers/engines.js';

/** ping with a signal: dockerode's types know only its callback form for options. */
const ping = (d: Docker, signal: AbortSignal) => (d as unknown as { ping(o: object): Promise<Buffer | string> }).ping({ abortSignal: signal });

/**
 * The dockerode client the container driver makes for an engine on a unix socket, against
 * the real dockerd: requests go through (its own keep-alive agent, with no TLS server name
 * to work out), and docker-modem's debug formatting of each request's options, which it
 * does whether its log is on or not, meets a one-line inspect instead of walking the
 * request's AbortSignal.
 */
describeWith('dockerd', dockerWhy(), 'docker client of the container driver, against the real dockerd', () => {
  it('answers through its agent, and its requests inspect in one line (the signal still on them)', async () => {
    const { docker } = await new Engines(async () => Docker).get(parseEngineAddress(`unix://${DOCKER_SOCK}`));
    const modem = docker.modem as unknown as { agent: { options: { servername?: string; keepAlive?: boolean } }; buildRequest: (o: object, ...r: unknown[]) => unknown };
    expect(modem.agent.options).toMatchObject({ servername: '', keepAlive: true });
    // Sees each request's options on its way to the modem's own buildRequest (the driver's wrapper runs inside this one).
    const seen: { signal?: AbortSignal }[] = [];
    const wrapped = modem.buildRequest;
    modem.buildRequest = function (this: unknown, o: object, ...r: unknown[]) {
      seen.push(o);
      return wrapped.call(this, o, ...r);
    };
    const ac = new AbortController();
    expect(String(await ping(docker, ac.signal))).toBe('OK');
    expect(seen).toHaveLength(1);
    expect(seen[0]!.signal).toBe(ac.signal);
    expect(inspect(seen[0], { showHidden: true, depth: null })).toBe('[request options: set DEBUG=modem to see them]');
    // A plain dockerode client formats the whole of them, signal and all.
    const plain = new Docker({ socketPath: DOCKER_SOCK });
    const plainModem = plain.modem as unknown as typeof modem;
    const plainSeen: object[] = [];
    const plainBuild = plainModem.buildRequest;
    plainModem.buildRequest = function (this: unknown, o: object, ...r: unknown[]) {
      plainSeen.push(o);
      return plainBuild.call(this, o, ...r);
    };
    await ping(plain, new AbortController().signal);
    expect(inspect(plainSeen[0], { showHidden: true, depth: null })).toContain('AbortSignal');
  });
});

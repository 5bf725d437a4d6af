import Docker from 'dockerode';
import net from 'node:net';
import { afterEach, expect, it, vi } from 'vitest';
import { modemOptions, parseEngineAddress } from '../../electron/core/drivers/container/engine.js';
import { describeWith } from '../helpers/engines.js';
import { DOCKER_SOCK, dockerWhy } from '../helpers/docker.js';

// A local engine's requests go through an agent of their own (engine.ts): keep-alive like
// node's global agent, without working out a TLS server name for plain HTTP on a socket,
// which node does by testing 'localhost' against its IPv6 pattern (~5 ms at each start).

describeWith('docker', dockerWhy(), "a local engine's HTTP agent, against the real dockerd", () => {
  afterEach(() => vi.restoreAllMocks());

  it('answers, over one kept connection, without testing whether its host is an IP address', async () => {
    const opts = modemOptions(parseEngineAddress(`unix://${DOCKER_SOCK}`));
    const docker = new Docker(opts);
    const isIP = vi.spyOn(net, 'isIP');
    const connect = vi.spyOn(opts.agent!, 'createConnection');
    for (let i = 0; i < 3; i++) expect(String(await docker.ping())).toBe('OK');
    expect((await docker.version()).ApiVersion).toMatch(/^\d+\.\d+$/);
    expect(connect).toHaveBeenCalledTimes(1);
    expect(isIP).not.toHaveBeenCalled();
    opts.agent!.destroy();
  });

  it("where node's global agent, as dockerode uses by default, does test it", async () => {
    const isIP = vi.spyOn(net, 'isIP');
    expect(String(await new Docker({ socketPath: DOCKER_SOCK }).ping())).toBe('OK');
    expect(isIP).toHaveBeenCalledWith('localhost');
  });
});

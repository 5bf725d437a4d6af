import { randomBytes } from 'node:crypto';
import { busyboxImage, cleanupPrefix, docker, dockerWhy } from '../../tests/helpers/docker.js';
import { openContract } from '../lib/contract.js';
import { contractPath, CYCLES, lifecycleEntries, runCycles, type Path } from '../lib/lifecycle.js';
import { runMs } from '../lib/measure.js';
import type { Entry } from '../lib/report.js';
import type { BenchContext } from '../lib/context.js';

/**
 * Figure 1, Docker: the lifecycle through the contract (in-process and over the
 * WebSocket) against dockerode called directly in this process, and against the docker
 * CLI. Same image, same command, same engine. `stop` is `docker stop -t 0` everywhere
 * (busybox's sleep as PID 1 ignores SIGTERM); `delete` removes the container and its
 * snapshot image, as NovaCron's delete does; `snapshot` is a commit of the running container.
 */
export async function lifecycleDocker(ctx: BenchContext): Promise<Entry[]> {
  const why = dockerWhy();
  if (why) throw new Error(`docker: ${why}`);
  const prefix = `nc-bench-${randomBytes(3).toString('hex')}`;
  const d = docker();
  const image = await busyboxImage(d, `${prefix}-img:latest`);
  const contract = await openContract(ctx);
  const spec = (p: string) => (i: number) => ({ driver: 'container', name: `${prefix}-${p}${i}`, image, cmd: 'sleep', args: ['3600'] });
  const snapRepo = (name: string) => `${prefix}-snap/${name}`;

  const raw: Path = {
    name: 'dockerode',
    kind: 'raw',
    async cycle(i, time) {
      const name = `${prefix}-r${i}`;
      const c = await time('create', () => d.createContainer({ name, Image: image, Cmd: ['sleep', '3600'] }));
      await time('start', () => c.start());
      await time('pause', () => c.pause());
      await time('resume', () => c.unpause());
      await time('snapshot', () => c.commit({ repo: snapRepo(name), tag: 's1', pause: true }));
      await time('stop', () => c.stop({ t: 0 }));
      await time('delete', async () => {
        await c.remove();
        await d.getImage(`${snapRepo(name)}:s1`).remove();
      });
    },
  };

  const cliPath: Path = {
    name: 'docker CLI',
    kind: 'cli',
    async cycle(i, time) {
      const name = `${prefix}-c${i}`;
      const dk = (...args: string[]) => runMs('docker', args);
      await time('create', () => dk('create', '--name', name, image, 'sleep', '3600'));
      await time('start', () => dk('start', name));
      await time('pause', () => dk('pause', name));
      await time('resume', () => dk('unpause', name));
      await time('snapshot', () => dk('commit', name, `${snapRepo(name)}:s1`));
      await time('stop', () => dk('stop', '-t', '0', name));
      await time('delete', async () => {
        await dk('rm', name);
        await dk('rmi', `${snapRepo(name)}:s1`);
      });
    },
  };

  try {
    const results = await runCycles(
      [
        contractPath('NovaCron (in-process)', 'inproc', contract.inproc, spec('i')),
        contractPath('NovaCron (WebSocket)', 'ws', contract.ws, spec('w')),
        raw,
        cliPath,
      ],
      ctx.reps(CYCLES),
    );
    return lifecycleEntries('docker', results, {
      create: "NovaCron answers with the row it made: the image's default command comes from what it read at an earlier create while the engine's event stream (its watcher's) says the tag has not moved, else it is read alongside the create; no round trip after it",
      start: 'NovaCron reads the container before the start (the create answered without an inspect) and inspects it after, for the answer',
      stop: 'NovaCron inspects the container after the stop, for the answer (its exit)',
      delete: "NovaCron lists the workload's snapshot images while the container is removed (the engine refuses a running one itself); raw removes the one image it knows",
    });
  } finally {
    await contract.close();
    await cleanupPrefix(d, prefix);
  }
}

import { describe, it } from 'vitest';

/**
 * A suite that needs a real engine (dockerd, containerd, QEMU, libvirt, a cgroup we may
 * write). Where the engine is missing it fails loudly under CI=true, and elsewhere is
 * skipped with the reason printed: never a silent pass.
 */
export function describeWith(engine: string, why: string | undefined, name: string, body: () => void): void {
  if (why === undefined) {
    describe(name, body);
    return;
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      it(`needs ${engine}`, () => {
        throw new Error(`${engine} is required under CI but missing: ${why}`);
      });
    });
    return;
  }
  console.warn(`SKIPPED "${name}": ${engine} is not available here: ${why}`);
  describe.skip(name, body);
}


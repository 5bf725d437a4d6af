import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CONFIG_KEY_NAMES } from '../../shared/config.js';
import { loadConfig, writeConfigKeys } from '../../electron/core/config/config.js';
import { resolvePaths } from '../../electron/core/base/paths.js';
import { tempHome } from '../helpers/home.js';

describe('configuration', () => {
  const t = tempHome();
  const paths = resolvePaths(t.env);
  afterEach(() => {
    try {
      writeFileSync(paths.configFile, '');
    } catch {
      /* first test has no file */
    }
  });
  afterAll(() => t.cleanup());

  it('works with no file at all, from defaults inside the data dir', async () => {
    const c = await loadConfig(paths, t.env);
    expect(c.config['process.base_path']).toBe(join(t.home, 'processes'));
    expect(c.config['kvm.vm_base_path']).toBe(join(t.home, 'vms'));
    expect(c.config['containerd.namespace']).toBe('novacron');
    expect(c.sources['kvm.enable_kvm']).toBe('default');
  });

  it("reads the seed's nested layout under vm_drivers", async () => {
    mkdirSync(t.home, { recursive: true });
    writeFileSync(paths.configFile, 'vm_drivers:\n  node_id: lab-1\n  kvm:\n    enable_kvm: false\n  containerd:\n    namespace: lab\n');
    const c = await loadConfig(paths, t.env);
    expect(c.config.node_id).toBe('lab-1');
    expect(c.config['kvm.enable_kvm']).toBe(false);
    expect(c.sources['containerd.namespace']).toBe('file');
  });

  it('lets the environment override the file', async () => {
    writeFileSync(paths.configFile, 'kvm:\n  enable_kvm: true\n');
    const c = await loadConfig(paths, { ...t.env, NOVACRON_KVM_ENABLE_KVM: 'no' });
    expect(c.config['kvm.enable_kvm']).toBe(false);
    expect(c.sources['kvm.enable_kvm']).toBe('env');
  });

  it('names the key of an unknown or invalid entry', async () => {
    writeFileSync(paths.configFile, 'kvm:\n  qemu_bin: x\n');
    await expect(loadConfig(paths, t.env)).rejects.toThrow(/config: kvm\.qemu_bin .*is not a configuration key/);
    writeFileSync(paths.configFile, 'kvm:\n  enable_kvm: maybe\n');
    await expect(loadConfig(paths, t.env)).rejects.toThrow(/config: kvm\.enable_kvm .*must be true or false/);
    writeFileSync(paths.configFile, '');
    await expect(loadConfig(paths, { ...t.env, CONTAINERD_ADDRESS: 'relative.sock' })).rejects.toThrow(/containerd\.address \(environment CONTAINERD_ADDRESS\): must be an absolute path/);
  });

  it('writes keys back keeping the comments', async () => {
    writeFileSync(paths.configFile, '# my lab\nkvm:\n  enable_kvm: true # yes\n');
    await writeConfigKeys(paths, { 'kvm.enable_kvm': false, node_id: 'box' });
    const text = readFileSync(paths.configFile, 'utf8');
    expect(text).toContain('# my lab');
    expect((await loadConfig(paths, t.env)).config['kvm.enable_kvm']).toBe(false);
    await writeConfigKeys(paths, { node_id: null });
    expect(readFileSync(paths.configFile, 'utf8')).not.toContain('node_id');
  });

  it('treats an empty file as no keys, whatever was written to it before (found by the fuzzer)', async () => {
    writeFileSync(paths.configFile, '');
    await writeConfigKeys(paths, {});
    await writeConfigKeys(paths, { node_id: null });
    await writeConfigKeys(paths, { 'container.docker_path': 'docker' });
    expect((await loadConfig(paths, t.env)).config['container.docker_path']).toBe('docker');
    writeFileSync(paths.configFile, 'null\n');
    await writeConfigKeys(paths, { node_id: 'box' });
    expect((await loadConfig(paths, t.env)).config.node_id).toBe('box');
    writeFileSync(paths.configFile, '- a list\n');
    await expect(writeConfigKeys(paths, { node_id: 'box' })).rejects.toThrow(/must be a mapping of keys/);
  });

  it('sets into and removes from a section left empty, and names a section that is not a mapping (found by the fuzzer)', async () => {
    writeFileSync(paths.configFile, 'kvm:\ncontainerd:\n');
    await writeConfigKeys(paths, { 'containerd.address': null, 'kvm.qemu_binary': null });
    await writeConfigKeys(paths, { 'kvm.enable_kvm': false });
    expect((await loadConfig(paths, t.env)).config['kvm.enable_kvm']).toBe(false);
    writeFileSync(paths.configFile, 'kvm: 5\n');
    await expect(writeConfigKeys(paths, { 'kvm.enable_kvm': true })).rejects.toThrow(/kvm\.enable_kvm.*'kvm' in the file is not a mapping/);
  });

  it('takes any sequence of writes onto any mapping-shaped file: written, or refused naming the key', async () => {
    const files = ['', '{}\n', 'null\n', 'kvm:\n', 'vm_drivers:\n', 'vm_drivers:\n  kvm:\n', 'kvm: {}\ncontainerd:\n  address: /x\n'];
    const value = fc.constantFrom(null, 'a', true, false, '', '5', '{}', '~');
    const writes = fc.array(fc.dictionary(fc.constantFrom(...CONFIG_KEY_NAMES), value, { minKeys: 1, maxKeys: 3 }), { minLength: 1, maxLength: 6 });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...files), writes, async (file, batches) => {
        writeFileSync(paths.configFile, file);
        for (const values of batches) {
          await writeConfigKeys(paths, values).catch((e: { code?: string }) => expect(e.code).toBe('INVALID_ARGUMENT'));
        }
      }),
      { numRuns: 300 },
    );
  });
});

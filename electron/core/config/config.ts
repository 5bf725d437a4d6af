import { hostname } from 'node:os';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Document, parseDocument, isMap, isScalar } from 'yaml';
import type { Config, ConfigKey } from '../../../shared/config.js';
import { CONFIG_KEYS, CONFIG_KEY_NAMES, isConfigKey } from '../../../shared/config.js';
import { NovaError, isNodeError } from '../base/errors.js';
import { writeFileAtomic } from '../base/fsx.js';
import type { Paths } from '../base/paths.js';

export type ConfigSource = 'default' | 'file' | 'env';
export interface LoadedConfig {
  config: Config;
  file: string;
  sources: Record<ConfigKey, ConfigSource>;
}

/** Defaults that work on a stock Debian, Ubuntu or Fedora machine with no config file. */
export function defaults(paths: Paths): Config {
  return {
    node_id: hostname().replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 63) || 'localhost',
    'process.base_path': join(paths.home, 'processes'),
    'kvm.qemu_binary': 'qemu-system-x86_64',
    'kvm.qemu_img_binary': 'qemu-img',
    'kvm.vm_base_path': join(paths.home, 'vms'),
    'kvm.enable_kvm': true,
    'container.docker_path': 'docker',
    'container.docker_host': 'unix:///var/run/docker.sock',
    'containerd.address': '/run/containerd/containerd.sock',
    'containerd.namespace': 'novacron',
    'kata_containers.runtime': 'io.containerd.kata.v2',
    'kata_containers.hypervisor': 'qemu',
    'kata_containers.base_path': join(paths.home, 'kata'),
    'libvirt.uri': 'qemu:///system',
    'libvirt.shared_storage': false,
    'log.level': 'info',
  };
}

const badConfig = (key: string, where: string, message: string) =>
  new NovaError('INVALID_ARGUMENT', `config: ${key} (${where}): ${message}`, { field: key });

/** Flatten the YAML tree into dotted keys; the seed nested everything under `vm_drivers`. */
function flatten(tree: unknown, file: string): Partial<Record<ConfigKey, unknown>> {
  if (tree === null || tree === undefined) return {};
  if (typeof tree !== 'object' || Array.isArray(tree)) throw badConfig('(root)', file, 'must be a mapping of keys');
  const root = tree as Record<string, unknown>;
  const body = 'vm_drivers' in root && Object.keys(root).length === 1 ? root.vm_drivers : root;
  const out: Partial<Record<ConfigKey, unknown>> = {};
  const walk = (node: unknown, prefix: string) => {
    if (node !== null && typeof node === 'object' && !Array.isArray(node)) {
      for (const [k, v] of Object.entries(node as Record<string, unknown>)) walk(v, prefix ? `${prefix}.${k}` : k);
      return;
    }
    // A section left empty (`kvm:` with nothing under it) holds no keys.
    if (node === null && CONFIG_KEY_NAMES.some((k) => k.startsWith(`${prefix}.`))) return;
    if (!isConfigKey(prefix)) throw badConfig(prefix, file, `is not a configuration key (known: ${CONFIG_KEY_NAMES.join(', ')})`);
    out[prefix] = node;
  };
  walk(body, '');
  return out;
}

function fromEnv(key: ConfigKey, raw: string): unknown {
  const schema = CONFIG_KEYS[key].schema;
  if (schema.safeParse(true).success) {
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
  }
  return raw;
}

export async function loadConfig(paths: Paths, env: NodeJS.ProcessEnv = process.env): Promise<LoadedConfig> {
  const config = defaults(paths) as Record<ConfigKey, unknown>;
  const sources = Object.fromEntries(CONFIG_KEY_NAMES.map((k) => [k, 'default'])) as Record<ConfigKey, ConfigSource>;
  const file = paths.configFile;
  let text: string | undefined;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if (!isNodeError(e, 'ENOENT')) throw new NovaError('UNAVAILABLE', `config: cannot read ${file}: ${(e as Error).message}`);
  }
  if (text !== undefined) {
    const doc = parseDocument(text);
    if (doc.errors.length) throw badConfig('(file)', file, doc.errors[0]?.message ?? 'is not valid YAML');
    for (const [key, value] of Object.entries(flatten(doc.toJS(), file)) as [ConfigKey, unknown][]) {
      const r = CONFIG_KEYS[key].schema.safeParse(value);
      if (!r.success) throw badConfig(key, file, r.error.issues[0]?.message ?? 'is invalid');
      config[key] = r.data;
      sources[key] = 'file';
    }
  }
  for (const key of CONFIG_KEY_NAMES) {
    const name = CONFIG_KEYS[key].env;
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const r = CONFIG_KEYS[key].schema.safeParse(fromEnv(key, raw));
    if (!r.success) throw badConfig(key, `environment ${name}`, r.error.issues[0]?.message ?? 'is invalid');
    config[key] = r.data;
    sources[key] = 'env';
  }
  return { config: config as Config, file, sources };
}

/** Write keys into the config file, keeping its comments and layout; null removes a key. */
export async function writeConfigKeys(paths: Paths, values: Record<string, string | boolean | null>): Promise<void> {
  const file = paths.configFile;
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if (!isNodeError(e, 'ENOENT')) throw e;
  }
  const parsed = parseDocument(text);
  if (parsed.errors.length) throw badConfig('(file)', file, parsed.errors[0]?.message ?? 'is not valid YAML');
  // An empty file (or one holding only `null`) is an empty mapping; anything else that is not a mapping is the admin's to fix.
  const empty = parsed.contents === null || (isScalar(parsed.contents) && parsed.contents.value === null);
  const doc: Document = empty ? new Document({}) : parsed;
  if (!isMap(doc.contents)) throw badConfig('(root)', file, 'must be a mapping of keys');
  const nestedUnder = isMap(doc.contents) && doc.has('vm_drivers') ? ['vm_drivers'] : [];
  for (const [key, value] of Object.entries(values)) {
    const path = [...nestedUnder, ...key.split('.')];
    // Sections on the way: one that is missing holds nothing to remove (and is made by setIn);
    // one left empty (`kvm:`) reads as null, holds nothing either, and becomes a mapping to set into.
    let absent = false;
    for (let depth = 1; depth < path.length && !absent; depth++) {
      const section = path.slice(0, depth);
      const node: unknown = doc.getIn(section, true);
      if (node === undefined || (isScalar(node) && node.value === null)) {
        absent = true;
        if (node !== undefined && value !== null) doc.setIn(section, doc.createNode({}));
      } else if (!isMap(node)) {
        throw badConfig(key, file, `'${section.join('.')}' in the file is not a mapping of keys`);
      }
    }
    if (absent && value === null) continue;
    if (value === null) doc.deleteIn(path);
    else doc.setIn(path, value);
  }
  await mkdir(dirname(file), { recursive: true });
  await writeFileAtomic(file, doc.toString());
}

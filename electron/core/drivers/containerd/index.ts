import { join } from 'node:path';
import type { Driver, DriverEnv } from '../driver.js';
import type { Profile } from './context.js';
import { containerdFamily } from './driver.js';

const CONTAINERD: Profile = {
  id: 'containerd',
  name: 'containerd',
  runtimes: ['runc', 'runsc', 'kata'],
  defaultRuntime: 'runc',
  listsOtherNamespaces: true,
};

/** Kata Containers: the containerd driver with Kata's runtime, its own label and folder. */
const KATA: Profile = {
  id: 'kata-containers',
  name: 'Kata Containers',
  runtimes: ['kata'],
  defaultRuntime: 'kata',
  listsOtherNamespaces: false,
};

export function createContainerdDriver(env: DriverEnv): Driver {
  return containerdFamily(env, CONTAINERD, join(env.paths.home, 'containerd'));
}

export function createKataDriver(env: DriverEnv): Driver {
  return containerdFamily(env, KATA, env.config['kata_containers.base_path']);
}

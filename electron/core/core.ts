import { isConfigKey } from '../../shared/config.js';
import { NovaError } from './base/errors.js';
import type { Disposable } from './base/lifecycle.js';
import { resolvePaths, type Paths } from './base/paths.js';
import { loadConfig, writeConfigKeys, type LoadedConfig } from './config/config.js';
import { DriverManager } from './drivers/manager.js';
import type { DriverEntry } from './drivers/registry.js';
import { createMethods } from './api/methods.js';
import { Router } from './api/router.js';
import { createStreams } from './api/streams.js';
import { EventService } from './services/events.js';
import { MetricsService } from './services/metrics.js';
import { ConsoleProxy } from './services/console-proxy.js';
import { TerminalRegistry } from './services/terminals.js';
import { Observability, type Role } from './observability/index.js';
import { UploadService } from './control-room/uploads.js';
import { VncConnectionsService } from './control-room/vnc-connections.js';

export interface CoreOptions {
  env?: NodeJS.ProcessEnv;
  /** Tests swap in their own driver list. */
  drivers?: readonly DriverEntry[];
  /** Which process this is, for the logs (default: cli). */
  role?: Role;
}

/**
 * The NovaCron core: one per process (Electron main, CLI, headless server), all of them
 * acting on the same data dir. It imports nothing from Electron.
 */
export class Core implements Disposable {
  readonly drivers: DriverManager;
  readonly events: EventService;
  readonly metrics: MetricsService;
  readonly terminals = new TerminalRegistry();
  readonly router: Router;
  /** Structured log, event log, secrets: see observability/. */
  readonly obs: Observability;
  readonly consoles: ConsoleProxy;
  /** Saved VNC connections (consoles to servers NovaCron does not run) and uploads for image imports. */
  readonly vnc: VncConnectionsService;
  readonly uploads: UploadService;

  private constructor(
    readonly paths: Paths,
    public config: LoadedConfig,
    readonly env: NodeJS.ProcessEnv,
    entries: readonly DriverEntry[] | undefined,
    role: Role,
  ) {
    this.obs = new Observability(paths, role, config.config['log.level'], () => this.config.config.node_id, env);
    this.drivers = new DriverManager({ config: config.config, paths }, entries);
    this.events = new EventService(this.drivers);
    this.events.onDidObserve(({ driver, change }) => this.obs.recorder.onObserved(driver, change));
    this.metrics = new MetricsService(this.drivers);
    this.consoles = new ConsoleProxy(this.drivers);
    this.vnc = new VncConnectionsService(paths.home, this.consoles);
    this.uploads = new UploadService(paths.home);
    this.router = new Router(
      createMethods(this),
      createStreams(this),
      (progress) => this.events.publish({ type: 'progress', progress }),
      (call) => this.obs.recorder.onCall(call),
      (method, input) => this.obs.recorder.onBegin(method, input),
    );
  }

  static async open(opts: CoreOptions = {}): Promise<Core> {
    const env = opts.env ?? process.env;
    const paths = resolvePaths(env);
    const config = await loadConfig(paths, env);
    return new Core(paths, config, env, opts.drivers, opts.role ?? 'cli');
  }

  async updateConfig(values: Record<string, string | boolean | null>): Promise<void> {
    for (const key of Object.keys(values)) {
      if (!isConfigKey(key)) throw new NovaError('INVALID_ARGUMENT', `values.${key}: is not a configuration key`, { field: `values.${key}` });
    }
    await writeConfigKeys(this.paths, values);
    this.config = await loadConfig(this.paths, this.env);
    this.drivers.reconfigure({ config: this.config.config, paths: this.paths });
    this.obs.level = this.config.config['log.level'];
  }

  /** Wait for the drivers' background work of operations that answered (see Driver.settle): before a process exits. */
  settle(): Promise<void> {
    return this.drivers.settle();
  }

  dispose(): void {
    this.router.dispose();
    this.consoles.dispose();
    this.uploads.dispose();
    this.terminals.dispose();
    this.metrics.dispose();
    this.events.dispose();
    this.drivers.dispose();
    this.obs.dispose();
  }
}

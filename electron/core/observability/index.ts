import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { appRoot } from '../base/app-root.js';
import { type Disposable, toDisposable } from '../base/lifecycle.js';
import type { Paths } from '../base/paths.js';
import type { EventService } from '../services/events.js';
import { EventLog } from './event-log.js';
import type { RotatingFile } from './jsonl.js';
import { createLogger, type Logger, type LogLevel } from './logger.js';
import { Recorder } from './recorder.js';
import { Secrets } from './secrets.js';

let version: string | undefined;
/** NovaCron's version, from its package.json. */
export function appVersion(): string {
  if (version) return version;
  try {
    version = (JSON.parse(readFileSync(join(appRoot(), 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    version = 'unknown';
  }
  return version;
}

/** Which kind of NovaCron process this is, for the logs: the CLI, `serve`, the desktop app. */
export type Role = 'cli' | 'headless' | 'desktop' | 'test';

/**
 * The core's observability, one per process: the structured log, the shared event log
 * and the recorder that feeds both. The core wires it to the router and the event
 * service; everything else (the Prometheus exporter, diagnostics) reads from here.
 */
export class Observability implements Disposable {
  readonly secrets = new Secrets();
  readonly log: Logger;
  readonly logFile: RotatingFile;
  readonly events: EventLog;
  readonly recorder: Recorder;
  private readonly disposeLog: () => void;

  constructor(
    readonly paths: Paths,
    readonly role: Role,
    level: LogLevel,
    host: () => string,
    env: NodeJS.ProcessEnv,
  ) {
    // A token handed over by the environment is a secret of this process from the start.
    this.secrets.add(env.NOVACRON_TOKEN);
    const logger = createLogger(paths.state, level, role, this.secrets);
    this.log = logger.log;
    this.logFile = logger.file;
    this.disposeLog = logger.dispose;
    this.events = new EventLog(paths.state, host, (line) => this.secrets.scrub(line));
    this.recorder = new Recorder(this.events, this.log);
  }

  set level(level: LogLevel) {
    this.log.level = level;
  }

  /**
   * Keep the drivers' own watchers running so the changes they report (a crash, an OOM
   * kill) reach the event log even when no window is open: long-lived processes do this.
   */
  watchDrivers(events: EventService): Disposable {
    const sub = events.subscribe(() => undefined);
    this.log.debug('watching the drivers for the event log');
    return toDisposable(() => sub.dispose());
  }

  dispose(): void {
    this.recorder.flushObserved();
    this.recorder.flushLog();
    this.events.dispose();
    this.disposeLog();
  }
}

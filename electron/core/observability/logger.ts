import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { JsonlAppender, type RotatingFile } from './jsonl.js';
import { REDACTED, type Secrets } from './secrets.js';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const LOG_FILE = join('logs', 'novacron.log');

/**
 * Fields that may carry a credential, whatever logs them. Inputs of operations are never
 * logged at all (a workload's env may hold secrets); this is the second line of defence,
 * and Secrets.scrub on the whole line the third.
 */
const REDACT_PATHS = [
  'token',
  '*.token',
  'password',
  '*.password',
  'secret',
  '*.secret',
  'authorization',
  'cookie',
  'headers.authorization',
  'headers.cookie',
  '*.headers.authorization',
  '*.headers.cookie',
  'env',
  '*.env',
];

/**
 * The core's structured log: JSON lines in `state/logs/novacron.log`, rotated by size,
 * written by every NovaCron process at once (the same appender as the event log).
 */
export function createLogger(stateDir: string, level: LogLevel, role: string, secrets: Secrets): { log: Logger; file: RotatingFile; dispose: () => void } {
  const file: RotatingFile = { path: join(stateDir, LOG_FILE), maxBytes: 5 * 1024 * 1024, keep: 3 };
  const dest = new JsonlAppender(file, (line) => secrets.scrub(line));
  const sink = {
    write(chunk: string) {
      try {
        dest.write(chunk);
      } catch (e) {
        // A log that cannot be written must not take the operation down with it; say so once.
        if (!warned) process.stderr.write(`novacron: cannot write ${file.path}: ${(e as Error).message}\n`);
        warned = true;
      }
      return true;
    },
  };
  let warned = false;
  const log = pino(
    {
      level,
      base: { pid: process.pid, role },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      formatters: { level: (label) => ({ level: label }) },
    },
    sink,
  );
  return { log, file, dispose: () => dest.dispose() };
}

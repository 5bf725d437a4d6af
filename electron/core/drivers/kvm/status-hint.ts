import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RUN_FILES } from './args.js';
import type { VmRunState } from './store.js';

/**
 * The run status a pause or resume saw, kept in the runtime dir for the one case QEMU
 * cannot be asked (its monitors busy): QEMU is the truth for it, so it is written without
 * fsync (a crash that loses it ends QEMU too) and never in state.json, whose writes are
 * durable. Overwritten in place, padded to one size (no block allocated per write); a
 * reader that catches a write halfway sees no known word and ignores it (as it does an
 * empty status: the blank hint a start writes).
 */
export function writeStatusHint(runDir: string, status: string): void {
  // Only a hint: a runtime dir gone (QEMU ended meanwhile) leaves nothing to hint about.
  writeHint(runDir, status, true);
}

const HINT_SIZE = 24;

/** What a stop writes in the status hint before QEMU is asked to quit (stopNow). */
const STOPPING = 'stopping';

/**
 * Mark a run as being stopped, in its status hint: one write in place, where renaming a new
 * run state waits on the journal behind QEMU's own disk work. False when it could not be written.
 */
export function hintStopping(runDir: string): boolean {
  return writeHint(runDir, STOPPING, false);
}

/** Overwrite the hint in place; where it is missing, make it only when `create` (else false). */
function writeHint(runDir: string, word: string, create: boolean): boolean {
  const path = join(runDir, RUN_FILES.statusHint);
  const text = word.padEnd(HINT_SIZE);
  try {
    writeFileSync(path, text, { flag: 'r+' });
    return true;
  } catch {
    if (!create) return false;
  }
  try {
    writeFileSync(path, text);
    return true;
  } catch {
    return false;
  }
}

/** Whether a stop hinted itself on this run (observe asks once its QEMU is gone). */
export function hintedStopping(run: VmRunState): boolean {
  return hintWord(run) === STOPPING;
}

const STATUSES = new Set(['running', 'paused', 'suspended', 'inmigrate', 'postmigrate', 'prelaunch', 'finish-migrate', 'io-error', 'internal-error', 'guest-panicked', 'save-vm', 'restore-vm', 'debug', 'watchdog', 'shutdown', 'colo']);

/** The run status the hint holds, when it holds one QEMU has. */
export function statusHint(run: VmRunState): string | undefined {
  const word = hintWord(run);
  return word !== undefined && STATUSES.has(word) ? word : undefined;
}

function hintWord(run: VmRunState): string | undefined {
  if (!run.runDir) return undefined;
  try {
    return readFileSync(join(run.runDir, RUN_FILES.statusHint), 'utf8').trim();
  } catch {
    return undefined;
  }
}

import { randomBytes } from 'node:crypto';
import { NovaError } from '../base/errors.js';
import type { Disposable } from '../base/lifecycle.js';
import type { TerminalSession } from '../drivers/driver.js';

/**
 * Open terminal sessions by their id. The id is 128 random bits handed only to the
 * subscriber that opened the session, so knowing it is the permission to type into it.
 */
export class TerminalRegistry implements Disposable {
  private readonly sessions = new Map<string, TerminalSession>();

  add(session: TerminalSession): string {
    const id = randomBytes(16).toString('hex');
    this.sessions.set(id, session);
    return id;
  }

  get(id: string): TerminalSession {
    const s = this.sessions.get(id);
    if (!s) throw new NovaError('NOT_FOUND', `terminal session '${id.slice(0, 8)}…' is not open`);
    return s;
  }

  remove(id: string): void {
    const s = this.sessions.get(id);
    this.sessions.delete(id);
    s?.dispose();
  }

  dispose(): void {
    for (const s of this.sessions.values()) s.dispose();
    this.sessions.clear();
  }
}

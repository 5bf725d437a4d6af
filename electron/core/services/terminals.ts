import { randomBytes } from 'node:crypto';
import { NovaError } from '../base/errors.js';
import type { Disposable } from '../base/lifecycle.js';
import type { TerminalSession } from '../drivers/driver.js';

/**
 * Open terminal sessions by their id. The id is 128 random bits handed only to the
 * subscriber that opened the session, and the session is bound to that subscriber's
 * connection (window, WebSocket, in-process client): another connection that learns the
 * id still cannot type into it. Each session is of one workload; its id opens nothing else.
 */
export class TerminalRegistry implements Disposable {
  private readonly sessions = new Map<string, { session: TerminalSession; owner: string | undefined }>();

  add(session: TerminalSession, owner: string | undefined): string {
    const id = randomBytes(16).toString('hex');
    this.sessions.set(id, { session, owner });
    return id;
  }

  /** The session, for the connection that opened it; any other gets the same NOT_FOUND as for an unknown id. */
  get(id: string, owner: string | undefined): TerminalSession {
    const s = this.sessions.get(id);
    if (!s || s.owner !== owner) throw new NovaError('NOT_FOUND', `terminal session '${id.slice(0, 8)}…' is not open`);
    return s.session;
  }

  remove(id: string): void {
    const s = this.sessions.get(id);
    this.sessions.delete(id);
    s?.session.dispose();
  }

  dispose(): void {
    for (const s of this.sessions.values()) s.session.dispose();
    this.sessions.clear();
  }
}

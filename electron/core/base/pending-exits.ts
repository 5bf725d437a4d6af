/**
 * The exit records a NovaCron process is writing for the children it started (QEMUs,
 * process workloads), by pid, from the start until the record is written. A child that
 * just died can be seen gone (a zombie, or its monitor closed) before its parent's exit
 * event has run, or while the record is being written: whoever reads its end waits for
 * the record rather than report the end without its signal or status.
 */
export class PendingExits {
  private readonly byPid = new Map<number, Promise<unknown>>();

  /** recorded: settles once the child's exit record is written (or could not be). */
  track(pid: number, recorded: Promise<unknown>): void {
    this.byPid.set(pid, recorded);
    const done = () => {
      if (this.byPid.get(pid) === recorded) this.byPid.delete(pid);
    };
    recorded.then(done, done);
  }

  /** For a child of this process that is gone: until its record is written, at most waitMs. Others: at once. */
  async settled(pid: number, waitMs = 2_000): Promise<void> {
    const pending = this.byPid.get(pid);
    if (!pending) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([pending.catch(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
  }
}

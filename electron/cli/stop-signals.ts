/**
 * Run `stop` on the first SIGINT or SIGTERM, for a command that runs until told to end
 * (serve, events --follow). The listeners stay (`on`, not `once`) until `stop` has finished:
 * while a subprocess runs, execa's signal-exit listens too, and re-raises a signal it finds
 * itself the only listener of, which ended the process halfway through its shutdown (killed
 * by the signal). A second signal meanwhile takes its default action at once. The function
 * returned lets go of both signals (a command that ended by itself), after this turn: a
 * signal being dispatched right now still finds a listener of ours.
 */
export function onStopSignal(stop: () => Promise<void> | void): () => void {
  let stopping = false;
  const off = () => {
    process.off('SIGINT', on);
    process.off('SIGTERM', on);
  };
  const release = () => void setImmediate(off);
  function on(sig: NodeJS.Signals) {
    if (stopping) {
      off();
      process.kill(process.pid, sig);
      return;
    }
    stopping = true;
    void Promise.resolve().then(stop).finally(release);
  }
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  return release;
}

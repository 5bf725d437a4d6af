/** What a create's answer needs of its image: the command the engine runs when the create names none. */
export interface DefaultCommand {
  Entrypoint?: string[] | string | null;
  Cmd?: string[] | string | null;
}

interface PerEngine {
  /** Bumped by every change that may make a reading stale: a reading made across one is not kept. */
  gen: number;
  /** The engine's event stream is up: without it, changes would go unseen. */
  live: boolean;
  byRef: Map<string, DefaultCommand>;
}

/** More references than a workstation creates from; past it the map starts over. */
const MAX_REFS = 256;

/**
 * The default command of images this process created containers from, per engine and
 * reference. A create answers with a summary of what the container runs, and reading the
 * image alongside the create costs it ~0.4 ms (the two requests contend in dockerd), on
 * every create. An entry is only trusted while that engine's event stream is up and has
 * been since it was read: every image event (pull, tag, untag, import, load, delete)
 * forgets the engine's entries, and so does losing the stream. A retag whose event is
 * still on its way (milliseconds) can give one create's answer the old default command in
 * its summary; the container itself is made by the engine from the new image, and the
 * watcher's upsert for its create event shows the truth.
 */
export class ImageDefaults {
  private readonly engines = new Map<string, PerEngine>();

  private of(engine: string): PerEngine {
    let e = this.engines.get(engine);
    if (!e) this.engines.set(engine, (e = { gen: 0, live: false, byRef: new Map() }));
    return e;
  }

  /** The engine's event stream is (again) up: readings made from now on may be kept. */
  connected(engine: string): void {
    this.changed(engine);
    this.of(engine).live = true;
  }

  /** The stream is gone: nothing is known any more. */
  lost(engine: string): void {
    this.changed(engine);
    this.of(engine).live = false;
  }

  /** An image event: whatever was read may be stale. */
  changed(engine: string): void {
    const e = this.of(engine);
    e.gen++;
    e.byRef.clear();
  }

  get(engine: string, ref: string): DefaultCommand | undefined {
    const e = this.engines.get(engine);
    return e?.live ? e.byRef.get(ref) : undefined;
  }

  /** Taken before reading an image: the reading is kept only if nothing changed since. */
  generation(engine: string): number {
    return this.of(engine).gen;
  }

  set(engine: string, ref: string, since: number, config: DefaultCommand | undefined): void {
    const e = this.of(engine);
    if (!e.live || e.gen !== since || !config) return;
    if (e.byRef.size >= MAX_REFS) e.byRef.clear();
    e.byRef.set(ref, { Entrypoint: config.Entrypoint ?? null, Cmd: config.Cmd ?? null });
  }
}

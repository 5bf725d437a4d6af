import { withTag } from './images.js';

/** What a create's answer needs of its image: the command the engine runs when the create names none. */
export interface DefaultCommand {
  Entrypoint?: string[] | string | null;
  Cmd?: string[] | string | null;
}

/** An image event as the engine sends it: the image's id (or, for a pull, the reference) and a name. */
export interface ImageEvent {
  action: string;
  id?: string;
  name?: string;
}

/** How the engine spells a reference in its events: no docker.io/library/ prefix, `:latest` when no tag. */
export function familiarRef(ref: string): string {
  let r = ref.includes('@') ? ref : withTag(ref);
  for (const p of ['docker.io/', 'index.docker.io/']) if (r.startsWith(p)) r = r.slice(p.length);
  if (r.startsWith('library/') && !r.slice(8).includes('/')) r = r.slice(8);
  return r;
}

interface Entry {
  image: string;
  cmd: DefaultCommand;
}

interface PerEngine {
  /** Bumped by every change that may make a reading stale: a reading made across one is not kept. */
  gen: number;
  /** The engine's event stream is up: without it, changes would go unseen. */
  live: boolean;
  /** By familiarRef. */
  byRef: Map<string, Entry>;
}

/** More references than a workstation creates from; past it the map starts over. */
const MAX_REFS = 256;

/**
 * The default command of images this process created containers from, per engine and
 * reference. A create answers with a summary of what the container runs, and reading the
 * image alongside the create costs it ~0.4 ms (the two requests contend in dockerd), on
 * every create. An entry is only trusted while that engine's event stream is up and has
 * been since it was read, and each image event forgets what it may have changed: a tag,
 * the reference it names (which may have pointed elsewhere); an untag or a delete, the
 * references that pointed to that image; anything else (pull, import, load, prune), all
 * of them. Losing the stream forgets everything. A snapshot (a commit, then its image's
 * removal) so leaves the entries of other images alone. A retag whose event is still on
 * its way (milliseconds) can give one create's answer the old default command in its
 * summary; the container itself is made by the engine from the new image, and the
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

  /** An image event (none: anything may have changed): forget what it may have made stale. */
  changed(engine: string, ev?: ImageEvent): void {
    const e = this.of(engine);
    // A reading on its way may have been answered before this event: it is not kept.
    e.gen++;
    if (ev?.action === 'tag' && ev.name) e.byRef.delete(familiarRef(ev.name));
    else if ((ev?.action === 'untag' || ev?.action === 'delete') && ev.id) {
      for (const [ref, entry] of e.byRef) if (entry.image === ev.id) e.byRef.delete(ref);
    } else e.byRef.clear();
  }

  get(engine: string, ref: string): DefaultCommand | undefined {
    const e = this.engines.get(engine);
    return e?.live ? e.byRef.get(familiarRef(ref))?.cmd : undefined;
  }

  /** Taken before reading an image: the reading is kept only if nothing changed since. */
  generation(engine: string): number {
    return this.of(engine).gen;
  }

  set(engine: string, ref: string, since: number, image: { Id: string; Config?: DefaultCommand }): void {
    const e = this.of(engine);
    if (!e.live || e.gen !== since || !image.Config) return;
    if (e.byRef.size >= MAX_REFS) e.byRef.clear();
    e.byRef.set(familiarRef(ref), { image: image.Id, cmd: { Entrypoint: image.Config.Entrypoint ?? null, Cmd: image.Config.Cmd ?? null } });
  }
}

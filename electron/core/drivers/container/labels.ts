/**
 * The labels NovaCron puts on what it creates in an engine. `io.novacron.id` is what makes
 * a workload id stable: it is set once, at create, and carried over when a container is
 * recreated (revert) or moved (migration), so its id survives both.
 */
export const LABEL = {
  managed: 'io.novacron.managed',
  id: 'io.novacron.id',
  createdBy: 'io.novacron.created-by',
  node: 'io.novacron.node',
  /** The image it was created from, kept when it is recreated from a snapshot. */
  image: 'io.novacron.image',
  /** The snapshot it was last reverted to. */
  revertedTo: 'io.novacron.reverted-to',
} as const;

/** Repository of snapshot images: `novacron-snapshot/<container name>-<workload id>:<snapshot>`. */
export const SNAPSHOT_REPO = 'novacron-snapshot';
/** Repository of the image a migration carries between engines. */
export const MIGRATION_REPO = 'novacron-migration';

/** A workload's local id: the engine's short id, or the one NovaCron gave it. */
export const SHORT_ID = 12;
export const shortId = (engineId: string) => engineId.replace(/^sha256:/, '').slice(0, SHORT_ID);

/** Labels of a container, by its NovaCron id when it has one, else by its engine id. */
export function localIdOf(c: { Id: string; Labels?: Record<string, string> | null }): string {
  return c.Labels?.[LABEL.id] ?? shortId(c.Id);
}

export const isManaged = (labels: Record<string, string> | null | undefined) => labels?.[LABEL.managed] === 'true';

/** Image repository names are lowercase; container names need not be. */
export function snapshotRepo(containerName: string, local: string): string {
  const clean = containerName
    .toLowerCase()
    .replace(/[^a-z0-9._-]/g, '-')
    .replace(/^[._-]+/, '')
    .replace(/[._-]{2,}/g, '-')
    .slice(0, 60)
    .replace(/[._-]+$/, '');
  return `${SNAPSHOT_REPO}/${clean ? `${clean}-` : ''}${local.toLowerCase()}`;
}

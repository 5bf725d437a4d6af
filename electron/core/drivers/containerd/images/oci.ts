import { createHash } from 'node:crypto';

/** The parts of the OCI image format NovaCron reads and writes. */
export const MEDIA = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;

export const isIndexType = (t: string | undefined) => t === MEDIA.ociIndex || t === MEDIA.dockerList;

export interface OciDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture?: string; os?: string; variant?: string };
}

export interface OciManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: OciDescriptor;
  layers: OciDescriptor[];
  annotations?: Record<string, string>;
}

export interface OciIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: OciDescriptor[];
}

export interface ImageConfig {
  architecture?: string;
  os?: string;
  created?: string;
  config?: {
    Env?: string[] | null;
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    User?: string;
    StopSignal?: string;
  };
  rootfs: { type: string; diff_ids: string[] };
  history?: { created?: string; created_by?: string; comment?: string; empty_layer?: boolean }[];
}

export const sha256 = (data: Buffer | string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
export const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

/** The snapshot name of each layer prefix: chainID(n) = sha256(chainID(n-1) + " " + diffID(n)). */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) out.push(out.length === 0 ? d : sha256(`${out.at(-1)!} ${d}`));
  return out;
}

const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' };
export const hostArch = () => GOARCH[process.arch] ?? process.arch;

/** From an index, the manifest for this host (linux/<arch>), or the only one. */
export function pickManifest(index: OciIndex): OciDescriptor | undefined {
  const ms = index.manifests ?? [];
  const mine = ms.find((m) => m.platform?.os === 'linux' && m.platform.architecture === hostArch());
  return mine ?? (ms.length === 1 ? ms[0] : ms.find((m) => !m.platform));
}

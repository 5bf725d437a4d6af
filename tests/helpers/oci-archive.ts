import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { busyboxTarball } from './busybox.js';

const CACHE = join(tmpdir(), 'novacron-test-assets');
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** The image config both archive formats carry: busybox's sh, a PATH, one layer. */
function configOf(diffId: string): Buffer {
  const created = '2024-01-01T00:00:00Z';
  return Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created,
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['/bin/sh'], WorkingDir: '/' },
      rootfs: { type: 'layers', diff_ids: [`sha256:${diffId}`] },
      history: [{ created, created_by: 'novacron test helper: busybox-static rootfs' }],
    }),
  );
}

/** Lay files out in a fresh directory, tar it, and move the tar into the cache atomically. */
function tarDirectory(out: string, files: Record<string, Buffer | string>): string {
  const stage = `${out}.${process.pid}.d`;
  rmSync(stage, { recursive: true, force: true });
  for (const [name, body] of Object.entries(files)) {
    mkdirSync(join(stage, name, '..'), { recursive: true });
    writeFileSync(join(stage, name), body);
  }
  const tmp = `${out}.${process.pid}.tmp`;
  execFileSync('tar', ['-C', stage, '-cf', tmp, ...Object.keys(files)]);
  renameSync(tmp, out);
  rmSync(stage, { recursive: true, force: true });
  return out;
}

/**
 * The busybox test image as `docker save` writes it (manifest.json, <config>.json,
 * <id>/layer.tar with an uncompressed layer) or as an OCI image layout archive
 * (oci-layout, index.json, blobs/sha256/… with a gzipped layer), so the importer's two
 * paths and the differ's decompression are both exercised. Cached per machine.
 */
export function busyboxArchive(format: 'docker' | 'oci'): string {
  const out = join(CACHE, `busybox-${format}-archive.tar`);
  if (existsSync(out)) return out;
  const layer = readFileSync(busyboxTarball());
  const diffId = sha(layer);
  const config = configOf(diffId);
  if (format === 'docker') {
    const manifest = [{ Config: `${sha(config)}.json`, RepoTags: ['novacron-test/busybox:latest'], Layers: [`${diffId}/layer.tar`] }];
    return tarDirectory(out, {
      'manifest.json': JSON.stringify(manifest),
      [`${sha(config)}.json`]: config,
      [`${diffId}/layer.tar`]: layer,
    });
  }
  const gz = gzipSync(layer);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${sha(config)}`, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${sha(gz)}`, size: gz.length }],
    }),
  );
  const index = {
    schemaVersion: 2,
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: `sha256:${sha(manifest)}`,
        size: manifest.length,
        annotations: { 'org.opencontainers.image.ref.name': 'latest' },
      },
    ],
  };
  return tarDirectory(out, {
    'oci-layout': JSON.stringify({ imageLayoutVersion: '1.0.0' }),
    'index.json': JSON.stringify(index),
    [`blobs/sha256/${sha(config)}`]: config,
    [`blobs/sha256/${sha(gz)}`]: gz,
    [`blobs/sha256/${sha(manifest)}`]: manifest,
  });
}

import protobuf from 'protobufjs';
import {
  CONTAINERS_PROTO,
  CONTENT_PROTO,
  DIFF_PROTO,
  EVENTS_SERVICE_PROTO,
  IMAGES_PROTO,
  LEASES_PROTO,
  NAMESPACES_PROTO,
  SNAPSHOTS_PROTO,
  TASKS_PROTO,
  VERSION_PROTO,
} from './proto-services.js';
import { CGROUPS2_PROTO, CGROUPS_PROTO, EVENTS_PROTO, RUNC_OPTIONS_PROTO, TASK_TYPES_PROTO, TYPES_PROTO, WELL_KNOWN_PROTO } from './proto-types.js';
import type { Any } from './messages.js';

/** Every .proto text we use, in dependency order. */
const SOURCES = [
  WELL_KNOWN_PROTO,
  TYPES_PROTO,
  TASK_TYPES_PROTO,
  RUNC_OPTIONS_PROTO,
  EVENTS_PROTO,
  CGROUPS_PROTO,
  CGROUPS2_PROTO,
  VERSION_PROTO,
  NAMESPACES_PROTO,
  IMAGES_PROTO,
  CONTENT_PROTO,
  CONTAINERS_PROTO,
  SNAPSHOTS_PROTO,
  TASKS_PROTO,
  EVENTS_SERVICE_PROTO,
  LEASES_PROTO,
  DIFF_PROTO,
];

/** The same definitions as protobuf JSON, computed at build time for the bundles (scripts/build-node.mjs). */
declare const __CONTAINERD_PROTO_JSON__: protobuf.INamespace | undefined;

/** The definitions as protobuf JSON: what the build precomputes, so a bundle skips parsing the .proto text. */
export function protoJson(): protobuf.INamespace {
  return parseSources().toJSON();
}

function parseSources(): protobuf.Root {
  const root = new protobuf.Root();
  for (const src of SOURCES) protobuf.parse(src, root, { keepCase: true });
  return root;
}

/**
 * One protobuf root holds every definition: gRPC methods encode and decode with it, and
 * so do the google.protobuf.Any payloads (events, metrics), with the same conversion
 * rules, so both look alike to the driver. Built on first use: a CLI command that never
 * talks to containerd never pays for it, and bundles load it from precomputed JSON.
 */
let rootValue: protobuf.Root | undefined;
function root(): protobuf.Root {
  rootValue ??= buildRoot(typeof __CONTAINERD_PROTO_JSON__ !== 'undefined' ? __CONTAINERD_PROTO_JSON__ : undefined);
  return rootValue;
}

/**
 * The definitions, from JSON when the build made it, else from the .proto text, and resolved
 * lazily: a type resolves its fields when first used (protobufjs' own `setup`), not all 120 of
 * them up front. `resolveAll` (what `Root.fromJSON` ends with) also generated a constructor for
 * every type, ~7 ms at each start of `novacron ls`, for the handful of types a command uses.
 * It is also what applies edition features (a proto3 repeated number is packed): none of our
 * fields is one they change, so the bytes and objects are the same either way, which
 * tests/unit/containerd-codec.test.ts checks for every type (and would catch such a field).
 */
export function buildRoot(json: protobuf.INamespace | undefined): protobuf.Root {
  if (!json?.nested) return parseSources();
  const root = new protobuf.Root(json.options);
  root.addJSON(json.nested);
  return root;
}

const CONVERSION = { longs: Number, enums: String, defaults: true, arrays: true, objects: true, oneofs: true } as const;

const SERVICES = {
  version: 'containerd.services.version.v1.Version',
  namespaces: 'containerd.services.namespaces.v1.Namespaces',
  images: 'containerd.services.images.v1.Images',
  content: 'containerd.services.content.v1.Content',
  containers: 'containerd.services.containers.v1.Containers',
  snapshots: 'containerd.services.snapshots.v1.Snapshots',
  tasks: 'containerd.services.tasks.v1.Tasks',
  events: 'containerd.services.events.v1.Events',
  leases: 'containerd.services.leases.v1.Leases',
  diff: 'containerd.services.diff.v1.Diff',
} as const;

/** What a gRPC client needs of a method: its path and its codecs (as @grpc/proto-loader makes them). */
export interface MethodCodec {
  path: string;
  requestSerialize: (value: unknown) => Buffer;
  responseDeserialize: (bytes: Buffer) => unknown;
}

const methods = new Map<string, MethodCodec>();

/** "tasks.Create" → its path and codecs, made when first used. */
export function methodOf(key: string): MethodCodec {
  const hit = methods.get(key);
  if (hit) return hit;
  const [service, name = ''] = key.split('.') as [keyof typeof SERVICES, string?];
  const full = SERVICES[service];
  const m = full ? root().lookupService(full).methods[name] : undefined;
  if (!m) throw new Error(`containerd API: no method ${key} in our definitions`);
  m.resolve();
  const req = m.resolvedRequestType!;
  const res = m.resolvedResponseType!;
  const codec: MethodCodec = {
    path: `/${full}/${name}`,
    requestSerialize: (value) => Buffer.from(req.encode(req.fromObject(value as Record<string, unknown>)).finish()),
    responseDeserialize: (bytes) => res.toObject(res.decode(bytes), CONVERSION),
  };
  methods.set(key, codec);
  return codec;
}

/** The message name an Any's type_url names: containerd writes bare names, others a URL. */
const typeNameOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);

/** Decode a protobuf-encoded Any into a plain object; undefined for a type we did not define. */
export function decodeAny<T>(any: Any | null | undefined): { type: string; value: T } | undefined {
  if (!any?.type_url) return undefined;
  const name = typeNameOf(any.type_url);
  const type = root().lookup(name);
  if (!(type instanceof protobuf.Type)) return undefined;
  return { type: name, value: type.toObject(type.decode(any.value), CONVERSION) as T };
}

/** A protobuf message wrapped in an Any, named the way containerd's typeurl registry names it. */
export function packAny(typeName: string, value: Record<string, unknown>): Any {
  const type = root().lookupType(typeName);
  return { type_url: typeName, value: Buffer.from(type.encode(type.fromObject(value)).finish()) };
}

/** Runtime specs travel as JSON inside an Any (containerd registers them under this prefix). */
export const SPEC_TYPE_URL = 'types.containerd.io/opencontainers/runtime-spec/1/Spec';
export const PROCESS_TYPE_URL = 'types.containerd.io/opencontainers/runtime-spec/1/Process';

export function jsonAny(typeUrl: string, value: unknown): Any {
  return { type_url: typeUrl, value: Buffer.from(JSON.stringify(value)) };
}

export function parseJsonAny<T>(any: Any | null | undefined): T | undefined {
  if (!any?.value?.length) return undefined;
  try {
    return JSON.parse(any.value.toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

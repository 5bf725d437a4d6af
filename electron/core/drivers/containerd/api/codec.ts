import protobuf from 'protobufjs';
import { fromJSON, type MethodDefinition, type ServiceDefinition } from '@grpc/proto-loader';
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

/**
 * One protobuf root holds every definition; proto-loader derives the gRPC method
 * table from it and the same root decodes the google.protobuf.Any payloads (events,
 * metrics) with the same conversion rules, so both look alike to the driver.
 */
const root = new protobuf.Root();
for (const src of [
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
]) {
  protobuf.parse(src, root, { keepCase: true });
}
root.resolveAll();

const CONVERSION = { longs: Number, enums: String, defaults: true, arrays: true, objects: true, oneofs: true } as const;
const definitions = fromJSON(root.toJSON(), { keepCase: true, ...CONVERSION });

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

/** "tasks.Create" → its path and codecs. */
export function methodOf(key: string): MethodDefinition<unknown, unknown> {
  const [service, name] = key.split('.') as [keyof typeof SERVICES, string];
  const def = definitions[SERVICES[service]] as ServiceDefinition | undefined;
  const m = def?.[name];
  if (!m) throw new Error(`containerd API: no method ${key} in our definitions`);
  return m as MethodDefinition<unknown, unknown>;
}

/** The message name an Any's type_url names: containerd writes bare names, others a URL. */
const typeNameOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);

/** Decode a protobuf-encoded Any into a plain object; undefined for a type we did not define. */
export function decodeAny<T>(any: Any | null | undefined): { type: string; value: T } | undefined {
  if (!any?.type_url) return undefined;
  const name = typeNameOf(any.type_url);
  const type = root.lookup(name);
  if (!(type instanceof protobuf.Type)) return undefined;
  return { type: name, value: type.toObject(type.decode(any.value), CONVERSION) as T };
}

/** A protobuf message wrapped in an Any, named the way containerd's typeurl registry names it. */
export function packAny(typeName: string, value: Record<string, unknown>): Any {
  const type = root.lookupType(typeName);
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

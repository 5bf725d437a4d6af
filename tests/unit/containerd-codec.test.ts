import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { buildRoot, protoJson } from '../../electron/core/drivers/containerd/api/codec.js';

// The codec's root resolves each type when first used instead of all of them up front
// (resolveAll). These tests hold it to what the eagerly resolved root does, for every
// message type we define, from both sources a root is built from: the JSON bundles carry,
// and the .proto text the tests and the dev build parse.

const CONVERSION = { longs: Number, enums: String, defaults: true, arrays: true, objects: true, oneofs: true } as const;

function typesOf(ns: protobuf.NamespaceBase): protobuf.Type[] {
  const out: protobuf.Type[] = [];
  for (const nested of ns.nestedArray) {
    if (nested instanceof protobuf.Type) out.push(nested);
    if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) out.push(...typesOf(nested));
  }
  return out;
}

function scalar(type: string, name: string): unknown {
  if (type === 'string') return `s-${name}`;
  if (type === 'bytes') return Buffer.from([1, 2, 3, name.length]);
  if (type === 'bool') return true;
  if (type === 'double' || type === 'float') return 1.5;
  if (/64$/.test(type)) return type.startsWith('u') || type === 'fixed64' ? 1234567890123 : -1234567890123;
  return type.startsWith('u') || type === 'fixed32' ? 7 : -7;
}

/** A value for every field (the first of each oneof), nested messages to a few levels, from an eagerly resolved type. */
function sample(type: protobuf.Type, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of type.fieldsArray) {
    if (f.partOf && f.partOf.fieldsArray[0] !== f) continue;
    const t = f.resolve().resolvedType;
    let one: unknown;
    if (t instanceof protobuf.Type) {
      if (depth >= 3) continue;
      one = sample(t, depth + 1);
    } else if (t instanceof protobuf.Enum) one = Object.keys(t.values).at(-1);
    else one = scalar(f.type, f.name);
    if (f instanceof protobuf.MapField) out[f.name] = { [f.keyType === 'string' ? 'k' : '1']: one };
    else out[f.name] = f.repeated ? [one, one] : one;
  }
  return out;
}

function compare(eager: protobuf.Root, lazy: protobuf.Root) {
  const types = typesOf(eager);
  expect(types.length).toBeGreaterThan(100);
  for (const e of types) {
    const l = lazy.lookupType(e.fullName);
    const value = sample(e);
    const bytes = Buffer.from(l.encode(l.fromObject(value)).finish());
    expect({ type: e.fullName, bytes: bytes.toString('hex') }).toEqual({ type: e.fullName, bytes: Buffer.from(e.encode(e.fromObject(value)).finish()).toString('hex') });
    expect(l.toObject(l.decode(bytes), CONVERSION)).toEqual(e.toObject(e.decode(bytes), CONVERSION));
    // Defaults of an empty message too: what a missing field reads as.
    expect(l.toObject(l.decode(Buffer.alloc(0)), CONVERSION)).toEqual(e.toObject(e.decode(Buffer.alloc(0)), CONVERSION));
    // What decides a field's encoding (a repeated number packed or not, say), once the lazy type has resolved it.
    const flags = (f: protobuf.Field) => ({
      name: f.name,
      packed: f.repeated && (protobuf.types.packed as Record<string, number | undefined>)[f.type] !== undefined ? f.packed : 'n/a',
      delimited: f.resolvedType instanceof protobuf.Type ? f.delimited : 'n/a',
      required: f.required,
    });
    expect({ type: e.fullName, fields: l.fieldsArray.map(flags) }).toEqual({ type: e.fullName, fields: e.fieldsArray.map(flags) });
  }
}

describe("containerd's protobuf definitions, resolved as they are used", () => {
  it('encode, decode and convert every message type as the eagerly resolved definitions do, from the JSON bundles carry', () => {
    const json = protoJson();
    compare(protobuf.Root.fromJSON(json), buildRoot(json));
  });

  it('and from the .proto text', () => {
    const eager = buildRoot(undefined);
    eager.resolveAll();
    compare(eager, buildRoot(undefined));
  });

  it('still refuse a name we did not define when it is first used', () => {
    const root = buildRoot(protoJson());
    expect(() => root.lookupType('containerd.services.tasks.v1.NoSuchRequest')).toThrow(/no such type/);
  });
});

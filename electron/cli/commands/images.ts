import { isDriverId } from '../../../shared/ids.js';
import { NovaError } from '../../core/base/errors.js';
import { resolve } from 'node:path';
import { parse } from '../args.js';
import type { Command } from '../context.js';
import { bytes, table } from '../format.js';
import { callWithProgress } from './workloads.js';

const driverOf = (v: unknown) => {
  if (v === undefined) throw new NovaError('INVALID_ARGUMENT', '--driver: is required', { field: 'driver' });
  const d = typeof v === 'string' ? v : '';
  if (!isDriverId(d)) throw new NovaError('INVALID_ARGUMENT', `--driver: '${d}' is not a driver`, { field: 'driver' });
  return d;
};

/** `images ls|import|pull|rm --driver D …` */
export const images: Command = async (argv, ctx) => {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'ls':
    case 'list': {
      const { values } = parse(rest, { driver: { type: 'string' } }, { min: 0, max: 0, names: '' });
      const list = await ctx.client.call('images.list', { driver: driverOf(values.driver) });
      ctx.io.out(values.json ? JSON.stringify(list, null, 2) : table(list.map((i) => [i.refs.join(',') || '<none>', i.id.slice(0, 19), bytes(i.sizeBytes), i.createdAt ?? '-']), ['REF', 'ID', 'SIZE', 'CREATED']));
      return 0;
    }
    case 'import': {
      const { values, positionals } = parse(rest, { driver: { type: 'string' }, name: { type: 'string' } }, { min: 1, max: 1, names: 'FILE' });
      if (values.name === undefined) throw new NovaError('INVALID_ARGUMENT', '--name: is required', { field: 'name' });
      const img = await callWithProgress(ctx, 'images.import', { driver: driverOf(values.driver), file: resolve(positionals[0]!), name: String(values.name) });
      ctx.io.out(values.json ? JSON.stringify(img, null, 2) : `${img.refs.join(',')} ${img.id}`);
      return 0;
    }
    case 'pull': {
      const { values, positionals } = parse(rest, { driver: { type: 'string' } }, { min: 1, max: 1, names: 'REF' });
      const img = await callWithProgress(ctx, 'images.pull', { driver: driverOf(values.driver), ref: positionals[0]! });
      ctx.io.out(values.json ? JSON.stringify(img, null, 2) : `${img.refs.join(',')} ${img.id}`);
      return 0;
    }
    case 'rm': {
      const { values, positionals } = parse(rest, { driver: { type: 'string' } }, { min: 1, max: 1, names: 'REF' });
      const r = await ctx.client.call('images.delete', { driver: driverOf(values.driver), ref: positionals[0]! });
      ctx.io.out(values.json ? JSON.stringify(r) : `${r.ref} deleted`);
      return 0;
    }
    default:
      throw new NovaError('INVALID_ARGUMENT', `images: expected ls, import, pull or rm, got '${sub ?? ''}'`, { field: 'arguments' });
  }
};

import type { Plugin } from 'esbuild';

export interface LazyRequire {
  /** The dependency file the rewrite applies to. */
  file: RegExp;
  /** The eager require, exactly as the file has it (once). */
  eager: string;
  /** What replaces it: the same function, requiring its module when first called. */
  lazy: string;
}

export const LAZY_REQUIRES: LazyRequire[];
export function lazyRequires(rewrites?: LazyRequire[]): Plugin;

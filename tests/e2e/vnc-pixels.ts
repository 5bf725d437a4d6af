import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator } from '@playwright/test';
import { withQmp } from '../../electron/core/drivers/kvm/qmp.js';

/**
 * What a VNC console must show, judged by pixels: QEMU's own picture of the screen
 * (screendump) against the noVNC canvas, and text found by its shape in the 9×16 cells
 * of VGA text mode.
 */
export interface Rgb {
  width: number;
  height: number;
  /** RGB triplets, row by row. */
  px: ArrayLike<number>;
  stride: 3 | 4;
}

/** QEMU's picture of the VM's screen (PPM). */
export async function screendump(qmpSocket: string): Promise<Rgb> {
  const file = join(tmpdir(), `nc-e2e-screen-${process.pid}-${Date.now()}.ppm`);
  await withQmp(qmpSocket, (q) => q.execute('screendump', { filename: file }));
  const data = readFileSync(file);
  rmSync(file, { force: true });
  let at = 0;
  const fields: string[] = [];
  while (fields.length < 4) {
    const end = data.indexOf(0x0a, at);
    fields.push(...data.subarray(at, end).toString('latin1').split(' '));
    at = end + 1;
  }
  return { width: Number(fields[1]), height: Number(fields[2]), px: data.subarray(at), stride: 3 };
}

/** The part of a canvas element the page-side callbacks use (the tests' tsconfig has no DOM types). */
interface Canvas {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } };
}

export async function canvasPixels(canvas: Locator): Promise<Rgb> {
  const r = await canvas.evaluate((c: Canvas) => ({ width: c.width, height: c.height, px: Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data) }));
  return { ...r, stride: 4 };
}

const at = (img: Rgb, x: number, y: number) => {
  const i = (y * img.width + x) * img.stride;
  return [img.px[i]!, img.px[i + 1]!, img.px[i + 2]!] as const;
};

/** Share of pixels within a few DAC steps of each other. */
export function sameness(a: Rgb, b: Rgb): number {
  if (a.width !== b.width || a.height !== b.height) return 0;
  let same = 0;
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      const [p, q] = [at(a, x, y), at(b, x, y)];
      if (Math.abs(p[0] - q[0]) <= 8 && Math.abs(p[1] - q[1]) <= 8 && Math.abs(p[2] - q[2]) <= 8) same++;
    }
  }
  return same / (a.width * a.height);
}

const CELL_W = 9;
const CELL_H = 16;

/** The screen's background: its most common colour (black for Linux, blue for the boot sector). */
const backgrounds = new WeakMap<Rgb, readonly number[]>();
function background(img: Rgb): readonly number[] {
  let bg = backgrounds.get(img);
  if (bg) return bg;
  const counts = new Map<number, number>();
  for (let i = 0; i < img.width * img.height; i += 7) {
    const p = at(img, i % img.width, Math.floor(i / img.width));
    const k = (p[0] << 16) | (p[1] << 8) | p[2];
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const top = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
  bg = [top >> 16, (top >> 8) & 255, top & 255];
  backgrounds.set(img, bg);
  return bg;
}

/** One character cell's pixels as a string of 0/1 (ink or background): equal strings are the same glyph. */
export function glyph(img: Rgb, row: number, col: number): string {
  const bg = background(img);
  let s = '';
  for (let y = row * CELL_H; y < (row + 1) * CELL_H; y++) {
    for (let x = col * CELL_W; x < (col + 1) * CELL_W; x++) {
      const p = at(img, x, y);
      s += Math.abs(p[0] - bg[0]!) + Math.abs(p[1] - bg[1]!) + Math.abs(p[2] - bg[2]!) > 90 ? '1' : '0';
    }
  }
  return s;
}

/** Which cells of a text row hold something: '#' or '.'. */
export function rowShape(img: Rgb, row: number): string {
  let s = '';
  for (let col = 0; col < Math.floor(img.width / CELL_W); col++) s += glyph(img, row, col).includes('1') ? '#' : '.';
  return s.replace(/\.+$/, '');
}

/**
 * Where a line of text sits on a VGA text screen, found by its shape: the letters are
 * where the text has letters, the blanks where it has spaces, and every repeated letter
 * draws the very same glyph. Returns the text row, or -1.
 */
export function findText(img: Rgb, text: string): number {
  const shape = [...text].map((c) => (c === ' ' ? '.' : '#')).join('');
  for (let row = 0; row < Math.floor(img.height / CELL_H); row++) {
    if (rowShape(img, row) !== shape) continue;
    const seen = new Map<string, string>();
    let consistent = true;
    const glyphs = new Set<string>();
    [...text].forEach((c, col) => {
      if (c === ' ') return;
      const g = glyph(img, row, col);
      glyphs.add(g);
      if (seen.has(c) && seen.get(c) !== g) consistent = false;
      seen.set(c, g);
    });
    // As many different glyphs as different letters: no two letters drawn alike.
    if (consistent && glyphs.size === seen.size) return row;
  }
  return -1;
}

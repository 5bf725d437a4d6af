/**
 * Keys for the VNC console: the key menu's combinations, and text (a paste) turned into
 * key presses a guest understands. Pure, so the unit tests check it.
 */
export interface Key {
  keysym: number;
  /** The KeyboardEvent.code: noVNC turns it into the scancode QEMU's extended key events carry. */
  code: string;
}

export const K = {
  ctrl: { keysym: 0xffe3, code: 'ControlLeft' },
  alt: { keysym: 0xffe9, code: 'AltLeft' },
  shift: { keysym: 0xffe1, code: 'ShiftLeft' },
  del: { keysym: 0xffff, code: 'Delete' },
  backspace: { keysym: 0xff08, code: 'Backspace' },
  tab: { keysym: 0xff09, code: 'Tab' },
  enter: { keysym: 0xff0d, code: 'Enter' },
  esc: { keysym: 0xff1b, code: 'Escape' },
  print: { keysym: 0xff61, code: 'PrintScreen' },
  super: { keysym: 0xffeb, code: 'MetaLeft' },
  f: (n: number): Key => ({ keysym: 0xffbe + n - 1, code: `F${n}` }),
} as const;

/** The key menu: what a browser (or the desktop around it) would otherwise catch itself. */
export const COMBOS: { id: string; label: string; keys: Key[] }[] = [
  { id: 'ctrl-alt-del', label: 'Ctrl+Alt+Del', keys: [K.ctrl, K.alt, K.del] },
  { id: 'ctrl-alt-backspace', label: 'Ctrl+Alt+Backspace', keys: [K.ctrl, K.alt, K.backspace] },
  ...[1, 2, 3, 7].map((n) => ({ id: `ctrl-alt-f${n}`, label: `Ctrl+Alt+F${n}`, keys: [K.ctrl, K.alt, K.f(n)] })),
  { id: 'alt-tab', label: 'Alt+Tab', keys: [K.alt, K.tab] },
  { id: 'alt-f4', label: 'Alt+F4', keys: [K.alt, K.f(4)] },
  { id: 'esc', label: 'Escape', keys: [K.esc] },
  { id: 'print', label: 'Print Screen', keys: [K.print] },
  { id: 'super', label: 'Super (Windows key)', keys: [K.super] },
];

const UNSHIFTED: Record<string, string> = { ' ': 'Space', '-': 'Minus', '=': 'Equal', '[': 'BracketLeft', ']': 'BracketRight', '\\': 'Backslash', ';': 'Semicolon', "'": 'Quote', '`': 'Backquote', ',': 'Comma', '.': 'Period', '/': 'Slash' };
const SHIFTED: Record<string, string> = { '!': 'Digit1', '@': 'Digit2', '#': 'Digit3', $: 'Digit4', '%': 'Digit5', '^': 'Digit6', '&': 'Digit7', '*': 'Digit8', '(': 'Digit9', ')': 'Digit0', _: 'Minus', '+': 'Equal', '{': 'BracketLeft', '}': 'BracketRight', '|': 'Backslash', ':': 'Semicolon', '"': 'Quote', '~': 'Backquote', '<': 'Comma', '>': 'Period', '?': 'Slash' };

/** One typed character: the key, and whether Shift is held (a US layout, which is what guests assume by default). */
export function keyFor(ch: string): { key: Key; shift: boolean } | undefined {
  if (ch === '\n' || ch === '\r') return { key: K.enter, shift: false };
  if (ch === '\t') return { key: K.tab, shift: false };
  const cp = ch.codePointAt(0)!;
  if (/^[a-z]$/.test(ch)) return { key: { keysym: cp, code: `Key${ch.toUpperCase()}` }, shift: false };
  if (/^[A-Z]$/.test(ch)) return { key: { keysym: cp, code: `Key${ch}` }, shift: true };
  if (/^[0-9]$/.test(ch)) return { key: { keysym: cp, code: `Digit${ch}` }, shift: false };
  if (UNSHIFTED[ch]) return { key: { keysym: cp, code: UNSHIFTED[ch] }, shift: false };
  if (SHIFTED[ch]) return { key: { keysym: cp, code: SHIFTED[ch] }, shift: true };
  // Anything else goes as its keysym alone (Latin-1 as is, the rest as Unicode keysyms); the server maps it if it can.
  if (cp < 0x20) return undefined;
  return { key: { keysym: cp <= 0xff ? cp : 0x01000000 + cp, code: '' }, shift: false };
}

/** Text → the presses and releases that type it: [keysym, code, down]. "\r\n" is one Enter. */
export function typeText(text: string): [number, string, boolean][] {
  const out: [number, string, boolean][] = [];
  for (const ch of text.replace(/\r\n/g, '\n')) {
    const k = keyFor(ch);
    if (!k) continue;
    if (k.shift) out.push([K.shift.keysym, K.shift.code, true]);
    out.push([k.key.keysym, k.key.code, true], [k.key.keysym, k.key.code, false]);
    if (k.shift) out.push([K.shift.keysym, K.shift.code, false]);
  }
  return out;
}

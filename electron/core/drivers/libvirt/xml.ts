/**
 * The little XML libvirt speaks: domain, capabilities and snapshot documents. A reader
 * for well-formed documents (elements, attributes, text, CDATA, comments, processing
 * instructions, a DOCTYPE, the five named entities and character references) and a
 * writer that escapes every value, so nothing an admin or a user typed can change the
 * shape of a document NovaCron generates. No namespace processing: a prefixed name is
 * kept as written ("nc:novacron").
 */

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** The element's own text (not its descendants'), entities decoded, untrimmed. */
  text: string;
}

export class XmlError extends Error {
  constructor(message: string, at: number) {
    super(`malformed XML at offset ${at}: ${message}`);
    this.name = 'XmlError';
  }
}

const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decode(s: string, at: number): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z]+);?/g, (whole, ref: string) => {
    if (!whole.endsWith(';')) throw new XmlError(`unterminated entity '${whole}'`, at);
    if (ref.startsWith('#x')) return String.fromCodePoint(parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(parseInt(ref.slice(1), 10));
    const v = NAMED[ref];
    if (v === undefined) throw new XmlError(`unknown entity '&${ref};'`, at);
    return v;
  });
}

const NAME = /[A-Za-z_:][-A-Za-z0-9_:.]*/y;
const ATTR = /\s*([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*(?:"([^"<]*)"|'([^'<]*)')/y;

/** Parse one document and return its root element. Throws XmlError on anything malformed. */
export function parseXml(src: string): XmlElement {
  const roots = parseXmlFragments(src);
  if (roots.length !== 1) throw new XmlError(`expected one root element, found ${roots.length}`, 0);
  return roots[0]!;
}

/** Top-level elements one after another (several `virsh dumpxml` outputs in a row, say). */
export function parseXmlFragments(src: string): XmlElement[] {
  const roots: XmlElement[] = [];
  const stack: XmlElement[] = [];
  let i = 0;
  const n = src.length;
  while (i < n) {
    const lt = src.indexOf('<', i);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > i) {
      const text = src.slice(i, textEnd);
      const top = stack.at(-1);
      if (top) top.text += decode(text, i);
      else if (text.trim()) throw new XmlError('text outside the root element', i);
    }
    if (lt < 0) break;
    i = lt;
    if (src.startsWith('<!--', i)) {
      const end = src.indexOf('-->', i + 4);
      if (end < 0) throw new XmlError('unterminated comment', i);
      i = end + 3;
    } else if (src.startsWith('<![CDATA[', i)) {
      const end = src.indexOf(']]>', i + 9);
      if (end < 0) throw new XmlError('unterminated CDATA section', i);
      const top = stack.at(-1);
      if (!top) throw new XmlError('CDATA outside the root element', i);
      top.text += src.slice(i + 9, end);
      i = end + 3;
    } else if (src.startsWith('<?', i)) {
      const end = src.indexOf('?>', i + 2);
      if (end < 0) throw new XmlError('unterminated processing instruction', i);
      i = end + 2;
    } else if (src.startsWith('<!', i)) {
      // A DOCTYPE (libvirt writes none); an internal subset in brackets is skipped whole.
      const bracket = src.indexOf('[', i);
      const close = src.indexOf('>', i);
      if (close < 0) throw new XmlError('unterminated declaration', i);
      i = bracket >= 0 && bracket < close ? src.indexOf(']>', bracket) + 2 : close + 1;
      if (i < 2) throw new XmlError('unterminated DOCTYPE', lt);
    } else if (src[i + 1] === '/') {
      NAME.lastIndex = i + 2;
      const m = NAME.exec(src);
      if (!m) throw new XmlError('bad closing tag', i);
      const close = src.indexOf('>', NAME.lastIndex);
      if (close < 0 || src.slice(NAME.lastIndex, close).trim()) throw new XmlError('bad closing tag', i);
      const open = stack.pop();
      if (!open || open.name !== m[0]) throw new XmlError(`</${m[0]}> does not close <${open?.name ?? '(nothing)'}>`, i);
      if (stack.length === 0) roots.push(open);
      i = close + 1;
    } else {
      NAME.lastIndex = i + 1;
      const m = NAME.exec(src);
      if (!m) throw new XmlError('bad tag name', i);
      const el: XmlElement = { name: m[0], attrs: {}, children: [], text: '' };
      let j = NAME.lastIndex;
      for (;;) {
        ATTR.lastIndex = j;
        const a = ATTR.exec(src);
        if (!a) break;
        if (Object.hasOwn(el.attrs, a[1]!)) throw new XmlError(`attribute '${a[1]}' given twice`, j);
        el.attrs[a[1]!] = decode(a[2] ?? a[3] ?? '', j);
        j = ATTR.lastIndex;
      }
      while (j < n && /\s/.test(src[j]!)) j++;
      const selfClosing = src.startsWith('/>', j);
      if (!selfClosing && src[j] !== '>') throw new XmlError(`bad attribute in <${el.name}>`, j);
      const parent = stack.at(-1);
      if (parent) parent.children.push(el);
      if (selfClosing) {
        if (!parent) roots.push(el);
        i = j + 2;
      } else {
        stack.push(el);
        i = j + 1;
      }
    }
  }
  if (stack.length) throw new XmlError(`<${stack.at(-1)!.name}> is never closed`, n);
  return roots;
}

/** The first child at a slash-separated path of element names: child(dom, 'os/type'). */
export function child(el: XmlElement | undefined, path: string): XmlElement | undefined {
  let cur = el;
  for (const part of path.split('/')) {
    cur = cur?.children.find((c) => c.name === part);
    if (!cur) return undefined;
  }
  return cur;
}

/** Every element at a path: all(dom, 'devices/disk'). */
export function all(el: XmlElement | undefined, path: string): XmlElement[] {
  if (!el) return [];
  const parts = path.split('/');
  const last = parts.pop()!;
  const parent = parts.length ? child(el, parts.join('/')) : el;
  return parent ? parent.children.filter((c) => c.name === last) : [];
}

/** Trimmed text at a path, or undefined. */
export function textAt(el: XmlElement | undefined, path: string): string | undefined {
  const t = child(el, path)?.text.trim();
  return t === undefined || t === '' ? undefined : t;
}

// ---- writing ----

const ESC: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' };

/** Escape text or an attribute value. Control characters other than tab/newline have no place in XML 1.0. */
export function escapeXml(v: string): string {
  // eslint-disable-next-line no-control-regex -- exactly what XML 1.0 forbids
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(v)) throw new XmlError('control character in a value', 0);
  return v.replace(/[<>&"']/g, (c) => ESC[c]!);
}

/** An element to write: attributes with undefined values are left out, children likewise. */
export interface XmlNode {
  name: string;
  attrs?: Record<string, string | number | undefined>;
  children?: (XmlNode | undefined | false)[];
  text?: string;
}

export const x = (name: string, attrs?: XmlNode['attrs'], ...children: (XmlNode | string | undefined | false)[]): XmlNode => {
  const kids = children.filter((c): c is XmlNode | string => c !== undefined && c !== false);
  const text = kids.filter((k): k is string => typeof k === 'string').join('');
  return { name, ...(attrs ? { attrs } : {}), children: kids.filter((k): k is XmlNode => typeof k !== 'string'), ...(text ? { text } : {}) };
};

/** Serialise with two-space indentation; elements with text stay on one line. */
export function writeXml(node: XmlNode, indent = ''): string {
  const attrs = Object.entries(node.attrs ?? {})
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}='${escapeXml(String(v))}'`)
    .join('');
  const kids = (node.children ?? []).filter((c): c is XmlNode => !!c);
  if (!kids.length && node.text === undefined) return `${indent}<${node.name}${attrs}/>`;
  if (!kids.length) return `${indent}<${node.name}${attrs}>${escapeXml(node.text!)}</${node.name}>`;
  const inner = kids.map((k) => writeXml(k, `${indent}  `)).join('\n');
  return `${indent}<${node.name}${attrs}>${node.text ? escapeXml(node.text) : ''}\n${inner}\n${indent}</${node.name}>`;
}

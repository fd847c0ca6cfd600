/**
 * Small XML helpers for the XML formats (Pascal VOC, CVAT): escaping for streamed writing and a
 * validating reader that turns fast-xml-parser's ordered output into a plain element tree.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { FormatError } from './types.js';

// Characters XML 1.0 does not allow at all (C0 controls except tab, LF, CR; lone surrogates; FFFE/FFFF).
// eslint-disable-next-line no-control-regex
const INVALID_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Escape text content; characters XML 1.0 cannot carry are replaced by U+FFFD. */
export function xmlText(value: string): string {
  return value.replace(INVALID_XML, '\uFFFD').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Escape an attribute value (double-quoted); tabs and line breaks survive attribute normalisation. */
export function xmlAttr(value: string): string {
  return xmlText(value).replace(/"/g, '&quot;').replace(/\t/g, '&#9;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;');
}

/** One XML element: name, attributes, child elements in document order and its direct text. */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

type OrderedNode = Record<string, unknown>;

const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Decode the five predefined entities and numeric character references (others stay as written). */
export function decodeEntities(value: string): string {
  if (!value.includes('&')) return value;
  return value.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (whole, body: string) => {
    if (body.startsWith('#')) {
      const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED[body] ?? whole;
  });
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  commentPropName: false,
});

function toElement(node: OrderedNode): XmlElement | string | undefined {
  let name: string | undefined;
  for (const key of Object.keys(node)) if (key !== ':@') name = key;
  if (name === undefined) return undefined;
  if (name === '#text') return decodeEntities(String(node['#text'] ?? ''));
  const attrsIn = (node[':@'] ?? {}) as Record<string, unknown>;
  const attrs: Record<string, string> = {};
  for (const [k, v] of Object.entries(attrsIn)) attrs[k] = decodeEntities(String(v));
  const children: XmlElement[] = [];
  let text = '';
  const rawChildren = node[name];
  if (Array.isArray(rawChildren)) {
    for (const child of rawChildren as OrderedNode[]) {
      const converted = toElement(child);
      if (typeof converted === 'string') text += converted;
      else if (converted !== undefined) children.push(converted);
    }
  }
  return { name, attrs, children, text: text.trim() };
}

/** Parse and validate an XML document; returns its root element or throws `FormatError`. */
export function parseXml(text: string, format: string): XmlElement {
  if (typeof text !== 'string' || text.trim() === '') throw new FormatError(format, 'the file is empty');
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    const msg = valid.err.msg.length > 120 ? `${valid.err.msg.slice(0, 117)}...` : valid.err.msg;
    throw new FormatError(format, `malformed XML at line ${valid.err.line}, column ${valid.err.col}: ${msg}`);
  }
  const parsed = parser.parse(text) as OrderedNode[];
  const roots = parsed.map(toElement).filter((e): e is XmlElement => typeof e === 'object');
  const root = roots[0];
  if (root === undefined) throw new FormatError(format, 'the document has no root element');
  return root;
}

/** The first child element with this name. */
export function child(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c) => c.name === name);
}

/** The text of the first child with this name ('' when absent). */
export function childText(el: XmlElement, name: string): string {
  return child(el, name)?.text ?? '';
}

/**
 * Test code: the S3-style XML of the wire-protocol test server. Rendering is compact (no
 * whitespace between elements, which some SDK parsers keep as text); reading covers only the
 * small request documents the server accepts (`<Delete>`, `<CompleteMultipartUpload>`).
 * @module
 */

/** An element: name and either text or child elements; `undefined` children are left out. */
export type XmlNode = readonly [name: string, value: string | number | boolean | ReadonlyArray<XmlNode | undefined>];

/** Escapes text for element content. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|quot|apos|amp|#\d+|#x[0-9a-f]+);/gi, (_, entity: string) => {
    const named: Record<string, string> = { lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' };
    const lower = entity.toLowerCase();
    if (named[lower] !== undefined) return named[lower];
    return String.fromCodePoint(lower.startsWith('#x') ? parseInt(lower.slice(2), 16) : parseInt(lower.slice(1), 10));
  });
}

function renderNode([name, value]: XmlNode): string {
  if (Array.isArray(value)) return `<${name}>${(value as ReadonlyArray<XmlNode | undefined>).map((child) => (child ? renderNode(child) : '')).join('')}</${name}>`;
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** A whole document with its XML declaration. */
export function renderXml(root: XmlNode): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${renderNode(root)}`;
}

/** The inner XML of every `<tag>…</tag>` in `xml`, in order. */
export function elements(xml: string, tag: string): string[] {
  const out: string[] = [];
  const pattern = new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`, 'g');
  for (let m = pattern.exec(xml); m; m = pattern.exec(xml)) out.push(m[1] as string);
  return out;
}

/** The unescaped text of the first `<tag>` in `xml`, if any. */
export function textOf(xml: string, tag: string): string | undefined {
  const inner = elements(xml, tag)[0];
  return inner === undefined ? undefined : unescapeXml(inner);
}

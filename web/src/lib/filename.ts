// The name a download is saved under, reduced like the CLI's safe_file_name
// (src/client/metadata.cpp): last path component, control and bidi characters replaced, no
// leading dots or dashes, at most 200 bytes keeping a short extension.

export const MAX_SAFE_NAME_BYTES = 200;
const MAX_KEPT_EXTENSION_BYTES = 16;

function unsafe(cp: number): boolean {
  return (
    cp < 0x20 ||
    (cp >= 0x7f && cp <= 0x9f) ||
    (cp >= 0x200e && cp <= 0x200f) ||
    (cp >= 0x202a && cp <= 0x202e) ||
    (cp >= 0x2066 && cp <= 0x2069) ||
    (cp >= 0xd800 && cp <= 0xdfff) // a lone surrogate
  );
}

const encoder = new TextEncoder();

function cutUtf8(text: string, max: number): string {
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const n = encoder.encode(ch).length;
    if (bytes + n > max) break;
    out += ch;
    bytes += n;
  }
  return out;
}

export function safeFileName(name: string, fallback = 'download'): string {
  const slash = Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\'));
  let out = '';
  for (const ch of name.slice(slash + 1)) out += unsafe(ch.codePointAt(0)!) ? '_' : ch;
  out = out.replace(/^[.\- \t]+/, '').replace(/[ .]+$/, '');
  if (out === '') return fallback;
  if (encoder.encode(out).length > MAX_SAFE_NAME_BYTES) {
    const dot = out.lastIndexOf('.');
    const ext = dot >= 0 && encoder.encode(out.slice(dot)).length <= MAX_KEPT_EXTENSION_BYTES ? out.slice(dot) : '';
    out = cutUtf8(out, MAX_SAFE_NAME_BYTES - encoder.encode(ext).length) + ext;
  }
  return out;
}

// Content-Disposition for a download named `name` (RFC 6266 / RFC 8187): an ASCII fallback
// and the exact UTF-8 name.
export function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

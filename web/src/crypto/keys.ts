// The key schedule of a file (DESIGN.md "keys"): one random 128-bit secret per file, carried
// in the link fragment as base64url; content and metadata IKMs derived with HKDF-SHA256
// (salt empty, info "satload/v1 content" / "satload/v1 metadata", 16 bytes each).
import { b64urlDecode, b64urlEncode } from './base64url.js';
import { buf, importIkm, wipe } from './ece.js';

export const FILE_SECRET_BYTES = 16;
export const IKM_BYTES = 16;
export const CONTENT_INFO = 'satload/v1 content';
export const METADATA_INFO = 'satload/v1 metadata';

export function newFileSecret(): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(FILE_SECRET_BYTES));
}

export function secretToText(secret: Uint8Array): string {
  return b64urlEncode(secret);
}

// The secret of a link's fragment (without the '#'); null unless exactly 16 bytes, canonical.
export function secretFromText(text: string): Uint8Array | null {
  const bytes = b64urlDecode(text);
  if (!bytes || bytes.length !== FILE_SECRET_BYTES) return null;
  return bytes;
}

// One IKM as raw bytes (for tests and interop); pages use deriveFileKeys.
export async function deriveIkm(secret: Uint8Array, info: string): Promise<Uint8Array> {
  const subtle = globalThis.crypto.subtle;
  const base = await subtle.importKey('raw', buf(secret), 'HKDF', false, ['deriveBits']);
  const bits = await subtle.deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: new TextEncoder().encode(info) },
    base,
    IKM_BYTES * 8,
  );
  return new Uint8Array(bits);
}

// The two IKMs of a file as non-extractable HKDF keys: the RFC 8188 key and nonce derivations
// need nothing else, and a non-extractable key can be handed to the service worker without
// its bytes ever being readable there.
export interface FileKeys {
  content: CryptoKey;
  metadata: CryptoKey;
}

export async function deriveFileKeys(secret: Uint8Array): Promise<FileKeys> {
  const content = await deriveIkm(secret, CONTENT_INFO);
  const metadata = await deriveIkm(secret, METADATA_INFO);
  try {
    return { content: await importIkm(content), metadata: await importIkm(metadata) };
  } finally {
    wipe(content);
    wipe(metadata);
  }
}

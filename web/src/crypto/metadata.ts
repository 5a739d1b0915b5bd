// A file's metadata {"name","size","type"} (DESIGN.md "metadata"): UTF-8 JSON encrypted with
// the metadata IKM as one RFC 8188 body, carried as base64url text. Limits as the CLI's
// (src/client/metadata.h), so both sides accept what the other writes.
import { b64urlDecode, b64urlEncode } from './base64url.js';
import { EceError, decrypt, encrypt, newHeader } from './ece.js';

export const MAX_NAME_BYTES = 255;
export const MAX_TYPE_BYTES = 127;
export const MAX_METADATA_JSON_BYTES = 4096;
export const MAX_METADATA_TEXT_CHARS = 8192;
// One record holds any metadata we accept.
export const METADATA_RECORD_SIZE = 8192;
export const DEFAULT_TYPE = 'application/octet-stream';

export interface FileMetadata {
  name: string;
  size: number; // plaintext bytes
  type: string;
}

export type MetadataErrorCode = 'wrong_key' | 'malformed';

export class MetadataError extends Error {
  constructor(
    readonly code: MetadataErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'MetadataError';
  }
}

const encoder = new TextEncoder();

// Cuts `text` to at most `max` UTF-8 bytes without splitting a character. Lone surrogates
// become U+FFFD (as TextEncoder writes them), like the CLI's invalid-UTF-8 replacement.
export function cutUtf8(text: string, max: number): string {
  const bytes = encoder.encode(text);
  if (bytes.length <= max) return new TextDecoder().decode(bytes);
  let end = max;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return new TextDecoder().decode(bytes.subarray(0, end));
}

// Why `name` cannot be a file's new name, in words, or null when it can: the CLI's rules
// (src/client/metadata.h new_name_problem), so a rename here and with `satload rename` agree.
export function newNameProblem(name: string): string | null {
  if (name === '') return 'A file name cannot be empty.';
  const bytes = encoder.encode(name);
  if (new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes) !== name) return 'A file name must be valid text (Unicode).';
  if (bytes.length > MAX_NAME_BYTES) return `A file name is at most ${MAX_NAME_BYTES} bytes of UTF-8 (this one is ${bytes.length}).`;
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'A file name cannot hold control characters.';
  return null;
}

export function metadataToJson(meta: FileMetadata): string {
  const type = encoder.encode(meta.type).length <= MAX_TYPE_BYTES && meta.type !== '' ? meta.type : DEFAULT_TYPE;
  return JSON.stringify({ name: cutUtf8(meta.name, MAX_NAME_BYTES), size: meta.size, type });
}

export function metadataFromJson(json: string): FileMetadata {
  const malformed = () => new MetadataError('malformed', "the file's metadata is malformed");
  if (encoder.encode(json).length > MAX_METADATA_JSON_BYTES) throw new MetadataError('malformed', "the file's metadata is too large");
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw malformed();
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed();
  const { name, size, type } = value as Record<string, unknown>;
  if (typeof name !== 'string' || typeof type !== 'string') throw malformed();
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw malformed();
  if (encoder.encode(name).length > MAX_NAME_BYTES || encoder.encode(type).length > MAX_TYPE_BYTES) throw malformed();
  return { name, size, type };
}

export async function encryptMetadata(meta: FileMetadata, metadataIkm: CryptoKey): Promise<string> {
  const body = await encrypt(metadataIkm, encoder.encode(metadataToJson(meta)), newHeader(METADATA_RECORD_SIZE));
  return b64urlEncode(body);
}

export async function decryptMetadata(text: string, metadataIkm: CryptoKey): Promise<FileMetadata> {
  if (text.length > MAX_METADATA_TEXT_CHARS) throw new MetadataError('malformed', "the file's encrypted metadata is too large");
  const body = b64urlDecode(text);
  if (!body) throw new MetadataError('malformed', "the file's encrypted metadata is not base64url");
  let plain: Uint8Array;
  try {
    plain = await decrypt(metadataIkm, body);
  } catch (e) {
    if (e instanceof EceError && e.code === 'authentication_failed') {
      throw new MetadataError('wrong_key', "the file's metadata did not decrypt: the key in the link is wrong, or the data was tampered with");
    }
    throw new MetadataError('malformed', `the file's encrypted metadata is malformed: ${(e as Error).message}`);
  }
  let json: string;
  try {
    json = new TextDecoder('utf-8', { fatal: true }).decode(plain);
  } catch {
    throw new MetadataError('malformed', "the file's metadata is not UTF-8");
  }
  return metadataFromJson(json);
}

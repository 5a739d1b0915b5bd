// The account's files as the pages show them: the server's list (ids, sizes, wrapped secrets,
// encrypted metadata) with each secret unwrapped by the master key here, so names and links
// are read in the page and never by the server.
import { b64urlDecode, b64urlEncode } from '../crypto/base64url.js';
import { FILE_SECRET_AD, unwrapBytes } from '../crypto/account.js';
import { wipe } from '../crypto/ece.js';
import { deriveFileKeys } from '../crypto/keys.js';
import { decryptMetadata } from '../crypto/metadata.js';
import { apiJson } from './api.js';
import { safeFileName } from './filename.js';
import type { Session } from './session.js';

export interface OwnedFile {
  id: string;
  created: number;
  complete: boolean;
  sizeBytes: number; // plaintext when readable, else the ciphertext's
  name: string; // "" when not readable
  link: string; // with the secret in the fragment; "" when not readable
  readable: boolean;
}

interface Listed {
  id: string;
  created: number;
  complete: boolean;
  size_bytes: number;
  meta: string;
  wrapped_secret: string;
}

async function open(f: Listed, master: CryptoKey): Promise<OwnedFile> {
  const base: OwnedFile = { id: f.id, created: f.created, complete: f.complete, sizeBytes: f.size_bytes, name: '', link: '', readable: false };
  const wrapped = b64urlDecode(f.wrapped_secret);
  if (!wrapped || !f.complete) return base;
  let secret: Uint8Array;
  try {
    secret = await unwrapBytes(master, FILE_SECRET_AD, wrapped);
  } catch {
    return base; // uploaded with an API token, or not this key's
  }
  try {
    const keys = await deriveFileKeys(secret);
    const meta = await decryptMetadata(f.meta, keys.metadata);
    return {
      ...base,
      sizeBytes: meta.size,
      name: safeFileName(meta.name),
      link: `${location.origin}/f/${f.id}#${b64urlEncode(secret)}`,
      readable: true,
    };
  } catch {
    return base;
  } finally {
    wipe(secret);
  }
}

export async function ownedFiles(session: Session): Promise<OwnedFile[]> {
  const { files } = await apiJson<{ files: Listed[] }>('/api/v1/files');
  return Promise.all(files.map((f) => open(f, session.master)));
}

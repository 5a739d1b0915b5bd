// The account's files as the pages show them: the server's list (ids, sizes, wrapped secrets,
// encrypted metadata) with each secret unwrapped by the master key here, so names and links
// are read in the page and never by the server; and a rename, the metadata encrypted again
// here with the new name.
import { b64urlDecode, b64urlEncode } from '../crypto/base64url.js';
import { FILE_SECRET_AD, unwrapBytes } from '../crypto/account.js';
import { wipe } from '../crypto/ece.js';
import { deriveFileKeys } from '../crypto/keys.js';
import { decryptMetadata, encryptMetadata, newNameProblem } from '../crypto/metadata.js';
import { apiJson } from './api.js';
import { safeFileName } from './filename.js';
import type { Session } from './session.js';

export interface OwnedFile {
  id: string;
  created: number;
  complete: boolean;
  sizeBytes: number; // plaintext when readable, else the ciphertext's
  name: string; // "" when not readable; reduced to a safe file name for display
  type: string; // the media type from the metadata; "" when not readable
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
  const base: OwnedFile = { id: f.id, created: f.created, complete: f.complete, sizeBytes: f.size_bytes, name: '', type: '', link: '', readable: false };
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
      type: meta.type,
      link: `${location.origin}/f/${f.id}#${b64urlEncode(secret)}`,
      readable: true,
    };
  } catch {
    return base;
  } finally {
    wipe(secret);
  }
}

// Gives a readable file `newName`: its metadata (same size and type) is encrypted under the
// key derived from the secret in its link, with a fresh salt, and replaces the old one on the
// server (PATCH /api/v1/files/<id> {"meta"}). The server never sees the name. Throws an
// ApiError as the API answers, or an Error with the sentence of a refused name.
export async function renameOwned(f: OwnedFile, newName: string): Promise<void> {
  const problem = newNameProblem(newName);
  if (problem) throw new Error(problem);
  const secret = f.readable ? b64urlDecode(f.link.slice(f.link.indexOf('#') + 1)) : null;
  if (!secret) throw new Error('This file cannot be renamed here: its key is not this account’s.');
  try {
    const keys = await deriveFileKeys(secret);
    const meta = await encryptMetadata({ name: newName, size: f.sizeBytes, type: f.type }, keys.metadata);
    await apiJson(`/api/v1/files/${f.id}`, { method: 'PATCH', json: { meta } });
  } finally {
    wipe(secret);
  }
}

export async function ownedFiles(session: Session): Promise<OwnedFile[]> {
  const { files } = await apiJson<{ files: Listed[] }>('/api/v1/files');
  return Promise.all(files.map((f) => open(f, session.master)));
}

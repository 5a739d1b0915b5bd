// Account keys in the page, byte for byte the CLI's (src/crypto/account_keys.h, DESIGN.md
// "login"): Argon2id (t=3, m=64 MiB, p=1, 64-byte output: bytes 0..31 the password key, 32..63
// the auth key), AES-256-GCM wrapping (nonce || ciphertext || tag, the purpose as associated
// data), and the recovery key (HKDF-SHA256 wrap and auth keys; Crockford base32 text with a
// 3-byte SHA-256 checksum, 7 groups of 8).
import { argon2id } from 'hash-wasm';
import { b64urlEncode } from './base64url.js';
import { buf, wipe } from './ece.js';

export const ARGON2_ITERATIONS = 3;
export const ARGON2_MEMORY_KIB = 64 * 1024;
export const ARGON2_PARALLELISM = 1;
export const ARGON2_OUTPUT_BYTES = 64;
export const ACCOUNT_SALT_BYTES = 16;
export const ACCOUNT_KEY_BYTES = 32;
export const MAX_PASSWORD_BYTES = 1024;
const WRAP_NONCE_BYTES = 12;

export const MASTER_KEY_AD = 'satload/v1 master-key';
export const FILE_SECRET_AD = 'satload/v1 file-secret';
const RECOVERY_WRAP_INFO = 'satload/v1 recovery-wrap';
const RECOVERY_AUTH_INFO = 'satload/v1 recovery-auth';
const RECOVERY_CHECK_LABEL = 'satload/v1 recovery-check';
const RECOVERY_CHECK_BYTES = 3;
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const RECOVERY_GROUP_CHARS = 8;

const encoder = new TextEncoder();

export class PasswordTooLongError extends Error {
  constructor() {
    super(`a password is at most ${MAX_PASSWORD_BYTES} bytes`);
  }
}

export interface PasswordKeys {
  passwordKey: Uint8Array; // wraps the master key
  authKey: Uint8Array; // proves the password to the server
}

export async function derivePasswordKeys(password: string, salt: Uint8Array): Promise<PasswordKeys> {
  const bytes = encoder.encode(password);
  if (bytes.length > MAX_PASSWORD_BYTES) throw new PasswordTooLongError();
  try {
    const out = await argon2id({
      password: bytes,
      salt,
      iterations: ARGON2_ITERATIONS,
      memorySize: ARGON2_MEMORY_KIB,
      parallelism: ARGON2_PARALLELISM,
      hashLength: ARGON2_OUTPUT_BYTES,
      outputType: 'binary',
    });
    const keys = { passwordKey: out.slice(0, ACCOUNT_KEY_BYTES), authKey: out.slice(ACCOUNT_KEY_BYTES) };
    wipe(out);
    return keys;
  } finally {
    wipe(bytes);
  }
}

export function randomBytes(n: number): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(n));
}

async function aesKey(key: Uint8Array | CryptoKey, usage: KeyUsage): Promise<CryptoKey> {
  if (key instanceof CryptoKey) return key;
  return globalThis.crypto.subtle.importKey('raw', buf(key), 'AES-GCM', false, [usage]);
}

// nonce (12 random bytes) || AES-256-GCM ciphertext || tag, with `ad` as associated data.
export async function wrapBytes(key: Uint8Array | CryptoKey, ad: string, plain: Uint8Array): Promise<Uint8Array> {
  const nonce = buf(randomBytes(WRAP_NONCE_BYTES));
  const sealed = await globalThis.crypto.subtle.encrypt(
    { name: 'AES-GCM', iv: nonce, additionalData: encoder.encode(ad), tagLength: 128 },
    await aesKey(key, 'encrypt'),
    buf(plain),
  );
  const out = new Uint8Array(WRAP_NONCE_BYTES + sealed.byteLength);
  out.set(nonce);
  out.set(new Uint8Array(sealed), WRAP_NONCE_BYTES);
  return out;
}

// Throws (OperationError) for a wrong key, a wrong purpose or a flipped bit.
export async function unwrapBytes(key: Uint8Array | CryptoKey, ad: string, wrapped: Uint8Array): Promise<Uint8Array> {
  if (wrapped.length < WRAP_NONCE_BYTES + 16) throw new Error('a wrapped key is too short');
  const plain = await globalThis.crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: buf(wrapped.slice(0, WRAP_NONCE_BYTES)), additionalData: encoder.encode(ad), tagLength: 128 },
    await aesKey(key, 'decrypt'),
    buf(wrapped.slice(WRAP_NONCE_BYTES)),
  );
  return new Uint8Array(plain);
}

// The master key as a non-extractable AES-GCM key: it wraps and unwraps file secrets, and no
// script (not even ours) can read its bytes back.
export async function importMasterKey(bytes: Uint8Array): Promise<CryptoKey> {
  return globalThis.crypto.subtle.importKey('raw', buf(bytes), 'AES-GCM', false, ['encrypt', 'decrypt']);
}

async function hkdf32(ikm: Uint8Array, info: string): Promise<Uint8Array> {
  const base = await globalThis.crypto.subtle.importKey('raw', buf(ikm), 'HKDF', false, ['deriveBits']);
  const bits = await globalThis.crypto.subtle.deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: encoder.encode(info) },
    base,
    ACCOUNT_KEY_BYTES * 8,
  );
  return new Uint8Array(bits);
}

export function recoveryWrapKey(recovery: Uint8Array): Promise<Uint8Array> {
  return hkdf32(recovery, RECOVERY_WRAP_INFO);
}

export function recoveryAuthKey(recovery: Uint8Array): Promise<Uint8Array> {
  return hkdf32(recovery, RECOVERY_AUTH_INFO);
}

async function recoveryChecksum(key: Uint8Array): Promise<Uint8Array> {
  const label = encoder.encode(RECOVERY_CHECK_LABEL);
  const input = new Uint8Array(label.length + key.length);
  input.set(label);
  input.set(key, label.length);
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', buf(input)));
  wipe(input);
  return digest.slice(0, RECOVERY_CHECK_BYTES);
}

// The recovery key as the user writes it down (the CLI's recovery_key_to_text).
export async function recoveryKeyToText(key: Uint8Array): Promise<string> {
  const payload = new Uint8Array(key.length + RECOVERY_CHECK_BYTES);
  payload.set(key);
  payload.set(await recoveryChecksum(key), key.length);
  let text = '';
  let buffer = 0;
  let bits = 0;
  let chars = 0;
  for (const byte of payload) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      if (chars !== 0 && chars % RECOVERY_GROUP_CHARS === 0) text += '-';
      text += CROCKFORD[(buffer >> bits) & 0x1f];
      chars++;
    }
  }
  wipe(payload);
  return text;
}

// A new account's keys and registration body members (the CLI's register_account).
export interface NewAccount {
  body: Record<string, string>; // salt, auth_key, master_by_password, recovery_auth_key, master_by_recovery
  master: Uint8Array; // secret: the caller imports it and wipes these bytes
  recoveryText: string; // shown once
}

export async function newAccount(password: string): Promise<NewAccount> {
  const salt = randomBytes(ACCOUNT_SALT_BYTES);
  const keys = await derivePasswordKeys(password, salt);
  const master = randomBytes(ACCOUNT_KEY_BYTES);
  const recovery = randomBytes(ACCOUNT_KEY_BYTES);
  try {
    const wrapKey = await recoveryWrapKey(recovery);
    const authKey = await recoveryAuthKey(recovery);
    const body = {
      salt: b64urlEncode(salt),
      auth_key: b64urlEncode(keys.authKey),
      master_by_password: b64urlEncode(await wrapBytes(keys.passwordKey, MASTER_KEY_AD, master)),
      recovery_auth_key: b64urlEncode(authKey),
      master_by_recovery: b64urlEncode(await wrapBytes(wrapKey, MASTER_KEY_AD, master)),
    };
    const recoveryText = await recoveryKeyToText(recovery);
    wipe(wrapKey);
    wipe(authKey);
    return { body, master, recoveryText };
  } finally {
    wipe(recovery);
    wipe(keys.passwordKey);
    wipe(keys.authKey);
  }
}

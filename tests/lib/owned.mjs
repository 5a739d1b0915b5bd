// Accounts and owned uploads over the HTTP API, for tests that need many users quickly: the
// keys a client would derive with Argon2id are random here (the server never sees how they were
// made), and uploads are real RFC 8188 bodies with the file secret wrapped by a master key.
import assert from 'node:assert/strict';
import { randomBytes, createCipheriv, createDecipheriv } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { deriveKeys, recordKeys } from './secrets.mjs';

export const b64url = (buf) => Buffer.from(buf).toString('base64url');
const tusValue = (text) => Buffer.from(text).toString('base64');

// One RFC 8188 aes128gcm body with a single (last) record.
export function ece(ikm, plaintext, rs) {
  const header = Buffer.alloc(21);
  randomBytes(16).copy(header, 0);
  header.writeUInt32BE(rs, 16);
  header[20] = 0;
  assert.ok(plaintext.length + 17 <= rs, 'one record only');
  const { cek, nonce } = recordKeys(ikm, header);
  const c = createCipheriv('aes-128-gcm', cek, nonce);
  const ct = Buffer.concat([c.update(Buffer.concat([plaintext, Buffer.from([2])])), c.final()]);
  return Buffer.concat([header, ct, c.getAuthTag()]);
}

// An RFC 8188 aes128gcm body of many records (each `rs` bytes but the last), for large files:
// the nonce of record i is the base nonce XOR i (RFC 8188 section 2.3).
export function eceRecords(ikm, plaintext, rs) {
  const header = Buffer.alloc(21);
  randomBytes(16).copy(header, 0);
  header.writeUInt32BE(rs, 16);
  const { cek, nonce } = recordKeys(ikm, header);
  const chunk = rs - 17;
  const records = Math.max(1, Math.ceil(plaintext.length / chunk));
  const out = Buffer.alloc(header.length + plaintext.length + records * 17);
  header.copy(out, 0);
  let at = header.length;
  for (let i = 0; i < records; i++) {
    const iv = Buffer.from(nonce);
    iv.writeUInt32BE((iv.readUInt32BE(8) ^ i) >>> 0, 8);  // i < 2^32: only the low word changes
    const c = createCipheriv('aes-128-gcm', cek, iv);
    const last = i === records - 1;
    const part = plaintext.subarray(i * chunk, Math.min(plaintext.length, (i + 1) * chunk));
    at += c.update(part).copy(out, at);
    at += c.update(Buffer.from([last ? 2 : 1])).copy(out, at);
    at += c.final().copy(out, at);
    at += c.getAuthTag().copy(out, at);
  }
  return out.subarray(0, at);
}

// Opens a one-record RFC 8188 body (as encrypted metadata always is): the record's plaintext
// without its padding and last-record delimiter. Throws when the key or the bytes are wrong.
export function eceOpen(ikm, body) {
  const header = body.subarray(0, 21 + body[20]);
  const record = body.subarray(header.length);
  const { cek, nonce } = recordKeys(ikm, header);
  const d = createDecipheriv('aes-128-gcm', cek, nonce);
  d.setAuthTag(record.subarray(record.length - 16));
  const plain = Buffer.concat([d.update(record.subarray(0, record.length - 16)), d.final()]);
  let end = plain.length - 1;
  while (end >= 0 && plain[end] === 0) end--;
  assert.equal(plain[end], 2, 'one record, the last');
  return plain.subarray(0, end);
}

// The {name, size, type} of a file's encrypted metadata (base64url), with the link's secret.
export function openMetadata(metaText, secretText) {
  return JSON.parse(eceOpen(deriveKeys(secretText).metadata, Buffer.from(metaText, 'base64url')).toString('utf8'));
}

// AES-256-GCM wrap as DESIGN.md "login" describes: nonce || ciphertext || tag, AD the purpose.
export function wrap(key, ad, plaintext) {
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(Buffer.from(ad));
  return Buffer.concat([nonce, c.update(plaintext), c.final(), c.getAuthTag()]);
}

async function json(res) {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`not JSON (${res.status}): ${text}`);
  }
}

// Registers `username` and logs in: {username, token, masterKey}.
export async function apiUser(url, username) {
  const authKey = randomBytes(32);
  const masterKey = randomBytes(32);
  const reg = await fetch(`${url}/api/v1/account/register`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      username,
      salt: b64url(randomBytes(16)),
      auth_key: b64url(authKey),
      master_by_password: b64url(wrap(randomBytes(32), 'satload/v1 master-key', masterKey)),
      recovery_auth_key: b64url(randomBytes(32)),
      master_by_recovery: b64url(wrap(randomBytes(32), 'satload/v1 master-key', masterKey)),
    }),
  });
  assert.equal(reg.status, 201, await reg.text());
  const login = await fetch(`${url}/api/v1/account/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, auth_key: b64url(authKey) }),
  });
  const body = await json(login);
  assert.equal(login.status, 200, JSON.stringify(body));
  return { username, token: body.token, masterKey };
}

// An owned upload of `content` by `user`; `meta` adds tus metadata (e.g. {price_msat: '1000'}).
// Returns {res, text, id, link, ciphertext}.
export async function ownedUpload(url, user, name, content, { meta = {} } = {}) {
  const secretText = b64url(randomBytes(16));
  const keys = deriveKeys(secretText);
  const encMeta = ece(keys.metadata, Buffer.from(JSON.stringify({ name, size: content.length, type: 'application/octet-stream' })), 8192);
  const body = ece(keys.content, content, 65536);
  const ownerSecret = wrap(user.masterKey, 'satload/v1 file-secret', keys.secret);
  const pairs = [`meta ${tusValue(b64url(encMeta))}`, `owner_secret ${tusValue(b64url(ownerSecret))}`];
  for (const [k, v] of Object.entries(meta)) pairs.push(`${k} ${tusValue(String(v))}`);
  const res = await fetch(`${url}/files`, {
    method: 'POST',
    headers: {
      'Tus-Resumable': '1.0.0',
      'Upload-Length': String(body.length),
      'Upload-Metadata': pairs.join(','),
      'Content-Type': 'application/offset+octet-stream',
      Authorization: `Bearer ${user.token}`,
    },
    body,
  });
  const text = await res.text();
  const id = res.headers.get('satload-file-id');
  return { res, text, id, link: `${url}/f/${id}#${secretText}`, ciphertext: body };
}

// The admin API of a server's data directory (admin.json holds its URL and token).
export function adminApi(dataDir) {
  const file = JSON.parse(readFileSync(path.join(dataDir, 'admin.json'), 'utf8'));
  const call = async (method, route, body) => {
    const res = await fetch(`${file.url}${route}`, {
      method,
      headers: { Authorization: `Bearer ${file.token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await json(res) };
  };
  return {
    credit: (user, amountMsat, reason = 'test') =>
      call('POST', '/api/v1/admin/credit', { user, amount_msat: amountMsat, reason, id: randomBytes(16).toString('hex') }),
    balances: () => call('GET', '/api/v1/admin/balances'),
    audit: () => call('GET', '/api/v1/admin/audit'),
  };
}

export async function apiGet(url, route, token) {
  const res = await fetch(`${url}${route}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  return { status: res.status, headers: res.headers, body: await json(res) };
}

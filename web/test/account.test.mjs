// The page's account keys against the CLI's: the same Argon2id bytes (the C++ unit test's
// vector, from the reference argon2 tool), the same recovery-key text (the C++ vector), and
// wraps that node's own AES-256-GCM opens and makes (nonce || ciphertext || tag, the purpose as
// associated data), so a key wrapped in the page unwraps in the CLI and back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { account, format, hex } from './helpers.mjs';

const counting = (first, n = 32) => Uint8Array.from({ length: n }, (_, i) => (first + i) & 0xff);

test('Argon2id t=3 m=64 MiB p=1 gives the reference implementation\'s 64 bytes', async () => {
  const salt = new TextEncoder().encode('satload-salt-16b');
  const keys = await account.derivePasswordKeys('correct horse battery staple', salt);
  assert.equal(hex(keys.passwordKey), '28c4a8ff0aed26bb733e1ffef86b3e28b8fada8ca3caba358b8370b892d867aa');
  assert.equal(hex(keys.authKey), '232b27cf52895c1ccd5e3d1d4779355f43d851ccc1191e17b4d6375152710880');
  await assert.rejects(account.derivePasswordKeys('x'.repeat(1025), salt), account.PasswordTooLongError);
});

test('the recovery key text is the CLI\'s (Crockford base32, checksum, 7 groups of 8)', async () => {
  assert.equal(await account.recoveryKeyToText(counting(0x80)), 'G20R50W4-GP38F249-HA5RS3CE-HY8934MK-JJASD5WR-K6D9Q74X-KTFV2R6Z');
});

test('recovery wrap and auth keys are HKDF-SHA256 with empty salt and their infos', async () => {
  const recovery = counting(7);
  const expect = (info) => hex(new Uint8Array(hkdfSync('sha256', recovery, new Uint8Array(0), info, 32)));
  assert.equal(hex(await account.recoveryWrapKey(recovery)), expect('satload/v1 recovery-wrap'));
  assert.equal(hex(await account.recoveryAuthKey(recovery)), expect('satload/v1 recovery-auth'));
});

test('wraps open with node\'s AES-256-GCM and the purpose as associated data, and the other way', async () => {
  const key = randomBytes(32);
  const secret = randomBytes(16);
  const wrapped = await account.wrapBytes(new Uint8Array(key), account.FILE_SECRET_AD, new Uint8Array(secret));
  assert.equal(wrapped.length, 12 + 16 + 16);
  const d = createDecipheriv('aes-256-gcm', key, wrapped.subarray(0, 12));
  d.setAAD(Buffer.from('satload/v1 file-secret'));
  d.setAuthTag(wrapped.subarray(wrapped.length - 16));
  assert.deepEqual(Buffer.concat([d.update(wrapped.subarray(12, wrapped.length - 16)), d.final()]), secret);

  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(Buffer.from('satload/v1 master-key'));
  const master = randomBytes(32);
  const made = Buffer.concat([nonce, c.update(master), c.final(), c.getAuthTag()]);
  assert.deepEqual(Buffer.from(await account.unwrapBytes(new Uint8Array(key), account.MASTER_KEY_AD, new Uint8Array(made))), master);
  // The purpose is bound: a master-key wrap does not open as a file secret.
  await assert.rejects(account.unwrapBytes(new Uint8Array(key), account.FILE_SECRET_AD, new Uint8Array(made)));
});

test('a new account\'s body: sizes as the server checks them, the master key under both wraps', async () => {
  const a = await account.newAccount('pw');
  const b = (k) => Buffer.from(a.body[k], 'base64url');
  assert.equal(b('salt').length, 16);
  assert.equal(b('auth_key').length, 32);
  assert.equal(b('master_by_password').length, 60);
  assert.equal(b('recovery_auth_key').length, 32);
  assert.equal(b('master_by_recovery').length, 60);
  const keys = await account.derivePasswordKeys('pw', new Uint8Array(b('salt')));
  assert.equal(hex(keys.authKey), hex(b('auth_key')));
  assert.deepEqual(await account.unwrapBytes(keys.passwordKey, account.MASTER_KEY_AD, new Uint8Array(b('master_by_password'))), a.master);
  assert.match(a.recoveryText, /^([0-9A-HJKMNP-TV-Z]{8}-){6}[0-9A-HJKMNP-TV-Z]{8}$/);
});

test('prices in sat parse to exact msat; anything else is refused', () => {
  assert.equal(format.parseSatToMsat('12'), 12000);
  assert.equal(format.parseSatToMsat('0.5'), 500);
  assert.equal(format.parseSatToMsat('1.234'), 1234);
  for (const bad of ['', '-1', '1e3', '1.2345', '1.', '.5', 'abc', '1,5']) assert.equal(format.parseSatToMsat(bad), null, bad);
});

// Pins down the key schedule in the page (DESIGN.md "keys") against the C++ unit test's
// independent vector, node's own HKDF, and the secret's one canonical link form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hkdfSync } from 'node:crypto';
import { ece, hex, httpEce, keys, pseudoRandom } from './helpers.mjs';

const counting = () => Uint8Array.from({ length: 16 }, (_, i) => i);

// The IKMs of secret 00..0f are the values tests/unit/crypto/keys_test.cpp pins (computed
// there with python's hmac), and what node's HKDF gives.
test('IKM derivation matches the independent vector', async () => {
  assert.equal(hex(await keys.deriveIkm(counting(), keys.CONTENT_INFO)), 'b75bd73db64fc23033fc7a022aab3a31');
  assert.equal(hex(await keys.deriveIkm(counting(), keys.METADATA_INFO)), '626882d0f7d46acc6219fb5d927571cf');
  const secret = pseudoRandom(16, 77);
  for (const info of [keys.CONTENT_INFO, keys.METADATA_INFO]) {
    const theirs = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), Buffer.from(info), 16));
    assert.equal(hex(await keys.deriveIkm(secret, info)), theirs.toString('hex'));
  }
});

// The keys deriveFileKeys returns are the IKMs: a body encrypted with the content key
// decrypts with http_ece given the raw content IKM, and not with the metadata IKM.
test('deriveFileKeys gives usable, separated keys', async () => {
  const secret = pseudoRandom(16, 78);
  const fk = await keys.deriveFileKeys(secret);
  assert.equal(fk.content.extractable, false);
  const body = await ece.encrypt(fk.content, new TextEncoder().encode('hello'));
  const content = Buffer.from(await keys.deriveIkm(secret, keys.CONTENT_INFO));
  const metadata = Buffer.from(await keys.deriveIkm(secret, keys.METADATA_INFO));
  assert.equal(httpEce.decrypt(Buffer.from(body), { version: 'aes128gcm', key: content }).toString(), 'hello');
  assert.throws(() => httpEce.decrypt(Buffer.from(body), { version: 'aes128gcm', key: metadata }));
});

// The fragment form is base64url without padding, 22 characters, and only the canonical
// text is accepted (the cases of the C++ test).
test('secret text round-trips and refuses non-canonical forms', () => {
  assert.equal(keys.secretToText(counting()), 'AAECAwQFBgcICQoLDA0ODw');
  assert.deepEqual(keys.secretFromText('AAECAwQFBgcICQoLDA0ODw'), counting());
  const ff = new Uint8Array(16).fill(0xff);
  assert.equal(keys.secretToText(ff), '_____________________w');
  assert.deepEqual(keys.secretFromText('_____________________w'), ff);
  for (const bad of [
    '',
    'AAECAwQFBgcICQoLDA0OD',
    'AAECAwQFBgcICQoLDA0ODwA',
    'AAECAwQFBgcICQoLDA0ODw==',
    'AAECAwQFBgcICQoLDA0ODx',
    'AAECAwQFBgcICQoLDA0OD+',
    'AAECAwQFBgcICQoLDA0O w',
    'AAECAwQFBgcICQoLDA0OD\u00e9',
  ]) {
    assert.equal(keys.secretFromText(bad), null, JSON.stringify(bad));
  }
  const fresh = keys.newFileSecret();
  assert.equal(fresh.length, 16);
  assert.deepEqual(keys.secretFromText(keys.secretToText(fresh)), fresh);
});

// Pins down the encrypted metadata the page writes and reads ({"name","size","type"} as one
// RFC 8188 body of 8 KiB records, base64url), with the CLI's limits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { b64u, ece, httpEce, keys, metadata, pseudoRandom } from './helpers.mjs';

async function keyPair(seed) {
  const secret = pseudoRandom(16, seed);
  const raw = await keys.deriveIkm(secret, keys.METADATA_INFO);
  return { raw, key: await ece.importIkm(raw) };
}

// Encrypted metadata is base64url of an RFC 8188 body that http_ece opens with the metadata
// IKM, holding the JSON the CLI expects; it decrypts back to the same fields.
test('metadata round-trips and is the documented JSON', async () => {
  const { raw, key } = await keyPair(1);
  const meta = { name: 'holiday 🌴.mp4', size: 123456789, type: 'video/mp4' };
  const textForm = await metadata.encryptMetadata(meta, key);
  assert.match(textForm, /^[A-Za-z0-9_-]+$/);
  const body = b64u(textForm);
  assert.equal(ece.parseHeader(body).recordSize, 8192);
  const json = httpEce.decrypt(Buffer.from(body), { version: 'aes128gcm', key: Buffer.from(raw) }).toString();
  assert.deepEqual(JSON.parse(json), meta);
  assert.deepEqual(await metadata.decryptMetadata(textForm, key), meta);
});

// The wrong key is told apart from damaged data.
test('a wrong key and malformed text fail distinctly', async () => {
  const a = await keyPair(2);
  const b = await keyPair(3);
  const textForm = await metadata.encryptMetadata({ name: 'x', size: 1, type: 'text/plain' }, a.key);
  await assert.rejects(metadata.decryptMetadata(textForm, b.key), (e) => e.code === 'wrong_key');
  await assert.rejects(metadata.decryptMetadata('not base64url!', a.key), (e) => e.code === 'malformed');
  await assert.rejects(metadata.decryptMetadata('A'.repeat(8193), a.key), (e) => e.code === 'malformed');
  const notJson = await ece.encrypt(a.key, new TextEncoder().encode('{"name":1}'));
  await assert.rejects(metadata.decryptMetadata(Buffer.from(notJson).toString('base64url'), a.key), (e) => e.code === 'malformed');
});

// Long names are cut to 255 UTF-8 bytes without splitting a character; an empty or
// over-long type becomes application/octet-stream; negative or fractional sizes are refused.
test('limits: name length, type, size', () => {
  const name = 'é'.repeat(200); // 400 bytes
  const json = JSON.parse(metadata.metadataToJson({ name, size: 5, type: '' }));
  assert.equal(new TextEncoder().encode(json.name).length, 254);
  assert.equal(json.name, 'é'.repeat(127));
  assert.equal(json.type, 'application/octet-stream');
  assert.equal(JSON.parse(metadata.metadataToJson({ name: 'a', size: 0, type: 'x/'.repeat(100) })).type, 'application/octet-stream');
  for (const bad of ['{"name":"a","size":-1,"type":"t"}', '{"name":"a","size":1.5,"type":"t"}', '{"name":"a","type":"t"}', '[]']) {
    assert.throws(() => metadata.metadataFromJson(bad), (e) => e.code === 'malformed', bad);
  }
});

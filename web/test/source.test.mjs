// Pins down the upload's random-access encryption (src/crypto/source.ts): any ciphertext
// range it produces is the same bytes as the whole body, so tus can send, retry and resume
// from any offset; the body is satload's layout and opens with http_ece.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ece, fixedSalt, httpEce, pseudoRandom, source } from './helpers.mjs';

const RS = 65536;
const PPR = RS - 17;

test('every range equals the same range of the whole body', async () => {
  const raw = pseudoRandom(16, 30);
  const ikm = await ece.importIkm(raw);
  for (const size of [0, 1, PPR, 2 * PPR, 3 * PPR + 123]) {
    const plain = pseudoRandom(size, size + 31);
    const header = ece.newHeader(RS, fixedSalt(0x70));
    const whole = await ece.encrypt(ikm, plain, header);
    const src = await source.EncryptedSource.open(new Blob([plain]), ikm, header);
    assert.equal(src.size, whole.length, `size ${size}`);
    assert.deepEqual(await src.read(0, src.size), whole, `whole, size ${size}`);
    const cuts = [0, 1, 20, 21, 22, 21 + RS - 1, 21 + RS, 21 + RS + 1, whole.length - 1, whole.length];
    for (const a of cuts) {
      for (const b of cuts) {
        if (a > b || b > whole.length) continue;
        assert.deepEqual(await src.read(a, b), whole.subarray(a, b), `size ${size} range ${a}-${b}`);
      }
    }
    // Chunks of an odd size, as tus reads them, make the body; http_ece opens it.
    const parts = [];
    for (let at = 0; at < src.size; at += 100003) parts.push(await src.read(at, at + 100003));
    const body = ece.concat(parts);
    assert.deepEqual(body, whole);
    assert.ok(httpEce.decrypt(Buffer.from(body), { version: 'aes128gcm', key: Buffer.from(raw) }).equals(Buffer.from(plain)));
  }
});

// A file that changes size under the reader is refused rather than encrypted wrongly.
test('a file that shrank while being read is refused', async () => {
  const ikm = await ece.importIkm(pseudoRandom(16, 32));
  const plain = pseudoRandom(3 * PPR, 33);
  const shrinking = { size: plain.length, slice: (a, b) => new Blob([plain.subarray(a, Math.min(b, plain.length - 10))]) };
  const src = await source.EncryptedSource.open(shrinking, ikm, ece.newHeader());
  await assert.rejects(src.read(0, src.size), /changed/);
});

// Pins down the page's RFC 8188 implementation (src/crypto/ece.ts on WebCrypto): the RFC's
// examples, satload's layout, streaming in chunks of any size, range decryption, every
// failure kind, and interop with the npm http_ece package both ways.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDecipheriv, hkdfSync } from 'node:crypto';
import { b64u, collect, ece, fixedSalt, httpEce, pseudoRandom, randomChunks, streamOf, toB64u } from './helpers.mjs';

const EX1_IKM = 'yqdlZ-tYemfogSmv7Ws5PQ';
const EX1_SALT = 'I1BsxtFttlv3u_Oo94xnmw';
const EX1_BODY = 'I1BsxtFttlv3u_Oo94xnmwAAEAAA-NAVub2qFgBEuQKRapoZu-IxkIva3MEB1PD-ly8Thjg';
const EX2_IKM = 'BO3ZVPxUlnLORbVGMpbT1Q';
const EX2_BODY =
  'uNCkWiNYzKTnBN9ji3-qWAAAABkCYTHOG8chz_gnvgOqdGYovxyjuqRyJFjEDyoF1Fvkj6hQPdPHI51OEUKEpgz3SsLWIqS_uA';
const RS = 65536;
const PPR = RS - 17;
const text = (bytes) => new TextDecoder().decode(bytes);
const importIkm = (raw) => ece.importIkm(raw);

async function rejectsWith(promise, code, record) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.name, 'EceError', String(e));
    assert.equal(e.code, code, e.message);
    if (record !== undefined) assert.equal(e.record, record, e.message);
    return true;
  });
}

// RFC 8188 section 3.1: one record, rs 4096, decrypts, and encrypting with its salt gives
// the RFC's bytes exactly (so key, nonce, delimiter and header all match).
test('RFC 8188 example 3.1 decrypts and re-encrypts to the same bytes', async () => {
  const ikm = await importIkm(b64u(EX1_IKM));
  assert.equal(text(await ece.decrypt(ikm, b64u(EX1_BODY))), 'I am the walrus');
  const header = ece.newHeader(4096, b64u(EX1_SALT));
  const body = await ece.encrypt(ikm, new TextEncoder().encode('I am the walrus'), header);
  assert.equal(toB64u(body), EX1_BODY);
});

// RFC 8188 section 3.2: two records of rs 25, key id "a1", a padded first record; whole and
// fed one byte at a time.
test('RFC 8188 example 3.2 (key id, padding) decrypts whole and byte by byte', async () => {
  const ikm = await importIkm(b64u(EX2_IKM));
  const body = b64u(EX2_BODY);
  assert.equal(text(await ece.decrypt(ikm, body)), 'I am the walrus');
  const header = ece.parseHeader(body);
  assert.equal(header.recordSize, 25);
  assert.equal(text(header.keyId), 'a1');
  const bytes = [...body].map((b) => Uint8Array.of(b));
  assert.equal(text(await collect(streamOf(bytes).pipeThrough(ece.decryptStream(ikm)))), 'I am the walrus');
});

// Sizes around record boundaries: the body has satload's layout (every record full but the
// last, a delimiter-only record after an exact multiple), Layout predicts its size both
// ways, and http_ece decrypts it.
test('satload layout: sizes, records, and http_ece decrypts it', async () => {
  const raw = pseudoRandom(16, 3);
  const ikm = await importIkm(raw);
  for (const size of [0, 1, PPR - 1, PPR, PPR + 1, 2 * PPR, 3 * PPR + 5]) {
    const plain = pseudoRandom(size, size + 1);
    const body = await ece.encrypt(ikm, plain, ece.newHeader(RS, fixedSalt()));
    const layout = new ece.Layout();
    assert.equal(body.length, layout.ciphertextSize(size), `size ${size}`);
    assert.equal(layout.plaintextSize(body.length), size, `size ${size}`);
    assert.equal(layout.recordCount(size), Math.floor(size / PPR) + 1);
    // The last record is short: an exact multiple ends with 17 bytes (delimiter and tag).
    assert.equal((body.length - 21) % RS, (size % PPR) + 17, `size ${size}`);
    const back = httpEce.decrypt(Buffer.from(body), { version: 'aes128gcm', key: Buffer.from(raw) });
    assert.ok(back.equals(Buffer.from(plain)), `http_ece, size ${size}`);
  }
});

// http_ece's bodies (its exact multiples end with a full last record; with `pad`, records
// carry padding) decrypt here, whole and streamed in random chunks.
test('what http_ece encrypts decrypts here', async () => {
  const raw = pseudoRandom(16, 9);
  const ikm = await importIkm(raw);
  for (const rs of [25, 4096, RS]) {
    const per = rs - 17;
    for (const size of [0, 1, per - 1, per, per + 1, 2 * per, 3 * per + 5]) {
      const plain = pseudoRandom(size, size + rs);
      const body = httpEce.encrypt(Buffer.from(plain), { version: 'aes128gcm', key: Buffer.from(raw), rs });
      assert.deepEqual(await ece.decrypt(ikm, new Uint8Array(body)), plain, `rs ${rs} size ${size}`);
      const streamed = await collect(streamOf(randomChunks(new Uint8Array(body), 3 * rs)).pipeThrough(ece.decryptStream(ikm)));
      assert.deepEqual(streamed, plain, `streamed rs ${rs} size ${size}`);
    }
  }
  const padded = httpEce.encrypt(Buffer.from('padded records'), { version: 'aes128gcm', key: Buffer.from(raw), rs: 30, pad: 20 });
  assert.equal(text(await ece.decrypt(ikm, new Uint8Array(padded))), 'padded records');
});

// With one salt, http_ece and this encoder write the same bytes where satload's layout and
// http_ece's agree (every size that is not a non-zero exact multiple of a record).
test('same salt, same bytes as http_ece', async () => {
  const raw = pseudoRandom(16, 11);
  const ikm = await importIkm(raw);
  const salt = fixedSalt(0x10);
  for (const size of [0, 1, PPR + 1, 3 * PPR + 5]) {
    const plain = pseudoRandom(size, 5);
    const ours = await ece.encrypt(ikm, plain, ece.newHeader(RS, salt));
    const theirs = httpEce.encrypt(Buffer.from(plain), { version: 'aes128gcm', key: Buffer.from(raw), rs: RS, salt: Buffer.from(salt) });
    assert.ok(Buffer.from(ours).equals(theirs), `size ${size}`);
  }
});

// The encrypting stream writes exactly what the whole-buffer encoder writes, whatever the
// chunking of its input, and keeps at most a record of plaintext.
test('encryptStream equals encrypt for any chunking', async () => {
  const ikm = await importIkm(pseudoRandom(16, 12));
  for (const size of [0, 5, PPR, 2 * PPR, 4 * PPR + 77]) {
    const plain = pseudoRandom(size, 13);
    const header = ece.newHeader(RS, fixedSalt(0x40));
    const whole = await ece.encrypt(ikm, plain, header);
    const streamed = await collect(streamOf(randomChunks(plain, 100000, size + 1)).pipeThrough(ece.encryptStream(ikm, header)));
    assert.deepEqual(streamed, whole, `size ${size}`);
  }
});

// Any run of whole records decrypts alone given the header (a range download), and the
// final record of the body still ends it properly.
test('a range of records decrypts alone', async () => {
  const ikm = await importIkm(pseudoRandom(16, 14));
  const size = 5 * PPR + 1000;
  const plain = pseudoRandom(size, 15);
  const header = ece.newHeader(RS, fixedSalt(0x50));
  const body = await ece.encrypt(ikm, plain, header);
  const layout = ece.Layout.of(header);
  for (const first of [1, 3, 5]) {
    const decoder = new ece.BodyDecoder(ikm, { header, firstRecord: first });
    const out = [];
    await decoder.push(body.subarray(layout.recordOffset(first)), out);
    await decoder.finish(out);
    assert.deepEqual(ece.concat(out), plain.subarray(first * PPR), `from record ${first}`);
  }
});

// The record nonce is the base nonce XOR the big-endian sequence number (RFC 8188 2.3), also
// for indexes above 32 bits: checked against an independent derivation with node:crypto.
test('record nonces for large indexes match an independent computation', async () => {
  const raw = pseudoRandom(16, 16);
  const header = ece.newHeader(RS, fixedSalt(0x60));
  const cipher = await ece.RecordCipher.create(await importIkm(raw), header);
  const cek = Buffer.from(hkdfSync('sha256', raw, header.salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const base = Buffer.from(hkdfSync('sha256', raw, header.salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  for (const index of [0, 1, 255, 256, 2 ** 32 + 7, 2 ** 40 + 0x123456, Number.MAX_SAFE_INTEGER]) {
    const record = await cipher.encryptRecord(index, Uint8Array.of(1, 2, 3), true);
    const nonce = Buffer.from(base);
    let rest = BigInt(index);
    for (let i = 11; i >= 4; i--) {
      nonce[i] ^= Number(rest & 0xffn);
      rest >>= 8n;
    }
    const d = createDecipheriv('aes-128-gcm', cek, nonce);
    d.setAuthTag(Buffer.from(record.subarray(record.length - 16)));
    const plain = Buffer.concat([d.update(record.subarray(0, record.length - 16)), d.final()]);
    assert.deepEqual([...plain], [1, 2, 3, 2], `index ${index}`);
  }
});

// Every way a body can be wrong is refused, naming the kind and the record.
test('tampering, truncation, trailing data, reordering, wrong keys and bad headers fail', async () => {
  const ikm = await importIkm(pseudoRandom(16, 17));
  const plain = pseudoRandom(3 * PPR + 10, 18);
  const body = await ece.encrypt(ikm, plain, ece.newHeader(RS, fixedSalt()));
  const recordAt = (i) => 21 + i * RS;

  const flipped = body.slice();
  flipped[recordAt(2) + 5] ^= 1;
  await rejectsWith(ece.decrypt(ikm, flipped), 'authentication_failed', 2);

  await rejectsWith(ece.decrypt(ikm, body.subarray(0, recordAt(3))), 'truncated', 3);
  await rejectsWith(ece.decrypt(ikm, body.subarray(0, 21)), 'truncated', 0);

  const longer = new Uint8Array(body.length + 1);
  longer.set(body);
  await rejectsWith(ece.decrypt(ikm, longer), 'authentication_failed', 3);
  // Bytes after a full record that carries the last delimiter (as http_ece ends an exact
  // multiple) are trailing data.
  const rawIkm = pseudoRandom(16, 17);
  const full = httpEce.encrypt(Buffer.from(pseudoRandom(PPR, 20)), { version: 'aes128gcm', key: Buffer.from(rawIkm), rs: RS });
  assert.equal(full.length, 21 + RS);
  await rejectsWith(ece.decrypt(ikm, ece.concat([new Uint8Array(full), Uint8Array.of(0, 0, 0)])), 'trailing_data', 1);
  await rejectsWith(ece.decrypt(ikm, ece.concat([new Uint8Array(full), new Uint8Array(RS)])), 'trailing_data', 1);

  const swapped = body.slice();
  swapped.set(body.subarray(recordAt(1), recordAt(2)), recordAt(0));
  swapped.set(body.subarray(recordAt(0), recordAt(1)), recordAt(1));
  await rejectsWith(ece.decrypt(ikm, swapped), 'authentication_failed', 0);

  const other = await importIkm(pseudoRandom(16, 19));
  await rejectsWith(ece.decrypt(other, body), 'authentication_failed', 0);

  const badRs = body.slice();
  badRs.set([0, 0, 0, 17], 16);
  await rejectsWith(ece.decrypt(ikm, badRs), 'malformed_header', 0);
  await rejectsWith(ece.decrypt(ikm, body.subarray(0, 20)), 'malformed_header', 0);

  // A record whose plaintext carries no delimiter (all zero) or a wrong one.
  const cipher = await ece.RecordCipher.create(ikm, ece.newHeader(RS, fixedSalt()));
  const raw = pseudoRandom(16, 17);
  const cek = Buffer.from(hkdfSync('sha256', raw, fixedSalt(), Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', raw, fixedSalt(), Buffer.from('Content-Encoding: nonce\0'), 12));
  const { createCipheriv } = await import('node:crypto');
  for (const padded of [Buffer.from([7, 0, 0]), Buffer.from([7, 3])]) {
    const c = createCipheriv('aes-128-gcm', cek, nonce);
    const rec = Buffer.concat([c.update(padded), c.final(), c.getAuthTag()]);
    await rejectsWith(cipher.decryptRecord(0, new Uint8Array(rec)), 'bad_padding', 0);
  }
  // A short record that says more follow: what a body cut at a record boundary by a
  // dishonest encoder looks like. The body ends there, so it is truncated.
  const c = createCipheriv('aes-128-gcm', cek, nonce);
  const short = Buffer.concat([c.update(Buffer.from([7, 8, 9, 1])), c.final(), c.getAuthTag()]);
  const shortBody = ece.concat([ece.serializeHeader(ece.newHeader(RS, fixedSalt())), new Uint8Array(short)]);
  await rejectsWith(ece.decrypt(ikm, shortBody), 'truncated', 0);
});

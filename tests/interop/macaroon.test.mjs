// Interop: satload's V2 macaroons (through build/tests/interop/macaroon_tool) against the npm
// `macaroon` package, both directions: each verifies what the other minted, with the same
// bytes on the wire, and each refuses tampered copies and wrong keys.
// Run: SATLOAD_BUILD_DIR=<build dir> node --test tests/interop/macaroon.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import macaroon from 'macaroon';

const buildDir = process.env.SATLOAD_BUILD_DIR;
const tool = buildDir ? path.join(buildDir, 'tests', 'interop', 'macaroon_tool') : '';

const FILE_ID = 'q2xW4yQ9dH0bZk7Lm3Np8A';
const OTHER_FILE_ID = 'AAAAAAAAAAAAAAAAAAAAAA';
const NOW = 1_800_000_000;
const LOCATION = 'https://satload.test';

// A missing tool is a failure, never a skip: a skipped interop test proves nothing.
function runTool(args) {
  assert.ok(buildDir, 'SATLOAD_BUILD_DIR must name the build directory');
  assert.ok(existsSync(tool), `macaroon_tool not found at ${tool}`);
  const r = spawnSync(tool, args, { encoding: 'utf8' });
  assert.equal(r.error, undefined, String(r.error));
  return r;
}

// A fresh L402 setting: root key, preimage, and the identifier aperture's layout gives it.
function l402Setting() {
  const rootKey = randomBytes(32);
  const preimage = randomBytes(32);
  const paymentHash = createHash('sha256').update(preimage).digest();
  const tokenId = randomBytes(32);
  const identifier = Buffer.concat([Buffer.from([0, 0]), paymentHash, tokenId]);
  return { rootKey, preimage, paymentHash, tokenId, identifier };
}

// The caveat checker a JavaScript service would write for satload's grants: every caveat
// must be known and satisfied (returns an error string, as the npm package expects).
function grantChecker(fileId, now) {
  return (cond) => {
    const m = /^([a-z0-9_]+) = (\S+)$/.exec(cond);
    if (!m) return `malformed caveat ${cond}`;
    const [, key, value] = m;
    if (key === 'file_id') return value === fileId ? null : 'wrong file';
    if (key === 'payer') return /^[1-9][0-9]*$/.test(value) ? null : 'bad payer';
    if (key === 'expires') return Number(value) > now ? null : 'expired';
    return `unknown caveat ${key}`;
  };
}

function satloadMint(s, { payer = 42, expires = NOW + 3600, extra = [] } = {}) {
  const args = [
    'mint', '--root-key', s.rootKey.toString('hex'),
    '--payment-hash', s.paymentHash.toString('hex'), '--token-id', s.tokenId.toString('hex'),
    '--file-id', FILE_ID, '--payer', String(payer), '--expires', String(expires),
    '--location', LOCATION,
  ];
  for (const c of extra) args.push('--caveat', c);
  const r = runTool(args);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

function npmMint(s, caveats) {
  const m = macaroon.newMacaroon({
    identifier: s.identifier, location: LOCATION, rootKey: s.rootKey, version: 2,
  });
  for (const c of caveats) m.addFirstPartyCaveat(c);
  return m;
}

function grantCaveats({ fileId = FILE_ID, payer = 7, expires = NOW + 60 } = {}) {
  return [`file_id = ${fileId}`, `payer = ${payer}`, `expires = ${expires}`];
}

// macaroon 3.0.4's exportBinary never sets ByteBuffer._capacity, so every append doubles its
// buffer: a macaroon with a location and 3 caveats asks for 3.3 GB, with 4 it throws
// RangeError (go-macaroon/js-macaroon issue 41, fixed upstream after the last release). The
// export is run with the fix applied for its duration (a `_capacity` that is the buffer's
// real length); its output is unchanged, which the test below checks on a small macaroon.
function exportBinary(m) {
  Object.defineProperty(Object.prototype, '_capacity', {
    get() { return this._buf instanceof Uint8Array ? this._buf.length : undefined; },
    configurable: true,
  });
  try {
    return m.exportBinary();
  } finally {
    delete Object.prototype._capacity;
  }
}

const b64 = (bytes) => Buffer.from(bytes).toString('base64');

// Replaces the first occurrence of `from` in the macaroon's bytes by `to` (same length).
function tamperText(text64, from, to) {
  const bytes = Buffer.from(text64, 'base64');
  const at = bytes.indexOf(from);
  assert.ok(at > 0, `${from} not found`);
  Buffer.from(to).copy(bytes, at);
  return bytes.toString('base64');
}

function flipLastByte(text64) {
  const bytes = Buffer.from(text64, 'base64');
  bytes[bytes.length - 1] ^= 1;
  return bytes.toString('base64');
}

function satloadVerify(text64, rootKey, { fileId = FILE_ID, now = NOW } = {}) {
  return runTool(['verify', '--root-key', rootKey.toString('hex'), '--file-id', fileId,
    '--now', String(now), '--macaroon', text64]);
}

function assertRefused(r, error) {
  assert.equal(r.status, 1, `expected refusal ${error}, got status ${r.status}: ${r.stdout}`);
  assert.equal(r.stderr.trim(), error);
}

// (a) A satload macaroon imports into the npm package, verifies there with the root key and a
// caveat checker, has the L402 identifier and location, and re-exports to the same bytes
// (standard padded base64).
test('npm macaroon verifies what satload minted', () => {
  const s = l402Setting();
  const text = satloadMint(s);
  assert.match(text, /^[A-Za-z0-9+/]+=*$/);
  assert.equal(text.length % 4, 0);
  const m = macaroon.importMacaroon(text);
  assert.equal(m.location, LOCATION);
  assert.ok(Buffer.from(m.identifier).equals(s.identifier));
  assert.deepEqual(m.caveats.map((c) => Buffer.from(c.identifier).toString()),
    [`file_id = ${FILE_ID}`, 'payer = 42', `expires = ${NOW + 3600}`]);
  m.verify(s.rootKey, grantChecker(FILE_ID, NOW));
  assert.equal(b64(exportBinary(m)), text);
  // The checker really runs: the same macaroon fails for another file and after expiry.
  assert.throws(() => m.verify(s.rootKey, grantChecker(OTHER_FILE_ID, NOW)), /wrong file/);
  assert.throws(() => m.verify(s.rootKey, grantChecker(FILE_ID, NOW + 3600)), /expired/);
});

// (a) Tampered copies of a satload macaroon, and a wrong root key, fail in the npm package.
test('npm macaroon refuses tampered satload macaroons', () => {
  const s = l402Setting();
  const text = satloadMint(s);
  const check = grantChecker(FILE_ID, NOW);
  const verifyWith = (t, key = s.rootKey) => macaroon.importMacaroon(t).verify(key, check);
  verifyWith(text);
  const tampered = [
    tamperText(text, 'payer = 42', 'payer = 43'),
    tamperText(text, `expires = ${NOW + 3600}`, `expires = ${NOW + 9600}`),
    flipLastByte(text),
  ];
  // A changed identifier (a byte of the token id).
  const idBytes = Buffer.from(text, 'base64');
  idBytes[idBytes.indexOf(s.tokenId) + 5] ^= 0x40;
  tampered.push(idBytes.toString('base64'));
  for (const t of tampered) {
    assert.notEqual(t, text);
    assert.throws(() => verifyWith(t), /signature mismatch/);
  }
  const otherKey = Buffer.from(s.rootKey);
  otherKey[0] ^= 1;
  assert.throws(() => verifyWith(text, otherKey), /signature mismatch/);
  // An extra (validly signed) caveat the checker does not know is refused by the checker.
  const extra = satloadMint(s, { extra: ['bandwidth = 5'] });
  assert.throws(() => verifyWith(extra), /unknown caveat/);
});

// (b) A macaroon the npm package minted and exported as V2 binary verifies with satload, in
// standard padded and URL-safe unpadded base64, and satload re-encodes it to the same bytes.
test('satload verifies what npm macaroon minted', () => {
  const s = l402Setting();
  const m = npmMint(s, grantCaveats());
  const text = b64(exportBinary(m));
  for (const form of [text, macaroon.bytesToBase64(exportBinary(m))]) {
    const r = satloadVerify(form, s.rootKey);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(),
      `payer=7 expires=${NOW + 60} payment_hash=${s.paymentHash.toString('hex')}`);
  }
  const re = runTool(['reencode', '--macaroon', macaroon.bytesToBase64(exportBinary(m))]);
  assert.equal(re.status, 0, re.stderr);
  assert.equal(re.stdout.trim(), text);

  // The L402 Authorization header with the payment's preimage verifies too.
  const header = `L402 ${text}:${s.preimage.toString('hex')}`;
  const ok = runTool(['l402', '--root-key', s.rootKey.toString('hex'), '--file-id', FILE_ID,
    '--now', String(NOW), '--authorization', header]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, new RegExp(`payment_hash=${s.paymentHash.toString('hex')}`));
  const wrongPreimage = Buffer.from(s.preimage);
  wrongPreimage[31] ^= 1;
  assertRefused(runTool(['l402', '--root-key', s.rootKey.toString('hex'), '--file-id', FILE_ID,
    '--now', String(NOW), '--authorization', `L402 ${text}:${wrongPreimage.toString('hex')}`]),
  'preimage_mismatch');
});

// (b) satload refuses npm macaroons with a wrong key, tampering, the wrong file, expiry, an
// unknown caveat or a third-party caveat, each with its named error.
test('satload refuses tampered or unacceptable npm macaroons', () => {
  const s = l402Setting();
  const text = b64(exportBinary(npmMint(s, grantCaveats())));
  const otherKey = Buffer.from(s.rootKey);
  otherKey[31] ^= 1;
  assertRefused(satloadVerify(text, otherKey), 'signature_mismatch');
  assertRefused(satloadVerify(tamperText(text, 'payer = 7', 'payer = 8'), s.rootKey),
    'signature_mismatch');
  assertRefused(satloadVerify(flipLastByte(text), s.rootKey), 'signature_mismatch');
  assertRefused(satloadVerify(text, s.rootKey, { fileId: OTHER_FILE_ID }), 'wrong_file');
  assertRefused(satloadVerify(text, s.rootKey, { now: NOW + 60 }), 'expired');
  // Truncated: a valid base64 text of fewer bytes.
  const bytes = Buffer.from(text, 'base64');
  assertRefused(satloadVerify(bytes.subarray(0, bytes.length - 3).toString('base64'), s.rootKey),
    'truncated');

  const unknown = b64(exportBinary(npmMint(s, [...grantCaveats(), 'ip = 127.0.0.1'])));
  assertRefused(satloadVerify(unknown, s.rootKey), 'unknown_caveat');

  // A third-party caveat: satload decodes and re-encodes it byte for byte, never verifies it.
  const tp = npmMint(s, grantCaveats());
  tp.addThirdPartyCaveat(randomBytes(32), 'third-party-caveat-id', 'https://tp.example');
  const tpText = b64(exportBinary(tp));
  const re = runTool(['reencode', '--macaroon', tpText]);
  assert.equal(re.status, 0, re.stderr);
  assert.equal(re.stdout.trim(), tpText);
  assertRefused(satloadVerify(tpText, s.rootKey), 'third_party_caveat');
});

// The exportBinary workaround changes no byte: on a macaroon small enough for the package's
// own export (no location, one caveat), both give the same bytes, and satload agrees.
test('exportBinary workaround leaves the bytes unchanged', () => {
  const s = l402Setting();
  const m = macaroon.newMacaroon({ identifier: s.identifier, rootKey: s.rootKey, version: 2 });
  m.addFirstPartyCaveat(`file_id = ${FILE_ID}`);
  const plain = b64(m.exportBinary());
  assert.equal(b64(exportBinary(m)), plain);
  assert.equal(Object.prototype._capacity, undefined);
  const re = runTool(['reencode', '--macaroon', plain]);
  assert.equal(re.status, 0, re.stderr);
  assert.equal(re.stdout.trim(), plain);
});

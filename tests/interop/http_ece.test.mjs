// Interop: satload's RFC 8188 implementation (through build/tests/interop/ece_tool) against
// the npm http_ece package, both directions, across record boundaries, plus tampering.
// Run: SATLOAD_BUILD_DIR=<build dir> node --test tests/interop/http_ece.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import ece from 'http_ece';

const buildDir = process.env.SATLOAD_BUILD_DIR;
const tool = buildDir ? path.join(buildDir, 'tests', 'interop', 'ece_tool') : '';
const HEADER_BYTES = 21;

// A missing tool is a failure, never a skip: a skipped interop test proves nothing.
function requireTool() {
  assert.ok(buildDir, 'SATLOAD_BUILD_DIR must name the build directory');
  assert.ok(existsSync(tool), `ece_tool not found at ${tool}`);
}

function runTool(args, input) {
  requireTool();
  const r = spawnSync(tool, args, { input, maxBuffer: 256 << 20 });
  assert.equal(r.error, undefined, String(r.error));
  return r;
}

function satloadEncrypt(plain, ikm, rs, salt) {
  const args = ['encrypt', '--ikm', ikm.toString('hex'), '--rs', String(rs)];
  if (salt) args.push('--salt', salt.toString('hex'));
  const r = runTool(args, plain);
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout;
}

function satloadDecrypt(body, ikm) {
  return runTool(['decrypt', '--ikm', ikm.toString('hex')], body);
}

function pattern(size) {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 131 + (i >> 8) * 7) & 0xff;
  return b;
}

// Sizes around the record boundaries of record size rs; exact multiples are where the two
// encoders differ (see below).
function sizesFor(rs) {
  const per = rs - 17;
  return [0, 1, per - 1, per, per + 1, 2 * per, 3 * per + 5];
}

const RECORD_SIZES = [25, 4096, 65536];

// satload's output decrypts with http_ece, for every size and record size.
test('http_ece decrypts what ece_tool encrypted', () => {
  for (const rs of RECORD_SIZES) {
    for (const size of sizesFor(rs)) {
      const ikm = randomBytes(16);
      const plain = pattern(size);
      const body = satloadEncrypt(plain, ikm, rs);
      assert.equal(body.readUInt32BE(16), rs);
      const back = ece.decrypt(body, { version: 'aes128gcm', key: ikm });
      assert.ok(back.equals(plain), `rs ${rs} size ${size}`);
    }
  }
});

// http_ece's output decrypts with satload, for every size and record size, including its
// exact multiples, which end in a full record carrying the last delimiter.
test('ece_tool decrypts what http_ece encrypted', () => {
  for (const rs of RECORD_SIZES) {
    for (const size of sizesFor(rs)) {
      const ikm = randomBytes(16);
      const plain = pattern(size);
      const body = ece.encrypt(plain, { version: 'aes128gcm', key: ikm, rs });
      const r = satloadDecrypt(body, ikm);
      assert.equal(r.status, 0, `rs ${rs} size ${size}: ${r.stderr}`);
      assert.ok(r.stdout.equals(plain), `rs ${rs} size ${size}`);
    }
  }
});

// With the same salt, both encoders write identical bytes, except that on a non-empty exact
// multiple of (rs - 17) satload appends a 17-byte record holding only the last delimiter
// where http_ece marks its last full record as last. Both forms are valid RFC 8188.
test('same salt gives the same bytes, except the exact-multiple ending', () => {
  for (const rs of RECORD_SIZES) {
    const per = rs - 17;
    for (const size of sizesFor(rs)) {
      const ikm = randomBytes(16);
      const salt = randomBytes(16);
      const plain = pattern(size);
      const ours = satloadEncrypt(plain, ikm, rs, salt);
      const theirs = ece.encrypt(plain, { version: 'aes128gcm', key: ikm, rs, salt });
      const records = Math.floor(size / per) + 1;
      assert.equal(ours.length, HEADER_BYTES + size + 17 * records, `ours rs ${rs} size ${size}`);
      if (size === 0 || size % per !== 0) {
        assert.ok(ours.equals(theirs), `rs ${rs} size ${size}`);
      } else {
        assert.equal(theirs.length, HEADER_BYTES + (records - 1) * rs, `theirs rs ${rs} size ${size}`);
        // Every record before the last full one is identical.
        const common = HEADER_BYTES + (records - 2) * rs;
        assert.ok(ours.subarray(0, common).equals(theirs.subarray(0, common)));
      }
    }
  }
});

// A megabyte-sized body with 64 KiB records goes both ways.
test('large bodies with 64 KiB records', () => {
  const ikm = randomBytes(16);
  for (const size of [(1 << 20) + 3, 3 * 65519]) {
    const plain = randomBytes(size);
    const ours = satloadEncrypt(plain, ikm, 65536);
    assert.ok(ece.decrypt(ours, { version: 'aes128gcm', key: ikm }).equals(plain));
    const theirs = ece.encrypt(plain, { version: 'aes128gcm', key: ikm, rs: 65536 });
    const r = satloadDecrypt(theirs, ikm);
    assert.equal(r.status, 0, r.stderr.toString());
    assert.ok(r.stdout.equals(plain));
  }
});

// A flipped bit fails in both directions; satload reports one line naming the record.
test('a tampered body fails in both', () => {
  const ikm = randomBytes(16);
  const plain = pattern(10000);
  const rs = 4096;

  const ours = satloadEncrypt(plain, ikm, rs);
  const badOurs = Buffer.from(ours);
  badOurs[HEADER_BYTES + rs + 10] ^= 1;  // record 1
  assert.throws(() => ece.decrypt(badOurs, { version: 'aes128gcm', key: ikm }));

  const theirs = ece.encrypt(plain, { version: 'aes128gcm', key: ikm, rs });
  const badTheirs = Buffer.from(theirs);
  badTheirs[HEADER_BYTES + rs + 10] ^= 1;
  const r = satloadDecrypt(badTheirs, ikm);
  assert.equal(r.status, 1);
  const err = r.stderr.toString();
  assert.match(err, /record 1 failed authentication/);
  assert.equal(err.trim().split('\n').length, 1, err);

  // The wrong key fails too, at the first record.
  const wrong = satloadDecrypt(theirs, randomBytes(16));
  assert.equal(wrong.status, 1);
  assert.match(wrong.stderr.toString(), /record 0 failed authentication/);

  // A body cut at a record boundary is reported as truncated, not as success.
  const cut = satloadDecrypt(theirs.subarray(0, HEADER_BYTES + 2 * rs), ikm);
  assert.equal(cut.status, 1);
  assert.match(cut.stderr.toString(), /truncated/);
});

// Pins down the pages' small text helpers: safe download names (as the CLI reduces them),
// Content-Disposition, and amounts in sat.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filename, format } from './helpers.mjs';

test('download names are reduced like the CLI does', () => {
  assert.equal(filename.safeFileName('../../etc/passwd'), 'passwd');
  assert.equal(filename.safeFileName('C:\\Users\\x\\report.pdf'), 'report.pdf');
  assert.equal(filename.safeFileName('.hidden'), 'hidden');
  assert.equal(filename.safeFileName('-rf'), 'rf');
  assert.equal(filename.safeFileName('a\u0000b\u202Ec'), 'a_b_c');
  assert.equal(filename.safeFileName('...'), 'download');
  assert.equal(filename.safeFileName('name. '), 'name');
  const long = `${'ü'.repeat(150)}.tar.gz`;
  const cut = filename.safeFileName(long);
  assert.ok(new TextEncoder().encode(cut).length <= 200);
  assert.ok(cut.endsWith('.gz'));
});

test('Content-Disposition carries an ASCII fallback and the exact UTF-8 name', () => {
  assert.equal(
    filename.contentDisposition('naïve "x".txt'),
    `attachment; filename="na_ve _x_.txt"; filename*=UTF-8''na%C3%AFve%20%22x%22.txt`,
  );
});

test('msat amounts print as exact sat', () => {
  assert.equal(format.formatSat(1000), '1 sat');
  assert.equal(format.formatSat(1500), '1.5 sat');
  assert.equal(format.formatSat(1), '0.001 sat');
  assert.equal(format.formatSat(210000000), '210000 sat');
});

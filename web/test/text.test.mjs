// Pins down the pages' small text helpers: safe download names (as the CLI reduces them),
// Content-Disposition, amounts in sat, and the sentences for the API's refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filename, format, problem } from './helpers.mjs';

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

// Every way a link is refused reads differently (docs/HTTP.md: 404, the 410 slugs and
// reasons, 429, 5xx).
test('link refusals have their own sentences', () => {
  const say = (status, body) => problem.linkProblemMessage(problem.problemFromBody(status, body));
  const base = 'https://satload.dev/problems/';
  assert.match(say(404, { type: `${base}not-found` }), /no file at this link/);
  assert.match(say(410, { type: `${base}link-revoked` }), /revoked/);
  assert.match(say(410, { type: `${base}link-expired`, detail: 'the link expired on 2026-01-01' }), /has expired \(the link expired on 2026-01-01\)/);
  assert.match(say(410, { type: `${base}download-limit-reached`, detail: 'limit 3' }), /download limit \(limit 3\)/);
  assert.match(say(410, { type: `${base}gone`, reason: 'taken-down', category: 'copyright' }), /taken down after a report \(copyright\)/);
  assert.match(say(410, { type: `${base}gone`, reason: 'account-suspended' }), /account that shared it is suspended/);
  assert.match(say(410, { type: `${base}gone` }), /no longer works/);
  assert.match(say(429, {}), /too many requests/);
  assert.match(say(503, {}), /HTTP 503/);
  assert.match(problem.uploadProblemMessage(problem.problemFromBody(413, { detail: 'at most 65536 bytes' })), /too large for this server: at most 65536 bytes/);
});

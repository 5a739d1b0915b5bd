// `satload admin` against the real binary: the audit through the running server's admin API and
// offline; admin.json's mode and the API's refusal of a wrong token; tampering with one journal
// row and cutting off the newest ones are caught offline; a backup taken through the running
// server restores into a fresh data directory that serves, audits clean and still delivers a
// previously uploaded file byte for byte.
// The journal entries tampered with are the system accounts' creations that every `serve` makes
// (account creations are journal entries), so no transfer-seeding tool is needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { Server, runCli, tempDir, lastLine } from '../lib/server.mjs';

function sqlite(db, sql) {
  const r = spawnSync('sqlite3', [db, sql], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

function readAdmin(dataDir) {
  return JSON.parse(readFileSync(path.join(dataDir, 'admin.json'), 'utf8'));
}

// A fresh data directory audits clean through the API while the server runs, and offline
// after it stopped; admin.json exists only while the server runs.
test('audit passes on a fresh data dir, through the server and offline', async () => {
  const server = await new Server().start();
  try {
    const r = await runCli(['admin', 'audit', '--data', server.dataDir]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /^ok +journal_chain:/m);
    assert.match(r.stdout, /^ok +checkpoint:/m);
    assert.match(lastLine(r.stdout), /^audit passed \(through the server at http:\/\/127\.0\.0\.1:\d+\)/);
  } finally {
    await server.stop();
  }
  assert.equal(existsSync(path.join(server.dataDir, 'admin.json')), false, 'admin.json removed on clean stop');
  const r = await runCli(['admin', 'audit', '--data', server.dataDir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(lastLine(r.stdout), /^audit passed \(offline\)/);
});

// The token file is private to the server's user and the API answers 401, with one and the same
// body, to a missing and to a wrong token; the right token gets the audit.
test('admin.json is mode 0600 and a wrong token gets 401', async () => {
  const server = await new Server().start();
  try {
    const file = path.join(server.dataDir, 'admin.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const admin = readAdmin(server.dataDir);
    assert.equal(admin.url, server.url);
    assert.equal(Buffer.from(admin.token, 'base64url').length, 32);
    const url = `${admin.url}/api/v1/admin/audit`;
    const wrongToken = Buffer.from(admin.token, 'base64url');
    wrongToken[0] ^= 1;
    const none = await fetch(url);
    const wrong = await fetch(url, { headers: { Authorization: `Bearer ${wrongToken.toString('base64url')}` } });
    assert.equal(none.status, 401);
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('content-type'), 'application/problem+json');
    assert.equal(await none.text(), await wrong.text());
    const backup = await fetch(`${admin.url}/api/v1/admin/backup`, { method: 'POST', body: '{"dir":"/tmp/x"}' });
    assert.equal(backup.status, 401);
    const right = await fetch(url, { headers: { Authorization: `Bearer ${admin.token}` } });
    assert.equal(right.status, 200);
    const body = await right.json();
    assert.equal(body.passed, true);
    assert.ok(body.checks.length >= 5 && body.checks.every((c) => c.passed && c.name && c.detail));
  } finally {
    await server.stop();
  }
});

// Editing one journal row directly in the database makes the offline audit fail and name that
// entry as the first bad one.
test('a tampered journal row fails the audit, naming the entry', async () => {
  const server = await new Server().start();
  await server.stop();
  const db = path.join(server.dataDir, 'ledger.sqlite');
  const max = Number(sqlite(db, 'SELECT max(seq) FROM ledger_journal'));
  assert.ok(max >= 3, `journal has ${max} entries`);
  const seq = max - 1;
  sqlite(db, `UPDATE ledger_journal SET timestamp_ns = timestamp_ns + 1 WHERE seq = ${seq}`);
  const r = await runCli(['admin', 'audit', '--data', server.dataDir]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^FAIL +journal_chain:.*first bad entry is (\d+)/m);
  assert.equal(Number(r.stdout.match(/first bad entry is (\d+)/)[1]), seq);
  assert.match(lastLine(r.stdout), /^audit FAILED \(offline\): .*journal_chain/);
});

// Cutting off the newest journal entries leaves a journal behind its checkpoint: the audit
// fails on the checkpoint check, and the server refuses to start on it (one line, exit 1).
test('deleting the newest journal rows fails the audit against the checkpoint', async () => {
  const server = await new Server().start();
  await server.stop();
  const db = path.join(server.dataDir, 'ledger.sqlite');
  const max = Number(sqlite(db, 'SELECT max(seq) FROM ledger_journal'));
  sqlite(db, `DELETE FROM ledger_journal WHERE seq >= ${max - 1}`);
  const r = await runCli(['admin', 'audit', '--data', server.dataDir]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^FAIL +checkpoint:/m);
  assert.match(lastLine(r.stdout), /^audit FAILED \(offline\): .*checkpoint/);
  const again = new Server({ dataDir: server.dataDir });
  await assert.rejects(again.start(5000));
  const exit = await again.exited;
  assert.equal(exit.code, 1);
  const errors = again.log.trim().split('\n').filter((l) => l.startsWith('error:'));
  assert.equal(errors.length, 1, again.log);
  assert.match(errors[0], /ledger/);
});

// A backup through the running server, restored offline into a fresh directory, serves, audits
// clean and still delivers a file uploaded before the backup, byte-identical. Restore refuses a
// data directory with a running server and a non-empty one; backup refuses a non-empty target.
test('backup through the server, restore, serve: audit passes and the file downloads', async () => {
  const work = tempDir('satload-admin-');
  const home = tempDir('satload-home-');
  const env = { SATLOAD_HOME: home };
  const source = path.join(work, 'payload.bin');
  const payload = randomBytes(3 * 1024 * 1024 + 17);
  writeFileSync(source, payload);

  const server = await new Server().start();
  let link;
  const backupDir = path.join(work, 'backup');
  try {
    const put = await runCli(['put', source, '--server', server.url], { env });
    assert.equal(put.code, 0, put.stderr);
    link = lastLine(put.stdout);

    const b = await runCli(['admin', 'backup', backupDir, '--data', server.dataDir]);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(lastLine(b.stdout), backupDir);
    const manifest = JSON.parse(readFileSync(path.join(backupDir, 'manifest.json'), 'utf8'));
    assert.equal(manifest.format, 'satload-backup/1');
    assert.equal(manifest.blobs.count, 1);
    assert.equal(manifest.blobs.files.length, 1);
    for (const f of ['ledger.db', 'ledger.db.head', 'meta.sqlite', manifest.blobs.files[0].path]) {
      assert.ok(existsSync(path.join(backupDir, f)), f);
    }

    const again = await runCli(['admin', 'backup', backupDir, '--data', server.dataDir]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /409.*not an empty directory/);

    const busy = await runCli(['admin', 'restore', backupDir, '--data', server.dataDir]);
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, /a server is running/);
  } finally {
    await server.stop();
  }

  const notEmpty = path.join(work, 'not-empty');
  mkdirSync(notEmpty);
  writeFileSync(path.join(notEmpty, 'x'), 'x');
  const refused = await runCli(['admin', 'restore', backupDir, '--data', notEmpty]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /not empty/);

  const restored = path.join(work, 'restored');
  const r = await runCli(['admin', 'restore', backupDir, '--data', restored]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(lastLine(r.stdout), /^audit passed/);

  const second = await new Server({ dataDir: restored }).start();
  try {
    const audit = await runCli(['admin', 'audit', '--data', restored]);
    assert.equal(audit.code, 0, audit.stderr + audit.stdout);
    assert.match(lastLine(audit.stdout), /through the server/);
    const movedLink = link.replace(/^https?:\/\/[^/]+/, second.url);
    const out = path.join(work, 'downloaded.bin');
    const get = await runCli(['get', movedLink, '-o', out], { env });
    assert.equal(get.code, 0, get.stderr);
    assert.ok(readFileSync(out).equals(payload), 'downloaded bytes differ from the upload');
  } finally {
    await second.stop();
  }
});

// Every admin command explains itself.
// `admin migrate` on a stopped server's data directory: the stores are at this program's
// schema and the ledger audits clean (exit 0); while the server runs, SQLite's ledger is its.
test('admin migrate brings the stores to this schema and audits the ledger', async () => {
  const server = await new Server({ backends: false }).start();
  const busy = await runCli(['admin', 'migrate', '--data', server.dataDir]);
  assert.notEqual(busy.code, 0, 'the running server holds the SQLite ledger');
  assert.equal(busy.stderr.trim().split('\n').length, 1, busy.stderr);
  await server.stop();
  const r = await runCli(['admin', 'migrate', '--data', server.dataDir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /^SQLite stores in .* at this program's schema$/m);
  assert.match(lastLine(r.stdout), /^audit passed \(after migrating\)/);
  const none = await runCli(['admin', 'migrate', '--data', tempDir('satload-empty-')]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /not a satload data directory/);
});

// Bad --db and --blobs URLs and a damaged backends.json are one clear line and a non-zero
// exit, before anything is written; a data directory with a damaged record is left as it is.
test('bad backend URLs and a damaged backends.json are refused with one line', async () => {
  for (const args of [['--db', 'mysql://u@h/db'], ['--db', 'postgresql://h/db?schema=Bad-Name'],
    ['--blobs', 'ftp://bucket'], ['--blobs', 's3://b?region=x']]) {
    const dataDir = tempDir('satload-bad-');
    const r = spawnSync(process.env.SATLOAD_BIN, ['serve', '--listen', '127.0.0.1:0', '--data', dataDir, ...args],
      { encoding: 'utf8', timeout: 30_000 });
    assert.notEqual(r.status, 0, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^error: /);
    assert.equal(existsSync(path.join(dataDir, 'admin.json')), false);
  }
  const dataDir = tempDir('satload-bad-');
  writeFileSync(path.join(dataDir, 'backends.json'), '{"db": 5', { mode: 0o600 });
  for (const cmd of [['admin', 'audit'], ['admin', 'migrate']]) {
    const r = await runCli([...cmd, '--data', dataDir]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /is not a backends file/);
  }
  assert.equal(readFileSync(path.join(dataDir, 'backends.json'), 'utf8'), '{"db": 5');
});

test('admin commands have --help', async () => {
  const top = await runCli(['admin', '--help']);
  assert.equal(top.code, 0);
  for (const name of ['audit', 'backup', 'restore', 'migrate']) assert.match(top.stdout, new RegExp(`^ +${name} `, 'm'));
  for (const name of ['audit', 'backup', 'restore', 'migrate']) {
    const r = await runCli(['admin', name, '--help']);
    assert.equal(r.code, 0, name);
    assert.match(r.stdout, /--data/);
  }
});

// `admin quota USER SIZE|default` through the running server and offline: the account's quota
// changes at once (an upload past it is refused with 413 and nothing kept), and "default" gives
// the server's default back; an unknown user and a bad size are clear errors.
test('admin quota sets one account quota, online and offline', async () => {
  const { apiUser, ownedUpload } = await import('../lib/owned.mjs');
  const server = await new Server().start();
  try {
    const alice = await apiUser(server.url, 'alice');
    const set = await runCli(['admin', 'quota', 'alice', '1KiB', '--data', server.dataDir]);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /quota of alice: .*1024 bytes.*through the server/);
    const account = async () => (await (await fetch(`${server.url}/api/v1/account`, { headers: { Authorization: `Bearer ${alice.token}` } })).json());
    assert.equal((await account()).quota_bytes, 1024);
    const big = await ownedUpload(server.url, alice, 'big.bin', randomBytes(2000));
    assert.equal(big.res.status, 413, big.text);
    assert.equal((await account()).used_bytes, 0);
    const back = await runCli(['admin', 'quota', 'alice', 'default', '--data', server.dataDir]);
    assert.equal(back.code, 0, back.stderr);
    assert.equal((await account()).quota_bytes, 100 * 1024 ** 3);
    assert.equal((await ownedUpload(server.url, alice, 'big.bin', randomBytes(2000))).res.status, 201);
    const unknown = await runCli(['admin', 'quota', 'nobody', '1GiB', '--data', server.dataDir]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no such user/);
    const bad = await runCli(['admin', 'quota', 'alice', 'lots', '--data', server.dataDir]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
  } finally {
    await server.stop();
  }
  const offline = await runCli(['admin', 'quota', 'alice', '2MiB', '--data', server.dataDir]);
  assert.equal(offline.code, 0, offline.stderr);
  assert.match(offline.stdout, /offline/);
  assert.equal(sqlite(path.join(server.dataDir, 'meta.sqlite'), "SELECT quota_override_bytes FROM account_users WHERE username = 'alice'"),
    String(2 * 1024 * 1024));
});

// The CLI as a person meets it: progress (bytes, percentage, rate) on a terminal and none
// when stderr is a pipe; `get` killed with SIGKILL resumes without fetching again what it
// already had; errors are one line on stderr with a non-zero exit; --help everywhere.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, createHash } from 'node:crypto';
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { Server, BIN, runCli, spawnCli, tempDir, lastLine } from '../lib/server.mjs';

const server = await new Server().start();
after(() => server.stop());
const sha = (b) => createHash('sha256').update(b).digest('hex');

test('progress is drawn on a terminal and not into a pipe', async () => {
  const dir = tempDir('satload-tty-');
  const file = path.join(dir, 'tty.bin');
  writeFileSync(file, randomBytes(64 * 1024 * 1024));
  const home = tempDir('satload-home-');
  // `script` runs the command on a pseudo-terminal, as a person's shell would.
  const tty = spawnSync('script', ['-qec', `'${BIN}' put '${file}' --server ${server.url}`, '/dev/null'], {
    env: { ...process.env, SATLOAD_HOME: home }, encoding: 'utf8',
  });
  assert.equal(tty.status, 0, tty.stdout);
  assert.match(tty.stdout, /64\.0 MiB/, 'the total size is shown');
  assert.match(tty.stdout, /\d+%/, 'a percentage is shown');
  assert.match(tty.stdout, /[\d.]+ [KMG]?i?B\/s/, 'a rate is shown');
  assert.match(tty.stdout, /\/f\/[A-Za-z0-9_-]{22}#/, 'the link is printed');
  const piped = await runCli(['put', file, '--server', server.url], { env: { SATLOAD_HOME: tempDir('satload-home-') } });
  assert.equal(piped.code, 0, piped.stderr);
  assert.doesNotMatch(piped.stderr, /B\/s/);
  assert.equal(piped.stdout.trim().split('\n').length, 1, 'stdout carries only the link');
});

test('get killed with SIGKILL resumes and does not fetch again what it had', async () => {
  const dir = tempDir('satload-getresume-');
  const file = path.join(dir, 'large.bin');
  const size = 512 * 1024 * 1024;
  const data = randomBytes(size);
  writeFileSync(file, data);
  const env = { SATLOAD_HOME: tempDir('satload-home-') };
  const put = await runCli(['put', file, '--server', server.url], { env });
  assert.equal(put.code, 0, put.stderr);
  const link = lastLine(put.stdout);
  const out = path.join(dir, 'copy.bin');
  const before = await server.metric('satload_http_bytes_sent_total');

  const first = spawnCli(['get', link, '-o', out, '--parallel', '2'], { env });
  const started = Date.now();
  while (first.exitCode === null) {
    const sent = (await server.metric('satload_http_bytes_sent_total')) - before;
    if (sent >= size * 0.4 && Date.now() - started > 400) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(first.exitCode, null, 'get finished before it could be killed');
  first.kill('SIGKILL');
  await first.done;
  assert.equal(existsSync(out), false, 'no target file before verification');

  const second = await runCli(['get', link, '-o', out, '--parallel', '2'], { env });
  assert.equal(second.code, 0, second.stderr);
  assert.equal(sha(readFileSync(out)), sha(data));
  const sent = (await server.metric('satload_http_bytes_sent_total')) - before;
  // Everything once, plus at most the segments in flight at the kill and those completed
  // after the last state save (250 ms at under 2 GB/s), plus metadata requests.
  const slack = 2 * 8 * 1024 * 1024 + 512 * 1024 * 1024 * 0.9;
  assert.ok(sent < size + slack, `sent ${sent} for ${size}`);
  assert.ok(sent < 2 * size, 'the second run did not start from zero');
});

test('errors are one line on stderr with a non-zero exit, and stdout stays empty', async () => {
  const cases = [
    ['get', 'not a link'],
    ['get', `${server.url}/f/AAAAAAAAAAAAAAAAAAAAAA#AAAAAAAAAAAAAAAAAAAAAA`],
    ['put', '/nonexistent/file', '--server', server.url],
    ['put', '/etc/hostname', '--server', 'http://127.0.0.1:1'],
    ['frobnicate'],
  ];
  for (const args of cases) {
    const r = await runCli(args, { env: { SATLOAD_HOME: tempDir('satload-home-') } });
    assert.notEqual(r.code, 0, args.join(' '));
    assert.equal(r.stdout, '', args.join(' '));
    const lines = r.stderr.trim().split('\n').filter((l) => l.trim());
    assert.ok(lines.length >= 1 && lines.length <= 2, `${args.join(' ')}: ${r.stderr}`);
  }
});

test('--help works for every command', async () => {
  for (const args of [['--help'], ['put', '--help'], ['get', '--help'], ['serve', '--help']]) {
    const r = await runCli(args);
    assert.equal(r.code, 0, args.join(' '));
    assert.match(r.stdout + r.stderr, /Usage/);
  }
});

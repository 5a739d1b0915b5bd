// `satload put` killed with SIGKILL half way: the same command run again finds its partial
// upload, finishes, prints a link that downloads the exact file, and the server's byte counter
// shows it did not re-send what the server already had.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, createHash } from 'node:crypto';
import { writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Server, runCli, spawnCli, tempDir, lastLine } from '../lib/server.mjs';

const SMALL = process.env.SATLOAD_SMALL_TESTS === '1';
const SIZE = SMALL ? 48 * 1024 * 1024 : 256 * 1024 * 1024;
// What one interrupted run may have had in flight: a chunk per parallel part (8 MiB x 4).
const SLACK = 4 * 8 * 1024 * 1024;

const server = await new Server().start();
after(() => server.stop());

function ciphertextSize(n, rs = 65536) {
  const per = rs - 17;
  return 21 + n + 17 * (Math.floor(n / per) + 1);
}

test('put killed with SIGKILL resumes without re-sending what the server has', async () => {
  const dir = tempDir('satload-put-');
  const home = tempDir('satload-home-');
  const file = path.join(dir, 'movie.bin');
  const data = randomBytes(SIZE);
  writeFileSync(file, data);
  const before = await server.metric('satload_upload_bytes_received_total');

  const first = spawnCli(['put', file, '--server', server.url], { env: { SATLOAD_HOME: home } });
  // Wait until about 40% has arrived, then kill the client outright.
  const deadline = Date.now() + 120000;
  while (Date.now() < deadline) {
    const got = (await server.metric('satload_upload_bytes_received_total')) - before;
    if (got >= SIZE * 0.4) break;
    if (first.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(first.exitCode, null, `put finished before it could be killed: ${first.output.stderr}`);
  first.kill('SIGKILL');
  await first.done;
  const atKill = (await server.metric('satload_upload_bytes_received_total')) - before;
  assert.ok(atKill < SIZE, 'killed before everything was sent');

  const second = await runCli(['put', file, '--server', server.url], { env: { SATLOAD_HOME: home } });
  assert.equal(second.code, 0, second.stderr);
  const link = lastLine(second.stdout);
  const received = (await server.metric('satload_upload_bytes_received_total')) - before;
  const needed = ciphertextSize(SIZE);
  assert.ok(received >= needed, `received ${received} of ${needed}`);
  assert.ok(received <= needed + SLACK, `re-sent too much: received ${received} for ${needed}`);

  const out = path.join(dir, 'copy.bin');
  const get = await runCli(['get', link, '-o', out], { env: { SATLOAD_HOME: home } });
  assert.equal(get.code, 0, get.stderr);
  const sha = (b) => createHash('sha256').update(b).digest('hex');
  assert.equal(sha(readFileSync(out)), sha(data));
});

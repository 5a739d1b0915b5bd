// Trust and safety against the real binary: report → review queue → takedown (410 with a
// reason) → owner notice → counter-notice → restore (200), the admin log in order, no file key
// in the store, the blocklist refusing the same ciphertext, strikes suspending an account,
// frozen wallets refused payment, and the report rate limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Server } from '../lib/server.mjs';
import { apiUser, ownedUpload, adminApi } from '../lib/owned.mjs';
import { admin, post, status } from './safety_lib.mjs';

test('report, takedown, notice, counter-notice, restore; the log; no key stored; blocklist', async () => {
  const server = await new Server().start();
  try {
    const call = admin(server.dataDir);
    const alice = await apiUser(server.url, 'alice');
    const plaintext = randomBytes(5000);
    const up = await ownedUpload(server.url, alice, 'song.mp3', plaintext);
    assert.equal(up.res.status, 201, up.text);
    const secret = up.link.split('#')[1];
    assert.equal((await status(server.url, up.id)).status, 200);

    const r = await post(server.url, '/api/v1/reports', {
      link: up.link, category: 'copyright', reason: `my song, see ${up.link}`, contact: 'label@example.test',
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.match(r.body.reference, /^[A-Za-z0-9_-]{16}$/);
    assert.equal(r.body.file_id, up.id);

    const queue = await call('GET', 'reports');
    assert.equal(queue.status, 200);
    assert.equal(queue.body.reports.length, 1);
    const item = queue.body.reports[0];
    assert.equal(item.file_id, up.id);
    assert.equal(item.owner, 'alice');
    assert.equal(item.downloads, 1);
    assert.equal(item.earnings_msat, 0);
    assert.ok(!item.link.includes('#'));
    assert.ok(!item.reason.includes(secret));

    const down = await call('POST', `reports/${item.id}/takedown`, { reason: 'notice 2024-17' });
    assert.equal(down.status, 200, JSON.stringify(down.body));
    assert.equal(down.body.strikes, 1);
    const gone = await status(server.url, up.id);
    assert.equal(gone.status, 410);
    assert.equal(gone.body.reason, 'taken-down');
    assert.equal(gone.body.category, 'copyright');
    assert.equal((await fetch(`${server.url}/api/v1/files/${up.id}`)).status, 410);
    assert.equal((await call('GET', 'reports')).body.reports.length, 0);
    assert.equal((await call('POST', `reports/${item.id}/takedown`, { reason: 'x' })).status, 409);

    // The owner's notice and counter-notice; another account sees none and cannot answer.
    const notices = await fetch(`${server.url}/api/v1/account/notices`, { headers: { Authorization: `Bearer ${alice.token}` } });
    const list = (await notices.json()).notices;
    assert.equal(list.length, 1);
    assert.equal(list[0].file_id, up.id);
    assert.match(list[0].text, /notice 2024-17/);
    const mallory = await apiUser(server.url, 'mallory');
    assert.equal((await post(server.url, `/api/v1/account/notices/${list[0].id}/counter`, { text: 'x' }, mallory.token)).status, 404);
    assert.equal((await post(server.url, `/api/v1/account/notices/${list[0].id}/counter`, { text: 'x' })).status, 401);
    const counter = await post(server.url, `/api/v1/account/notices/${list[0].id}/counter`, { text: 'I wrote it' }, alice.token);
    assert.equal(counter.status, 200, JSON.stringify(counter.body));

    // The same ciphertext is refused while the takedown stands; nothing of it is kept.
    // The same plaintext under a new key is a new ciphertext: the blocklist cannot know it.
    const again = await ownedUpload(server.url, alice, 'copy.mp3', plaintext);
    assert.equal(again.res.status, 201, again.text);
    assert.ok(!again.ciphertext.equals(up.ciphertext));
    const refused = await fetch(`${server.url}/files`, {
      method: 'POST',
      headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': String(up.ciphertext.length), 'Content-Type': 'application/offset+octet-stream' },
      body: up.ciphertext,
    });
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /taken down/);
    const blobs = readdirSync(path.join(server.dataDir, 'blobs'), { recursive: true });
    assert.equal(blobs.filter((f) => String(f).includes(refused.headers.get('satload-file-id') ?? '-none-')).length, 0);

    const restored = await call('POST', `files/${up.id}/restore`, { reason: 'counter-notice accepted' });
    assert.equal(restored.status, 200, JSON.stringify(restored.body));
    assert.equal((await status(server.url, up.id)).status, 200);
    assert.equal((await call('POST', `files/${up.id}/restore`, {})).status, 404);

    // A dismissal, then the log with every action in order.
    const r2 = await post(server.url, '/api/v1/reports', { file_id: again.id, category: 'abuse', reason: 'spam' });
    assert.equal(r2.status, 201);
    const id2 = (await call('GET', 'reports')).body.reports[0].id;
    assert.equal((await call('POST', `reports/${id2}/dismiss`, { reason: 'not spam' })).status, 200);
    assert.equal((await status(server.url, again.id)).status, 200);
    const log = await call('GET', 'log');
    assert.deepEqual(log.body.entries.map((e) => e.action), ['takedown', 'restore', 'dismiss']);
    assert.deepEqual(log.body.entries.map((e) => e.why), ['notice 2024-17', 'counter-notice accepted', 'not spam']);
    assert.ok(log.body.entries.every((e) => e.who === 'operator' && e.at > 0));
    assert.ok(log.body.entries[0].seq < log.body.entries[1].seq);

    // Validation and limits.
    assert.equal((await post(server.url, '/api/v1/reports', { link: up.link, category: 'bad', reason: 'x' })).status, 400);
    assert.equal((await post(server.url, '/api/v1/reports', { link: up.link, category: 'abuse' })).status, 400);
    assert.equal((await post(server.url, '/api/v1/reports', { link: up.link, category: 'abuse', reason: 'x'.repeat(4001) })).status, 400);
    assert.equal((await post(server.url, '/api/v1/reports', { link: up.link, category: 'abuse', reason: 'x', extra: 1 })).status, 400);
    assert.equal((await post(server.url, '/api/v1/reports', { link: `${server.url}/f/AAAAAAAAAAAAAAAAAAAAAA`, category: 'abuse', reason: 'x' })).status, 404);

    await server.stop();
    // No file key anywhere in the data directory's databases.
    for (const f of readdirSync(server.dataDir)) {
      if (!f.includes('sqlite')) continue;
      assert.ok(!readFileSync(path.join(server.dataDir, f)).includes(Buffer.from(secret)), `${f} holds the key`);
    }
  } finally {
    await server.stop();
  }
});

test('the third upheld strike (the default) suspends an account: no uploads, every link 410', async () => {
  const server = await new Server().start();
  try {
    const call = admin(server.dataDir);
    const bob = await apiUser(server.url, 'bob');
    const files = [];
    for (let i = 0; i < 4; i++) files.push(await ownedUpload(server.url, bob, `f${i}`, randomBytes(100 + i)));
    for (const [i, f] of files.slice(0, 3).entries()) {
      assert.equal((await post(server.url, '/api/v1/reports', { file_id: f.id, category: 'malware', reason: `bad ${i}` })).status, 201);
      const id = (await call('GET', 'reports')).body.reports[0].id;
      const down = await call('POST', `reports/${id}/takedown`, { reason: `malware ${i}` });
      assert.equal(down.body.strikes, i + 1);
      assert.equal(down.body.suspended, i === 2);
      if (i < 2) assert.equal((await status(server.url, files[3].id)).status, 200);
    }
    const third = await status(server.url, files[3].id);
    assert.equal(third.status, 410);
    assert.equal(third.body.reason, 'account-suspended');
    const upload = await ownedUpload(server.url, bob, 'new', randomBytes(10));
    assert.equal(upload.res.status, 403, upload.text);
    assert.match(upload.text, /suspended/);
    const actions = (await call('GET', 'log')).body.entries.map((e) => e.action);
    assert.deepEqual(actions, ['takedown', 'takedown', 'takedown', 'suspend']);
  } finally {
    await server.stop();
  }
});

test('a frozen wallet cannot pay, keeps its balance, and unfreezes cleanly', async () => {
  const server = await new Server().start();
  try {
    const call = admin(server.dataDir);
    const seller = await apiUser(server.url, 'seller');
    const buyer = await apiUser(server.url, 'buyer');
    assert.equal((await adminApi(server.dataDir).credit('buyer', 50_000)).status, 200);
    const f = await ownedUpload(server.url, seller, 'paid', randomBytes(300), { meta: { price_msat: '1000' } });
    assert.equal(f.res.status, 201, f.text);
    const challenge = await (await fetch(`${server.url}/d/${f.id}`)).json();
    assert.equal((await call('POST', 'freeze', { user: 'buyer', reason: 'chargeback' })).status, 200);
    assert.equal((await call('POST', 'freeze', { user: 'buyer' })).status, 409);
    assert.equal((await call('POST', 'freeze', { user: 'nobody' })).status, 404);
    const refused = await post(server.url, '/api/v1/pay', { invoice: challenge.invoice, max_msat: 1000 }, buyer.token);
    assert.equal(refused.status, 403);
    assert.match(refused.body.type, /wallet-frozen/);
    const wallet = async () => (await (await fetch(`${server.url}/api/v1/wallet`, { headers: { Authorization: `Bearer ${buyer.token}` } })).json()).balance_msat;
    assert.equal(await wallet(), 50_000);
    assert.equal((await call('POST', 'unfreeze', { user: 'buyer', reason: 'resolved' })).status, 200);
    const paid = await post(server.url, '/api/v1/pay', { invoice: challenge.invoice, max_msat: 1000 }, buyer.token);
    assert.equal(paid.status, 200, JSON.stringify(paid.body));
    assert.equal(await wallet(), 49_000);
    assert.deepEqual((await call('GET', 'log')).body.entries.map((e) => e.action), ['freeze', 'unfreeze']);
    assert.equal((await adminApi(server.dataDir).audit()).body.passed, true);
  } finally {
    await server.stop();
  }
});

test('reports are rate-limited per address: 429 with Retry-After', async () => {
  const server = await new Server().start();
  try {
    const alice = await apiUser(server.url, 'alice');
    const up = await ownedUpload(server.url, alice, 'x', randomBytes(10));
    let last;
    for (let i = 0; i < 21; i++) {
      last = await post(server.url, '/api/v1/reports', { file_id: up.id, category: 'other', reason: `r${i}` });
      if (i < 20) assert.equal(last.status, 201, `report ${i}`);
    }
    assert.equal(last.status, 429);
    assert.ok(Number(last.headers.get('retry-after')) >= 1);
  } finally {
    await server.stop();
  }
});

test('the CLI: report, admin reports, takedown, reinstate, dismiss, freeze, log', async () => {
  const { runCli, lastLine } = await import('../lib/server.mjs');
  const server = await new Server().start();
  try {
    const data = ['--data', server.dataDir];
    const carol = await apiUser(server.url, 'carol');
    const up = await ownedUpload(server.url, carol, 'a', randomBytes(200));
    const secret = up.link.split('#')[1];
    const rep = (await runCli(['report', up.link, '--category', 'malware', '--reason', 'trojan', '--contact', 'x@example.test']));
    assert.equal(rep.code, 0, rep.stderr);
    assert.match(lastLine(rep.stdout), /^[A-Za-z0-9_-]{16}$/);
    assert.equal((await runCli(['report', up.link, '--category', 'bogus', '--reason', 'x'])).code, 2);
    const list = (await runCli(['admin', 'reports', '--json', ...data]));
    assert.equal(list.code, 0, list.stderr);
    const reports = JSON.parse(list.stdout);
    assert.equal(reports.length, 1);
    assert.equal(reports[0].owner, 'carol');
    assert.ok(!JSON.stringify(reports).includes(secret));
    const text = (await runCli(['admin', 'reports', ...data]));
    assert.match(text.stdout, new RegExp(`^${reports[0].id}  malware  file ${up.id}  owner carol`));
    assert.equal((await runCli(['admin', 'takedown', String(reports[0].id), ...data])).code, 2);  // --reason required
    const down = await runCli(['admin', 'takedown', String(reports[0].id), '--reason', 'confirmed', ...data]);
    assert.equal(down.code, 0, down.stderr);
    assert.equal((await status(server.url, up.id)).status, 410);
    assert.equal((await runCli(['admin', 'takedown', String(reports[0].id), '--reason', 'again', ...data])).code, 1);
    const back = (await runCli(['admin', 'reinstate', up.id, '--reason', 'false positive', ...data]));
    assert.equal(back.code, 0, back.stderr);
    assert.equal((await status(server.url, up.id)).status, 200);
    assert.equal((await runCli(['report', up.link, '--category', 'other', '--reason', 'meh'])).code, 0);
    const id2 = JSON.parse((await runCli(['admin', 'reports', '--json', ...data])).stdout)[0].id;
    assert.equal((await runCli(['admin', 'dismiss', String(id2), ...data])).code, 0);
    assert.equal((await runCli(['admin', 'freeze', 'carol', '--reason', 'fraud', ...data])).code, 0);
    assert.equal((await runCli(['admin', 'unfreeze', 'carol', ...data])).code, 0);
    const log = JSON.parse((await runCli(['admin', 'log', '--json', ...data])).stdout);
    assert.deepEqual(log.map((e) => e.action), ['takedown', 'restore', 'dismiss', 'freeze', 'unfreeze']);
    assert.equal(log[0].why, 'confirmed');
    await server.stop();
    const offline = (await runCli(['admin', 'reports', ...data]));
    assert.equal(offline.code, 1);
    assert.match(offline.stderr, /need the running server/);
  } finally {
    await server.stop();
  }
});

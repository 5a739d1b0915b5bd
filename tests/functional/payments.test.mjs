// Paid downloads over HTTP against the real binary: the 402 challenge, POST /api/v1/pay, the
// L402 credential, referral splits exact to the msat, grants that charge once until they
// expire, refused credentials, insufficient funds, and 200 parallel paid downloads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Server } from '../lib/server.mjs';
import { apiUser, ownedUpload, adminApi, apiGet } from '../lib/owned.mjs';

const small = !!process.env.SATLOAD_SMALL_TESTS;

async function challenge(url, id, { referral, headers = {} } = {}) {
  const res = await fetch(`${url}/d/${id}${referral ? `?r=${referral}` : ''}`, { headers });
  const body = await res.json();
  return { status: res.status, headers: res.headers, body };
}

async function pay(url, user, invoice, maxMsat) {
  const res = await fetch(`${url}/api/v1/pay`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${user.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ invoice, max_msat: maxMsat }),
  });
  return { status: res.status, body: await res.json() };
}

async function download(url, id, authorization) {
  const res = await fetch(`${url}/d/${id}`, { headers: authorization ? { Authorization: authorization } : {} });
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) };
}

async function balance(url, user) {
  const r = await apiGet(url, '/api/v1/wallet', user.token);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.balance_msat;
}

async function pricedFile(url, owner, priceMsat, size = 2000) {
  const u = await ownedUpload(url, owner, `priced-${priceMsat}.bin`, randomBytes(size), { meta: { price_msat: priceMsat } });
  assert.equal(u.res.status, 201, u.text);
  return u;
}

// Three accounts: a priced file, a referral link, a paid download. Every balance is exact to the
// msat, the file's bytes arrive, a second payment charges nothing, the payer's session alone
// then downloads, the owner downloads free, and the audit passes.
test('referral payment splits exactly, charges once, and unlocks the file', async () => {
  const server = await new Server().start();
  try {
    const admin = adminApi(server.dataDir);
    const [uploader, referrer, payer] = [await apiUser(server.url, 'uploader'), await apiUser(server.url, 'referrer'), await apiUser(server.url, 'payer')];
    assert.equal((await admin.credit('payer', 10_000_000, 'welcome')).status, 200);
    const file = await pricedFile(server.url, uploader, 1_000_000);
    const code = (await apiGet(server.url, '/api/v1/wallet/referral', referrer.token)).body.code;
    assert.match(code, /^[A-Za-z0-9_-]{12}$/);

    const c = await challenge(server.url, file.id, { referral: code });
    assert.equal(c.status, 402);
    assert.equal(c.headers.get('content-type'), 'application/problem+json');
    assert.equal(c.body.price_msat, 1_000_000);
    assert.equal(c.body.pay_url, `${server.url}/api/v1/pay`);
    const wwwAuth = c.headers.get('www-authenticate');
    assert.match(wwwAuth, /^L402 macaroon="[A-Za-z0-9+/=]+", invoice="[A-Za-z0-9_-]+"$/);
    assert.ok(wwwAuth.includes(`invoice="${c.body.invoice}"`));
    assert.match(c.headers.get('access-control-expose-headers'), /WWW-Authenticate/i);
    // Nothing free about it: HEAD and a range are behind the same wall.
    assert.equal((await fetch(`${server.url}/d/${file.id}`, { method: 'HEAD' })).status, 402);
    assert.equal((await fetch(`${server.url}/d/${file.id}`, { headers: { Range: 'bytes=0-9' } })).status, 402);

    const paid = await pay(server.url, payer, c.body.invoice, 1_000_000);
    assert.equal(paid.status, 200, JSON.stringify(paid.body));
    assert.match(paid.body.preimage, /^[0-9a-f]{64}$/);
    assert.deepEqual(
      [paid.body.receipt.uploader_msat, paid.body.receipt.referrer_msat, paid.body.receipt.platform_msat, paid.body.receipt.charged],
      [800_000, 100_000, 100_000, true]);
    const credential = `L402 ${paid.body.macaroon}:${paid.body.preimage}`;
    const got = await download(server.url, file.id, credential);
    assert.equal(got.status, 200);
    assert.ok(got.bytes.equals(file.ciphertext));
    const range = await fetch(`${server.url}/d/${file.id}`, { headers: { Authorization: credential, Range: 'bytes=10-19' } });
    assert.equal(range.status, 206);
    assert.ok(Buffer.from(await range.arrayBuffer()).equals(file.ciphertext.subarray(10, 20)));
    assert.equal((await download(server.url, file.id, `Bearer ${payer.token}`)).status, 200);
    assert.equal((await download(server.url, file.id, `Bearer ${uploader.token}`)).status, 200);
    assert.equal((await download(server.url, file.id, `Bearer ${referrer.token}`)).status, 402);

    const again = await pay(server.url, payer, c.body.invoice, 1_000_000);
    assert.equal(again.status, 200);
    assert.equal(again.body.receipt.charged, false);
    assert.equal(again.body.receipt.payment_id, paid.body.receipt.payment_id);

    assert.equal(await balance(server.url, payer), 9_000_000);
    assert.equal(await balance(server.url, uploader), 800_000);
    assert.equal(await balance(server.url, referrer), 100_000);
    const sys = (await admin.balances()).body;
    assert.equal(sys.platform_revenue_msat, 100_000);
    assert.equal(sys.operator_adjustments_msat, -10_000_000);
    const earnings = await apiGet(server.url, '/api/v1/earnings', uploader.token);
    assert.deepEqual(earnings.body.files, [{ id: file.id, downloads: 1, gross_msat: 1_000_000, net_msat: 800_000, held_msat: 0 }]);
    assert.deepEqual((await apiGet(server.url, '/api/v1/earnings', referrer.token)).body.referrals, { payments: 1, earned_msat: 100_000 });
    const history = (await apiGet(server.url, '/api/v1/wallet/history', payer.token)).body.entries;
    const legs = history.filter((e) => e.file_id === file.id);
    assert.deepEqual(legs.map((e) => e.amount_msat).sort((a, b) => a - b), [-800_000, -100_000, -100_000]);
    assert.equal(new Set(legs.map((e) => e.group)).size, 1);
    const audit = await admin.audit();
    assert.equal(audit.body.passed, true, JSON.stringify(audit.body));
  } finally {
    await server.stop();
  }
});

// Prices that do not divide evenly: the remainder goes to the uploader and the shares sum to
// the price; the operator's --split is honoured.
test('uneven prices split with the remainder to the uploader', async () => {
  const server = await new Server({ args: ['--split', '70/20/10'] }).start();
  try {
    const admin = adminApi(server.dataDir);
    const [uploader, referrer, payer] = [await apiUser(server.url, 'upl'), await apiUser(server.url, 'ref'), await apiUser(server.url, 'pay')];
    await admin.credit('pay', 5_000_000);
    const code = (await apiGet(server.url, '/api/v1/wallet/referral', referrer.token)).body.code;
    const expected = [];
    for (const price of [7, 1_000_001, 333]) {
      const f = await pricedFile(server.url, uploader, price);
      const c = await challenge(server.url, f.id, { referral: code });
      const p = await pay(server.url, payer, c.body.invoice, price);
      assert.equal(p.status, 200, JSON.stringify(p.body));
      const r = p.body.receipt;
      assert.equal(r.uploader_msat + r.referrer_msat + r.platform_msat, price);
      const referrerShare = Math.floor(price * 20 / 100);
      const platformShare = Math.floor(price * 10 / 100);
      assert.deepEqual([r.referrer_msat, r.platform_msat, r.uploader_msat], [referrerShare, platformShare, price - referrerShare - platformShare]);
      expected.push(r);
    }
    const sum = (k) => expected.reduce((a, r) => a + r[k], 0);
    assert.equal(await balance(server.url, uploader), sum('uploader_msat'));
    assert.equal(await balance(server.url, referrer), sum('referrer_msat'));
    assert.equal(await balance(server.url, payer), 5_000_000 - 7 - 1_000_001 - 333);
    assert.equal((await admin.balances()).body.platform_revenue_msat, sum('platform_msat'));
    assert.equal((await admin.audit()).body.passed, true);
  } finally {
    await server.stop();
  }
});

// A grant lasts --grant-lifetime: within it nothing more is charged; after it the credential
// gets a fresh 402 and paying again charges again.
test('an expired grant gets a fresh 402 and pays again', async () => {
  const server = await new Server({ args: ['--grant-lifetime', '2s'] }).start();
  try {
    const admin = adminApi(server.dataDir);
    const [uploader, payer] = [await apiUser(server.url, 'upl'), await apiUser(server.url, 'pay')];
    await admin.credit('pay', 10_000);
    const f = await pricedFile(server.url, uploader, 1_000);
    const c = await challenge(server.url, f.id);
    const first = await pay(server.url, payer, c.body.invoice, 1_000);
    const credential = `L402 ${first.body.macaroon}:${first.body.preimage}`;
    assert.equal((await download(server.url, f.id, credential)).status, 200);
    assert.equal((await pay(server.url, payer, c.body.invoice, 1_000)).body.receipt.charged, false);
    assert.equal(await balance(server.url, payer), 9_000);
    await new Promise((r) => setTimeout(r, 3_100));
    const stale = await challenge(server.url, f.id, { headers: { Authorization: credential } });
    assert.equal(stale.status, 402);
    assert.equal((await download(server.url, f.id, `Bearer ${payer.token}`)).status, 402);
    const second = await pay(server.url, payer, stale.body.invoice, 1_000);
    assert.equal(second.status, 200);
    assert.equal(second.body.receipt.charged, true);
    assert.notEqual(second.body.receipt.payment_id, first.body.receipt.payment_id);
    assert.equal(await balance(server.url, payer), 8_000);
  } finally {
    await server.stop();
  }
});

// Refusals: tampered, truncated, foreign and malformed credentials get 401; a wallet that
// cannot cover the price gets a clear 402 and nothing moves; a price above max_msat, a payer
// without a session, and a forged invoice are refused before any money moves.
test('bad credentials, short funds and bad payment requests move nothing', async () => {
  const server = await new Server().start();
  try {
    const admin = adminApi(server.dataDir);
    const [uploader, payer, poor] = [await apiUser(server.url, 'upl'), await apiUser(server.url, 'pay'), await apiUser(server.url, 'poor')];
    await admin.credit('pay', 10_000);
    await admin.credit('poor', 999);
    const a = await pricedFile(server.url, uploader, 1_000);
    const b = await pricedFile(server.url, uploader, 1_000);
    const ca = await challenge(server.url, a.id);
    const paid = await pay(server.url, payer, ca.body.invoice, 1_000);
    const { macaroon, preimage } = paid.body;
    const mac = Buffer.from(macaroon, 'base64');
    const flipped = Buffer.from(mac);
    flipped[Math.floor(mac.length / 2)] ^= 0x01;
    // A changed caveat: the expiry pushed into the future, signature unchanged.
    const text = mac.toString('latin1');
    const m = text.match(/expires = (\d+)/);
    assert.ok(m, 'the grant carries an expires caveat');
    const extended = Buffer.from(text.replace(m[0], `expires = ${String(Number(m[1]) + 9).padStart(m[1].length, '0')}`), 'latin1');
    const wrongPreimage = (preimage[0] === '0' ? '1' : '0') + preimage.slice(1);
    const bad = {
      tampered: `L402 ${flipped.toString('base64')}:${preimage}`,
      changed_caveat: `L402 ${extended.toString('base64')}:${preimage}`,
      truncated: `L402 ${macaroon.slice(0, macaroon.length - 12)}:${preimage}`,
      truncated_preimage: `L402 ${macaroon}:${preimage.slice(0, 60)}`,
      wrong_preimage: `L402 ${macaroon}:${wrongPreimage}`,
      garbage: 'L402 !!!:zz',
      challenge_macaroon: `L402 ${ca.headers.get('www-authenticate').match(/macaroon="([^"]+)"/)[1]}:${preimage}`,
    };
    for (const [name, header] of Object.entries(bad)) {
      const r = await download(server.url, a.id, header);
      assert.equal(r.status, 401, name);
    }
    // Replayed for another file.
    assert.equal((await download(server.url, b.id, `L402 ${macaroon}:${preimage}`)).status, 401);
    assert.equal((await download(server.url, a.id, `L402 ${macaroon}:${preimage}`)).status, 200);

    const cb = await challenge(server.url, b.id);
    const short = await pay(server.url, poor, cb.body.invoice, 5_000);
    assert.equal(short.status, 402);
    assert.match(short.body.type, /insufficient-funds$/);
    assert.match(short.body.detail, /999/);
    const over = await pay(server.url, payer, cb.body.invoice, 999);
    assert.equal(over.status, 409);
    assert.match(over.body.type, /price-above-maximum$/);
    const forged = cb.body.invoice.slice(0, -3) + (cb.body.invoice.endsWith('AAA') ? 'BBB' : 'AAA');
    assert.equal((await pay(server.url, payer, forged, 5_000)).status, 400);
    const anon = await fetch(`${server.url}/api/v1/pay`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ invoice: cb.body.invoice, max_msat: 5000 }) });
    assert.equal(anon.status, 401);
    const malformed = await fetch(`${server.url}/api/v1/pay`, { method: 'POST', headers: { Authorization: `Bearer ${payer.token}`, 'Content-Type': 'application/json' }, body: '{"invoice": ' });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.headers.get('content-type'), 'application/problem+json');
    const huge = await fetch(`${server.url}/api/v1/pay`, { method: 'POST', headers: { Authorization: `Bearer ${payer.token}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ invoice: 'x'.repeat(4096), max_msat: 1 }) });
    assert.equal(huge.status, 413);
    const notNumber = await fetch(`${server.url}/api/v1/pay`, { method: 'POST', headers: { Authorization: `Bearer ${payer.token}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ invoice: cb.body.invoice, max_msat: '5000' }) });
    assert.equal(notNumber.status, 400);
    for (const q of ['limit=abc', 'before=-1', 'limit=1e3', 'before']) {
      const h = await fetch(`${server.url}/api/v1/wallet/history?${q}`, { headers: { Authorization: `Bearer ${payer.token}` } });
      assert.equal(h.status, 400, q);
      assert.equal(h.headers.get('content-type'), 'application/problem+json');
    }
    const own = await pay(server.url, uploader, cb.body.invoice, 5_000);
    assert.equal(own.status, 409);

    assert.equal(await balance(server.url, poor), 999);
    assert.equal(await balance(server.url, payer), 9_000);
    assert.equal(await balance(server.url, uploader), 900);
    assert.equal((await admin.audit()).body.passed, true);
  } finally {
    await server.stop();
  }
});

// 200 parallel paid downloads by 50 payers of 20 files, each (payer, file) pair requested
// twice at once: every payer is charged exactly once per file, the uploaders get exactly their
// share, total credits equal total debits, and the audit passes.
test('200 parallel paid downloads charge each payer once per file', async () => {
  const server = await new Server().start();
  try {
    const admin = adminApi(server.dataDir);
    const payers = small ? 10 : 50;
    const filesN = small ? 5 : 20;
    const price = 1_234;
    const uploaders = [await apiUser(server.url, 'up-a'), await apiUser(server.url, 'up-b')];
    const users = [];
    for (let i = 0; i < payers; i++) users.push(await apiUser(server.url, `payer-${i}`));
    for (const u of users) assert.equal((await admin.credit(u.username, 1_000_000)).status, 200);
    const files = [];
    for (let i = 0; i < filesN; i++) files.push(await pricedFile(server.url, uploaders[i % 2], price, 1000));
    // 100 distinct pairs (each payer, two files), every pair twice: 200 downloads.
    const pairs = [];
    for (let i = 0; i < payers; i++) for (const k of [0, 1]) pairs.push([i, (i * 3 + k * 7) % filesN]);
    const tasks = [...pairs, ...pairs].sort(() => Math.random() - 0.5);
    const results = await Promise.all(tasks.map(async ([p, f]) => {
      const c = await challenge(server.url, files[f].id);
      if (c.status === 200) return 'free?';
      const paid = await pay(server.url, users[p], c.body.invoice, price);
      if (paid.status !== 200) return `pay ${paid.status} ${JSON.stringify(paid.body)}`;
      const d = await download(server.url, files[f].id, `L402 ${paid.body.macaroon}:${paid.body.preimage}`);
      return d.status === 200 && d.bytes.equals(files[f].ciphertext) ? 'ok' : `download ${d.status}`;
    }));
    assert.deepEqual(results.filter((r) => r !== 'ok'), []);
    let debits = 0;
    for (let i = 0; i < payers; i++) {
      const distinct = new Set(pairs.filter(([p]) => p === i).map(([, f]) => f)).size;
      assert.equal(await balance(server.url, users[i]), 1_000_000 - distinct * price, `payer ${i}`);
      debits += distinct * price;
    }
    const distinctPairs = new Set(pairs.map(([p, f]) => `${p}/${f}`));
    const upShare = price - Math.floor(price * 10 / 100);  // no referrer: its share goes to the uploader
    let expectUp = [0, 0];
    for (const key of distinctPairs) expectUp[Number(key.split('/')[1]) % 2] += upShare;
    assert.equal(await balance(server.url, uploaders[0]), expectUp[0]);
    assert.equal(await balance(server.url, uploaders[1]), expectUp[1]);
    const sys = (await admin.balances()).body;
    assert.equal(expectUp[0] + expectUp[1] + sys.platform_revenue_msat, debits);
    assert.equal((await admin.audit()).body.passed, true);
  } finally {
    await server.stop();
  }
});

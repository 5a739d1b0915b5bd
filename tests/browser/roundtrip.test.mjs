// The web app end to end in headless Chromium against the real server: files encrypted and
// uploaded in the page download byte for byte with `satload get`; files put with the CLI
// download byte for byte in the page (through the service worker's stream, and through the
// Blob fallback); an upload pauses and resumes where it stopped. Every request the browser
// sends goes through a recording proxy: none leaves the server's origin, none carries the
// link's fragment or any key, no Referer is sent, and the server's log and data never hold a
// key either.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { lastLine, parseLink, runCli, tempDir } from '../lib/server.mjs';
import { deriveKeys, forms, recordKeys, scanForNeedles } from '../lib/secrets.mjs';
import { launchBrowser, newContext, recordingProxy, screenshot, sha256, startServer } from './lib.mjs';

const PPR = 65536 - 17; // plaintext bytes per 64 KiB record
const small = Boolean(process.env.SATLOAD_SMALL_TESTS);

let server;
let proxy;
let browser;
const dir = tempDir('satload-browser-');
const links = []; // every link this file handles, for the leak checks
const allRequests = []; // as Playwright saw them, from every context
const allProblems = [];

before(async () => {
  server = await startServer();
  proxy = await recordingProxy(server.url);
  browser = await launchBrowser(proxy);
});

after(async () => {
  await browser?.close();
  await proxy?.close();
  await server?.stop();
});

async function context(options) {
  const c = await newContext(browser, options);
  allRequests.push(c.requests);
  allProblems.push(c.problems);
  return c;
}

function writeRandom(name, size) {
  const file = path.join(dir, name);
  writeFileSync(file, randomBytes(size));
  return file;
}

async function cliGet(link, out) {
  const r = await runCli(['get', link, '-o', out]);
  assert.equal(r.code, 0, r.stderr);
  return readFileSync(out);
}

async function cliPut(file) {
  const r = await runCli(['put', file, '--server', server.url]);
  assert.equal(r.code, 0, r.stderr);
  const link = lastLine(r.stdout);
  links.push(link);
  return link;
}

// Several files picked at once, each encrypted in the page with its own key: a few MiB over
// several records, an exact multiple of a record (which ends with a delimiter-only record),
// and an empty file. Each link opens with the CLI, byte for byte.
test('files uploaded in the page download with satload get, byte for byte', async () => {
  const files = [
    writeRandom('several records.bin', 3 * 1024 * 1024 + 12345),
    writeRandom('exact-multiple.bin', 2 * PPR),
    writeRandom('empty.txt', 0),
  ];
  const { context: ctx } = await context();
  const page = await ctx.newPage();
  await page.goto(`${server.url}/`);
  await page.setInputFiles('#file-input', files);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=link]').length === 3, null, { timeout: 60000 });
  await screenshot(page, 'upload-done');
  const shown = await page.$$eval('.upload', (items) =>
    items.map((li) => ({ name: li.querySelector('.upload-name').textContent, link: li.querySelector('[data-testid=link]').value })),
  );
  assert.equal(shown.length, 3);
  for (const [i, file] of files.entries()) {
    const { name, link } = shown[i];
    assert.ok(name.startsWith(path.basename(file)), name);
    const { id, secret } = parseLink(link);
    assert.equal(new URL(link).origin, server.url);
    assert.match(secret, /^[A-Za-z0-9_-]{22}$/);
    links.push(link);
    const out = path.join(dir, `cli-${i}`);
    assert.equal(sha256(await cliGet(link, out)), sha256(readFileSync(file)), `${file} (${id})`);
  }
  // The CLI names the download after the decrypted metadata the page wrote.
  const home = tempDir('satload-get-');
  const r = await runCli(['get', shown[0].link], { cwd: home });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(lastLine(r.stdout), 'several records.bin');
  await ctx.close();
});

// Downloads a link in the page and returns the saved bytes, the page's final status, and
// whether the ciphertext came through the service worker.
async function pageDownload(link, { serviceWorkers = 'allow', shot } = {}) {
  const { context: ctx, requests } = await context({ serviceWorkers });
  const page = await ctx.newPage();
  await page.goto(link);
  await page.waitForSelector('#download:enabled', { timeout: 20000 });
  if (shot) await screenshot(page, `${shot}-ready`);
  const name = await page.textContent('#file-name');
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 60000 }), page.click('#download')]);
  const saved = path.join(dir, `page-${randomBytes(4).toString('hex')}`);
  await download.saveAs(saved);
  assert.equal(await download.failure(), null);
  await page.waitForFunction(() => document.querySelector('#status').textContent.startsWith('Saved'), null, { timeout: 60000 });
  if (shot) await screenshot(page, `${shot}-saved`);
  const { id } = parseLink(link);
  const ciphertext = requests.filter((r) => new URL(r.url).pathname === `/d/${id}`);
  assert.equal(ciphertext.length, 1, JSON.stringify(ciphertext));
  await ctx.close();
  return { bytes: readFileSync(saved), name, suggested: download.suggestedFilename(), viaWorker: ciphertext[0].fromWorker };
}

// The service worker path: the ciphertext is fetched and decrypted by the worker and streamed
// to the download manager under the file's decrypted name.
test('a file put with the CLI downloads in the page, byte for byte (service worker stream)', async () => {
  const file = writeRandom('from cli ü.bin', small ? 700 * 1024 + 3 : 5 * 1024 * 1024 + 777);
  const link = await cliPut(file);
  const got = await pageDownload(link, { shot: 'link' });
  assert.equal(got.viaWorker, true, 'the download went through the service worker');
  assert.equal(got.name, 'from cli ü.bin');
  assert.equal(got.suggested, 'from cli ü.bin');
  assert.equal(sha256(got.bytes), sha256(readFileSync(file)));
});

// Without a service worker (blocked here), the page decrypts into Blob parts and saves that.
test('the Blob fallback downloads byte for byte when service workers are unavailable', async () => {
  const file = writeRandom('fallback.bin', 2 * 1024 * 1024 + 5);
  const link = await cliPut(file);
  const got = await pageDownload(link, { serviceWorkers: 'block' });
  assert.equal(got.viaWorker, false);
  assert.equal(got.suggested, 'fallback.bin');
  assert.equal(sha256(got.bytes), sha256(readFileSync(file)));
});

// A throttled upload paused half way stops sending, resumes from the server's offset (not
// from zero: the bytes the server received add up to about one copy of the file), and the
// result opens with the CLI.
test('an upload pauses and resumes where it stopped', async () => {
  const size = 6 * 1024 * 1024;
  const file = writeRandom('paused.bin', size);
  const cipherSize = 21 + size + 17 * (Math.floor(size / PPR) + 1);
  const { context: ctx } = await context();
  const page = await ctx.newPage();
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: 2 * 1024 * 1024,
  });
  await page.goto(`${server.url}/`);
  const before = await server.metric('satload_upload_bytes_received_total');
  await page.setInputFiles('#file-input', file);
  await page.waitForFunction(() => {
    const bar = document.querySelector('.upload progress');
    return bar && bar.value > 0.15;
  }, null, { timeout: 30000 });
  await page.click('.upload-controls button');
  await page.waitForFunction(() => document.querySelector('.upload-status').textContent.startsWith('Paused'));
  assert.equal(await page.textContent('.upload-controls button'), 'Resume');
  await screenshot(page, 'upload-paused');
  const pausedAt = await page.$eval('.upload progress', (b) => b.value);
  await new Promise((r) => setTimeout(r, 500)); // bytes already in flight land
  const received = await server.metric('satload_upload_bytes_received_total');
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(await server.metric('satload_upload_bytes_received_total'), received, 'nothing is sent while paused');
  assert.equal(await page.$eval('.upload progress', (b) => b.value), pausedAt);
  assert.ok(received - before < cipherSize, 'paused before the end');

  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await page.click('.upload-controls button');
  const link = await (await page.waitForSelector('[data-testid=link]', { timeout: 60000 })).inputValue();
  links.push(link);
  const total = (await server.metric('satload_upload_bytes_received_total')) - before;
  assert.ok(total >= cipherSize && total < cipherSize + 1024 * 1024, `received ${total} bytes for a ${cipherSize}-byte body`);
  assert.equal(sha256(await cliGet(link, path.join(dir, 'paused-out'))), sha256(readFileSync(file)));
  await ctx.close();
});

// Everything the browser sent in the tests above, as the proxy received it and as Playwright
// reported it: only the server's origin, never a fragment, never a key in any form, never a
// Referer; no Content-Security-Policy violation and no page error. The server's log and data
// directory hold no key either.
test('no request leaves the origin, and no key reaches the server', () => {
  assert.ok(links.length >= 6, `links handled: ${links.length}`);
  const origin = new URL(server.url);
  assert.ok(proxy.seen.length > 20, `the proxy saw ${proxy.seen.length} requests`);
  const needles = [];
  for (const link of links) {
    const { secret } = parseLink(link);
    const keys = deriveKeys(secret);
    needles.push({ name: `secret text of ${link}`, bytes: Buffer.from(secret) });
    for (const [what, bytes] of [['secret', keys.secret], ['content IKM', keys.content], ['metadata IKM', keys.metadata]]) {
      for (const [i, form] of forms(bytes).entries()) needles.push({ name: `${what} form ${i} of ${link}`, bytes: form });
    }
  }
  let foreign = 0;
  for (const r of proxy.seen) {
    const where = `${r.method} ${r.url}`;
    const host = r.method === 'CONNECT' ? r.url.replace(/:\d+$/, '') : new URL(r.url).hostname;
    const text = Buffer.concat([Buffer.from(r.url), Buffer.from(JSON.stringify(r.headers)), ...r.body]);
    for (const n of needles) assert.equal(text.indexOf(n.bytes), -1, `${n.name} in ${where}`);
    if (r.method !== 'CONNECT' && new URL(r.url).host === origin.host) {
      assert.ok(!r.url.includes('#'), `a fragment was sent: ${where}`);
      assert.equal(r.headers.referer, undefined, `a Referer was sent: ${where} (${r.headers.referer})`);
      continue;
    }
    // Debian's Chromium calls Google services by itself (its launcher sets API keys and
    // enables remote extension updates), with or without a page, and the flags cannot stop
    // it. Those are the only other hosts allowed here; no page made them (Playwright's record
    // below holds every request of the pages and their worker), and none carried a key (above).
    assert.match(host, /(^|\.)(google\.com|googleapis\.com|gstatic\.com)$/, `a request to another host: ${where}`);
    foreign++;
  }
  if (foreign) console.log(`# the browser itself made ${foreign} request(s) to Google services (not from the pages)`);
  for (const list of allRequests) {
    for (const r of list) {
      const u = new URL(r.url);
      assert.ok(u.origin === origin.origin || (u.protocol === 'blob:' && r.url.startsWith(`blob:${origin.origin}/`)), `page request outside the origin: ${r.url}`);
      assert.equal(u.hash, '', `page request with a fragment: ${r.url}`);
    }
  }
  assert.deepEqual(allProblems.flat(), []);
  const log = Buffer.from(server.log);
  for (const n of needles) assert.equal(log.indexOf(n.bytes), -1, `${n.name} in the server log`);
  assert.deepEqual(scanForNeedles(server.storedPaths(), needles), []);
});

// The proxy does see a request to another host when one is made (so the check above can
// fail): a page navigated elsewhere is recorded and refused.
test('control: the recording proxy sees requests to other hosts', async () => {
  const { context: ctx } = await newContext(browser);
  const page = await ctx.newPage();
  const seenBefore = proxy.seen.length;
  await page.goto('http://satload-elsewhere.test/probe').catch(() => {});
  assert.ok(proxy.seen.slice(seenBefore).some((r) => r.url === 'http://satload-elsewhere.test/probe'));
  await ctx.close();
});

// Keep the ciphertext-key helpers honest: the blob the page uploaded is an RFC 8188 body under
// the content IKM the fragment implies (checked with node's own crypto on its first record).
test('the stored blob is the RFC 8188 body the link implies', async () => {
  const link = links[0];
  const { id, secret } = parseLink(link);
  const res = await fetch(`${server.url}/d/${id}`, { headers: { Range: 'bytes=0-65556' } });
  const head = Buffer.from(await res.arrayBuffer());
  assert.equal(head.readUInt32BE(16), 65536);
  const { cek, nonce } = recordKeys(deriveKeys(secret).content, head.subarray(0, 21));
  const { createDecipheriv } = await import('node:crypto');
  const d = createDecipheriv('aes-128-gcm', cek, nonce);
  const record = head.subarray(21, 21 + 65536);
  d.setAuthTag(record.subarray(record.length - 16));
  const plain = Buffer.concat([d.update(record.subarray(0, record.length - 16)), d.final()]);
  assert.equal(plain[plain.length - 1], 1, 'a full first record ends with delimiter 1');
  assert.equal(plain.length, PPR + 1);
});

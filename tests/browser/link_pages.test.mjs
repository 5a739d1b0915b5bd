// What the link page says for every way a link can fail (no file, revoked, expired, used up,
// priced, wrong or missing key, used up between opening the page and pressing Download), and
// that both pages work by keyboard, are labelled for screen readers and fit a phone screen.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { lastLine, parseLink, runCli, tempDir } from '../lib/server.mjs';
import { launchBrowser, newContext, screenshot, sha256, startServer } from './lib.mjs';

let server;
let browser;
const dir = tempDir('satload-links-');
const home = tempDir('satload-home-');
const env = { SATLOAD_HOME: home, SATLOAD_PASSWORD: 'correct horse battery staple' };
const problems = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  const r = await runCli(['account', 'register', 'webtester', '--server', server.url], { env });
  assert.equal(r.code, 0, r.stderr);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

let n = 0;
async function put(args = [], size = 5000) {
  const file = path.join(dir, `file-${n++}.bin`);
  writeFileSync(file, randomBytes(size));
  const r = await runCli(['put', file, '--server', server.url, ...args], { env });
  assert.equal(r.code, 0, r.stderr);
  return { link: lastLine(r.stdout), file };
}

async function open(link, options = {}) {
  const c = await newContext(browser, options);
  problems.push(c.problems);
  const page = await c.context.newPage();
  await page.goto(link);
  return page;
}

// Waits for the page to settle (an error, or the file's details) and returns what it says.
async function outcome(page) {
  await page.waitForFunction(() => !document.querySelector('#error').hidden || !document.querySelector('#file').hidden, null, {
    timeout: 20000,
  });
  return {
    error: (await page.isHidden('#error')) ? null : await page.textContent('#error'),
    price: (await page.isHidden('#price')) ? null : await page.textContent('#price'),
    canDownload: await page.isEnabled('#download'),
  };
}

test('a link to no file says so', async () => {
  const page = await open(`${server.url}/f/${'A'.repeat(22)}#${randomBytes(16).toString('base64url')}`);
  const o = await outcome(page);
  assert.match(o.error, /no file at this link/);
  await screenshot(page, 'link-not-found');
  await page.context().close();
});

test('revoked, expired and used-up links say which', async () => {
  const revoked = await put();
  const set = await runCli(['set', parseLink(revoked.link).id, '--revoke'], { env });
  assert.equal(set.code, 0, set.stderr);
  const expired = await put(['--expire', '1s']);
  const usedUp = await put(['--max-downloads', '1']);
  const got = await runCli(['get', usedUp.link, '-o', path.join(dir, 'used')]);
  assert.equal(got.code, 0, got.stderr);
  await new Promise((r) => setTimeout(r, 2200));
  for (const [link, expect, shot] of [
    [revoked.link, /revoked by the person who shared it/, 'link-revoked'],
    [expired.link, /has expired \(.*expired/, 'link-expired'],
    [usedUp.link, /reached its download limit/, 'link-used-up'],
  ]) {
    const page = await open(link);
    const o = await outcome(page);
    assert.match(o.error ?? '', expect, link);
    assert.equal(o.canDownload, false);
    await screenshot(page, shot);
    await page.context().close();
  }
});

// A priced file shows its price and does not offer a download (paying comes with login).
test('a priced file says what it costs and to log in to pay', async () => {
  const priced = await put(['--price', '1.5sat']);
  const page = await open(priced.link);
  const o = await outcome(page);
  assert.equal(o.error, null);
  assert.match(o.price, /This file costs 1\.5 sat\./);
  assert.equal(o.canDownload, false);
  // Once the page knows nobody is logged in, it offers a login instead of a download.
  await page.waitForSelector('#login-to-pay:not([hidden])', { timeout: 20000 });
  assert.equal(await page.isHidden('#download'), true);
  assert.equal(await page.textContent('#login-to-pay'), 'Log in to pay');
  assert.match(await page.textContent('#file-name'), /^file-\d+\.bin$/);
  await screenshot(page, 'link-priced');
  await page.context().close();
});

test('a wrong, damaged or missing key is explained', async () => {
  const { link } = await put();
  const { base, id } = parseLink(link);
  for (const [url, expect] of [
    [`${base}/f/${id}#${randomBytes(16).toString('base64url')}`, /key in this link does not open this file/],
    [`${base}/f/${id}`, /link is incomplete/],
    [`${base}/f/${id}#abc`, /link is incomplete/],
  ]) {
    const page = await open(url);
    const o = await outcome(page);
    assert.match(o.error ?? '', expect, url);
    await page.context().close();
  }
});

// The page opened while the link worked; it was used up before Download was pressed: the
// service worker's refusal reaches the page as the 410's message, and nothing is saved.
test('a link used up after the page opened: the download is refused with its reason', async () => {
  const { link } = await put(['--max-downloads', '1']);
  const page = await open(link);
  const o = await outcome(page);
  assert.ok(o.canDownload);
  assert.match(await page.textContent('#file-limits'), /1 download left/);
  const got = await runCli(['get', link, '-o', path.join(dir, 'first')]);
  assert.equal(got.code, 0, got.stderr);
  let downloads = 0;
  page.on('download', () => downloads++);
  await page.click('#download');
  await page.waitForFunction(() => !document.querySelector('#error').hidden, null, { timeout: 20000 });
  assert.match(await page.textContent('#error'), /reached its download limit/);
  assert.equal(downloads, 0);
  await page.context().close();
});

// Keyboard: the link page focuses its Download button once the file is known, and Enter
// downloads; the upload page's file picker is reached with Tab and labelled.
test('keyboard and screen-reader use', async () => {
  const { link, file } = await put([], 300000);
  const page = await open(link);
  await page.waitForSelector('#download:enabled');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'download');
  const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
  const saved = path.join(dir, 'keyboard');
  await download.saveAs(saved);
  assert.equal(sha256(readFileSync(saved)), sha256(readFileSync(file)));
  assert.ok(await page.getByRole('progressbar', { name: 'Download progress' }).isVisible());
  assert.equal(await page.getByRole('status').count(), 1);
  await page.context().close();

  const up = await open(`${server.url}/`);
  // Tab goes through the site link, the navigation, the link options, then the file input.
  await up.waitForSelector('#nav a');
  const order = [];
  for (let i = 0; i < 8 && order.at(-1) !== 'file-input'; i++) {
    await up.keyboard.press('Tab');
    order.push(await up.evaluate(() => document.activeElement?.id || document.activeElement?.textContent));
  }
  assert.deepEqual(order, ['satload', 'Upload', 'Log in or register', 'opt-expiry', 'opt-max-downloads', 'file-input']);
  assert.equal(await up.getByLabel('Link expires').getAttribute('id'), 'opt-expiry');
  assert.equal(await up.getByLabel('Download limit').getAttribute('id'), 'opt-max-downloads');
  assert.equal(await up.getByLabel(/Choose files/).getAttribute('id'), 'file-input');
  await up.setInputFiles('#file-input', { name: 'a.txt', mimeType: 'text/plain', buffer: Buffer.from('a') });
  await up.waitForSelector('[data-testid=link]');
  assert.ok(await up.getByRole('progressbar', { name: 'Upload progress of a.txt' }).isVisible());
  assert.ok(await up.getByRole('button', { name: 'Copy the link to a.txt' }).isVisible());
  assert.ok(await up.getByLabel('Link to a.txt', { exact: true }).isVisible());
  await up.context().close();
});

// Files dropped on the page upload like picked ones; Copy puts the exact link on the
// clipboard, and the link opens the dropped file.
test('drop a file, copy its link, open it', async () => {
  const page = await open(`${server.url}/`);
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  const data = await page.evaluateHandle(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(['dropped bytes\n'], 'dropped.txt', { type: 'text/plain' }));
    return dt;
  });
  await page.dispatchEvent('#drop', 'dragover', { dataTransfer: data });
  assert.ok(await page.$eval('#drop', (d) => d.classList.contains('dragging')));
  await page.dispatchEvent('#drop', 'drop', { dataTransfer: data });
  const link = await (await page.waitForSelector('[data-testid=link]')).inputValue();
  await page.getByRole('button', { name: 'Copy the link to dropped.txt' }).click();
  await page.waitForFunction(() => document.querySelector('#status').textContent === 'Link copied.');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), link);
  await page.context().close();
  const out = path.join(dir, 'dropped');
  const r = await runCli(['get', link, '-o', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(out, 'utf8'), 'dropped bytes\n');
});

// The server's refusals of an anonymous upload reach the page as sentences: uploads need an
// account (401), the file is over the anonymous limit (413, with the limit).
test('refused uploads are explained', async () => {
  for (const [args, expect] of [
    [['--no-anonymous'], /only accepts uploads from accounts/],
    [['--anonymous-max-upload', '64KiB'], /too large for this server: .*65536/],
  ]) {
    const strict = await startServer(args);
    try {
      const page = await open(`${strict.url}/`);
      await page.setInputFiles('#file-input', { name: 'big.bin', mimeType: 'application/octet-stream', buffer: randomBytes(100000) });
      await page.waitForSelector('.upload.failed', { timeout: 20000 });
      assert.match(await page.textContent('.upload-status'), expect, args.join(' '));
      assert.equal(await page.locator('[data-testid=link]').count(), 0);
      await page.context().close();
    } finally {
      await strict.stop();
    }
  }
});

// A phone-sized screen: nothing wider than the screen, with a long name and a link shown.
test('both pages fit a phone-sized screen', async () => {
  const options = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
  const up = await open(`${server.url}/`, options);
  await up.setInputFiles('#file-input', { name: `${'a-very-long-file-name-'.repeat(6)}.txt`, mimeType: 'text/plain', buffer: Buffer.from('x') });
  await up.waitForSelector('[data-testid=link]');
  assert.ok(await up.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'upload page scrolls sideways');
  await screenshot(up, 'phone-upload');
  const link = await up.inputValue('[data-testid=link]');
  await up.context().close();
  const page = await open(link, options);
  await page.waitForSelector('#download:enabled');
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'link page scrolls sideways');
  await screenshot(page, 'phone-link');
  await page.context().close();
});

test('no page error or Content-Security-Policy violation on any page', () => {
  assert.deepEqual(problems.flat(), []);
});

// Renaming on "my files" in headless Chromium against the real server and CLI: the rename
// control of a file is labelled and reached and used by keyboard alone; the name is encrypted
// in the page, so `satload ls --json` (keys from the CLI's login) and the link page show the new
// name while the link stays the same; a refused name and the API's 404 (a file deleted
// meanwhile) are shown in words; the server never receives the name in clear.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { lastLine, parseLink, runCli, tempDir } from '../lib/server.mjs';
import { launchBrowser, newContext, recordingProxy, screenshot, startServer } from './lib.mjs';

const PASSWORD = 'rename in the page 5';
const NEW_NAME = 'renamed in the page ✓.txt';
// Argon2id with 64 MiB runs in WebAssembly: seconds, not milliseconds.
const LOGIN_TIMEOUT_MS = 60_000;

let server;
let proxy;
let browser;
const dir = tempDir('satload-rename-web-');
const home = tempDir('satload-home-rename-');
const problems = [];

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

async function cliOk(args) {
  const r = await runCli(args, { env: { SATLOAD_HOME: home, SATLOAD_PASSWORD: PASSWORD } });
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  return r;
}

async function put(name, size) {
  const file = path.join(dir, name);
  writeFileSync(file, randomBytes(size));
  return parseLink(lastLine((await cliOk(['put', file, '--server', server.url])).stdout));
}

// The "my files" page of the CLI's account, logged in through the login page.
async function myFiles() {
  const c = await newContext(browser, { viewport: { width: 1000, height: 800 } });
  problems.push(c.problems);
  const p = await c.context.newPage();
  await p.goto(`${server.url}/login`);
  await p.fill('#login-username', 'pagerenamer');
  await p.fill('#login-password', PASSWORD);
  await p.click('#login-submit');
  await p.waitForURL(`${server.url}/my-files`, { timeout: LOGIN_TIMEOUT_MS });
  await p.waitForSelector('.owned');
  return { p, context: c.context };
}

const status = (p) => p.textContent('#status');

test('rename in the page by keyboard: the CLI and the link page see the new name; errors are shown in words', async () => {
  await cliOk(['account', 'register', 'pagerenamer', '--server', server.url]);
  const kept = await put('first name.txt', 20_000);
  const doomed = await put('to be deleted.bin', 100);
  const { p, context } = await myFiles();

  // The control is labelled for screen readers and holds the current name.
  const input = `#name-${kept.id}`;
  const labelled = await p.evaluate((sel) => {
    const el = document.querySelector(sel);
    return el.labels?.[0]?.textContent ?? '';
  }, input);
  assert.equal(labelled, 'New name for first name.txt');
  assert.equal(await p.inputValue(input), 'first name.txt');
  assert.ok(await p.$('button[aria-label="Rename first name.txt"]'), 'the button names its file');

  // A refused name says why, and nothing is sent.
  const patchesBefore = proxy.seen.filter((r) => r.method === 'PATCH').length;
  await p.focus(input);
  await p.keyboard.press('Control+A');
  await p.keyboard.press('Delete');
  await p.keyboard.press('Enter');
  await p.waitForFunction((id) => document.querySelector(`li[data-file-id="${id}"] p[role=status]`).textContent !== '', kept.id);
  assert.equal(await p.textContent(`li[data-file-id="${kept.id}"] p[role=status]`), 'A file name cannot be empty.');
  assert.equal(proxy.seen.filter((r) => r.method === 'PATCH').length, patchesBefore);

  // By keyboard alone: type the new name, Enter.
  await p.keyboard.type(NEW_NAME);
  await p.keyboard.press('Enter');
  await p.waitForFunction((name) => document.querySelector('#status').textContent.endsWith(`renamed to ${name}.`), NEW_NAME);
  assert.equal(await status(p), `first name.txt is renamed to ${NEW_NAME}.`);
  const names = await p.$$eval('.owned-name', (hs) => hs.map((h) => h.textContent));
  assert.ok(names.includes(NEW_NAME), names.join(', '));
  assert.equal(await p.evaluate(() => document.activeElement?.id), `name-${kept.id}`, 'focus stays on the control');
  await screenshot(p, 'my-files-renamed');

  // The CLI decrypts the page's metadata with its own keys.
  const listed = JSON.parse((await cliOk(['ls', '--json'])).stdout);
  const mine = listed.find((f) => f.id === kept.id);
  assert.equal(mine.name, NEW_NAME);
  assert.equal(mine.size_bytes, 20_000);
  assert.equal(parseLink(mine.link).secret, kept.secret, 'the link is the same');

  // A file deleted elsewhere: the API's 404 is shown in words.
  await cliOk(['rm', doomed.id]);
  await p.fill(`#name-${doomed.id}`, 'too late.bin');
  await p.click('button[aria-label="Rename to be deleted.bin"]');
  const note = `li[data-file-id="${doomed.id}"] p[role=status]`;
  await p.waitForFunction((sel) => document.querySelector(sel).textContent !== '', note);
  assert.equal(await p.textContent(note), 'Not found (no such file).');
  await context.close();

  // The link page shows the new name and the same size.
  const c = await newContext(browser);
  problems.push(c.problems);
  const linkPage = await c.context.newPage();
  await linkPage.goto(`${server.url}/f/${kept.id}#${kept.secret}`);
  await linkPage.waitForFunction((name) => document.querySelector('#file-name').textContent === name, NEW_NAME, { timeout: 20_000 });
  assert.equal(await linkPage.textContent('#file-size'), '20 KiB');
  await screenshot(linkPage, 'link-after-rename');
  await c.context.close();

  // Zero knowledge: the new name never reached the server in any form.
  for (const r of proxy.seen) {
    const text = Buffer.concat([Buffer.from(r.url), Buffer.from(JSON.stringify(r.headers)), ...r.body]);
    for (const form of [Buffer.from(NEW_NAME), Buffer.from(Buffer.from(NEW_NAME).toString('base64url'))]) {
      assert.equal(text.includes(form), false, `the name was sent: ${r.method} ${r.url}`);
    }
  }
});

test('no page broke its Content-Security-Policy or threw', () => {
  assert.deepEqual(problems.flat(), []);
});

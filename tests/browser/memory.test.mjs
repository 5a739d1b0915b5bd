// Memory does not grow with the file: a 1 GiB file uploaded in the page (random-access
// encryption feeding tus) and a 1 GiB file downloaded in the page (the service worker's
// decrypting stream into the download manager) each raise the resident memory of the whole
// Chromium process tree, read from /proc, by far less than the file's size; both arrive byte
// for byte. With SATLOAD_SMALL_TESTS the files are 48 MiB and only the bytes are checked.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import path from 'node:path';
import { lastLine, runCli, tempDir } from '../lib/server.mjs';
import { launchBrowser, memoryPeaks, newContext, processMemory, startServer } from './lib.mjs';

const small = Boolean(process.env.SATLOAD_SMALL_TESTS);
const SIZE = small ? 48 << 20 : 1 << 30;
// The issue's download figure: 512 MiB with the renderer's resident memory below 300 MiB
// (ISSUE_RENDERER_BYTES), in every run. The renderer runs the page and its worker and starts
// at ~148 MiB (~115 MiB of it file-backed: Chromium's own code, shared with its other
// processes). Each record's plaintext is a new WebCrypto buffer, freed only by a garbage
// collection; left to the engine's timing that let the renderer peak at 270-370 MiB, so the
// worker waits for a collection whenever 40 MiB of handed-on plaintext is uncollected
// (sw.ts, CollectionPacer): 230-264 MiB in 33 runs on a loaded 2-core machine (load 3-9),
// about as fast. The download runs DOWNLOAD_RUNS times (collection timing varies from run to
// run), each held to the figure, with the heap growing by far less than the file (a Blob or
// a buffer holding it would add all 512 MiB).
const DOWNLOAD_SIZE = small ? 48 << 20 : 512 << 20;
const ISSUE_RENDERER_BYTES = 300 << 20;
const DOWNLOAD_RUNS = small ? 1 : 3;
const MAX_RENDERER_ANON_GROWTH_BYTES = 288 << 20;
// Measured here: +~320 MiB for the upload, +~300 MiB for the download (a garbage-collection
// saw-tooth in one renderer, the same for 512 MiB and 1 GiB). Holding the file anywhere
// (a Blob, a buffer) would add at least SIZE.
const MAX_GROWTH_BYTES = 512 << 20;
const MiB = (n) => `${Math.round(n / 1048576)} MiB`;

let server;
let browser;
const marker = randomBytes(8).toString('hex');
const dir = tempDir('satload-memory-');

before(async () => {
  server = await startServer();
  browser = await launchBrowser(null, { marker });
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

async function writeRandomFile(file, size) {
  const out = createWriteStream(file);
  const hash = createHash('sha256');
  for (let left = size; left > 0; ) {
    const chunk = randomBytes(Math.min(left, 8 << 20));
    hash.update(chunk);
    if (!out.write(chunk)) await new Promise((r) => out.once('drain', r));
    left -= chunk.length;
  }
  await new Promise((r) => out.end(r));
  return hash.digest('hex');
}

async function hashFile(file) {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk);
  return hash.digest('hex');
}

test(`a ${MiB(SIZE)} upload in the page: memory stays flat, satload get reads it back`, async () => {
  const file = path.join(dir, 'up.bin');
  const digest = await writeRandomFile(file, SIZE);
  const { context } = await newContext(browser);
  const page = await context.newPage();
  await page.goto(`${server.url}/`);
  const base = processMemory(marker);
  const peaks = memoryPeaks(marker);
  await page.setInputFiles('#file-input', file);
  const link = await (await page.waitForSelector('[data-testid=link]', { timeout: 600000 })).inputValue();
  const peak = peaks.stop();
  await context.close();
  console.log(`# upload: Chromium ${MiB(base.total)} before, peak ${MiB(peak.total)} (browser ${MiB(peak.browser)}, renderer ${MiB(peak.renderer)})`);
  if (!small) assert.ok(peak.total - base.total < MAX_GROWTH_BYTES, `grew by ${MiB(peak.total - base.total)}`);
  const out = path.join(dir, 'up.out');
  const r = await runCli(['get', link, '-o', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await hashFile(out), digest);
});

test(`a ${MiB(DOWNLOAD_SIZE)} download in the page, ${DOWNLOAD_RUNS} times: the renderer below ${MiB(ISSUE_RENDERER_BYTES)} each time, the bytes are the file's`, async () => {
  const file = path.join(dir, 'down.bin');
  const digest = await writeRandomFile(file, DOWNLOAD_SIZE);
  const put = await runCli(['put', file, '--server', server.url]);
  assert.equal(put.code, 0, put.stderr);
  for (let run = 1; run <= DOWNLOAD_RUNS; run++) {
    const { context, requests } = await newContext(browser);
    const page = await context.newPage();
    await page.goto(lastLine(put.stdout));
    await page.waitForSelector('#download:enabled', { timeout: 20000 });
    const base = processMemory(marker);
    const peaks = memoryPeaks(marker);
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 60000 }), page.click('#download')]);
    const saved = path.join(dir, 'down.out');
    await download.saveAs(saved);
    await page.waitForFunction(() => document.querySelector('#status').textContent.startsWith('Saved'), null, { timeout: 600000 });
    const peak = peaks.stop();
    assert.ok(requests.some((r) => r.fromWorker && r.url.includes('/d/')), 'the service worker streamed it');
    await context.close();
    const before = base.largest.renderer;
    console.log(
      `# download ${run}: Chromium ${MiB(base.total)} before, peak ${MiB(peak.total)} (browser ${MiB(peak.browser)}); ` +
        `renderer ${MiB(before.rss)} before (anonymous ${MiB(before.anon)}, file-backed ${MiB(before.file)}), ` +
        `peak ${MiB(peak.renderer)} (anonymous ${MiB(peak.rendererAnon)}, file-backed ${MiB(peak.rendererFile)})`,
    );
    if (!small) {
      assert.ok(peak.renderer < ISSUE_RENDERER_BYTES, `run ${run}: the renderer peaked at ${MiB(peak.renderer)}`);
      assert.ok(peak.rendererAnon - before.anon < MAX_RENDERER_ANON_GROWTH_BYTES, `the renderer's heap grew by ${MiB(peak.rendererAnon - before.anon)}`);
      assert.ok(peak.total - base.total < MAX_GROWTH_BYTES, `grew by ${MiB(peak.total - base.total)}`);
      assert.ok(peak.browser - base.browser < 128 << 20, `the browser process grew by ${MiB(peak.browser - base.browser)}`);
    }
    assert.equal(await hashFile(saved), digest);
  }
});

// The npm http_ece package (RFC 8188, written by others) decrypts a blob that satload stored,
// fetched with GET /d/<id>, with the content key derived from the link; and the encrypted
// metadata from the API decrypts to {"name","size","type"} with the metadata key.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import ece from 'http_ece';
import { Server, runCli, tempDir, lastLine, parseLink } from '../lib/server.mjs';
import { deriveKeys, b64urlDecode } from '../lib/secrets.mjs';

const server = await new Server().start();
after(() => server.stop());
const env = { SATLOAD_HOME: tempDir('satload-home-') };

for (const size of [0, 1, 65519, 65519 * 3, 1_000_003]) {
  test(`http_ece decrypts the stored blob of a ${size}-byte file`, async () => {
    const dir = tempDir('satload-ece-');
    const file = path.join(dir, `data-${size}.bin`);
    const data = randomBytes(size);
    writeFileSync(file, data);
    const put = await runCli(['put', file, '--server', server.url], { env });
    assert.equal(put.code, 0, put.stderr);
    const { id, secret } = parseLink(lastLine(put.stdout));
    const keys = deriveKeys(secret);

    const res = await fetch(`${server.url}/d/${id}`);
    assert.equal(res.status, 200);
    const blob = Buffer.from(await res.arrayBuffer());
    const plain = ece.decrypt(blob, { version: 'aes128gcm', key: keys.content });
    assert.ok(plain.equals(data), 'http_ece recovers the exact plaintext');
    // The wrong key fails in http_ece too: the test can fail.
    assert.throws(() => ece.decrypt(blob, { version: 'aes128gcm', key: keys.metadata }));

    const info = await (await fetch(`${server.url}/api/v1/files/${id}`)).json();
    assert.equal(info.size_bytes, blob.length);
    const meta = JSON.parse(ece.decrypt(b64urlDecode(info.meta), { version: 'aes128gcm', key: keys.metadata }).toString('utf8'));
    assert.equal(meta.name, `data-${size}.bin`);
    assert.equal(meta.size, size);
    assert.equal(typeof meta.type, 'string');
  });
}

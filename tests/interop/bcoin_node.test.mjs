// Interop: a real bitcoin full node we did not write (npm bcoin 1.0.2 in regtest, started by
// scripts/bcoin.sh, URL in SATLOAD_TEST_BCOIN_URL) accepts a P2WPKH spend that satload's bitcoin
// layer (src/chain, through chain_tool) built and signed, mines it into a block, and rejects the
// same spend with a tampered signature. Only scripts cross the RPC: satload's regtest addresses
// are "bcrt1...", bcoin's are "rb1...", so the test re-encodes the same witness program.
// Run: SATLOAD_BUILD_DIR=<build dir> SATLOAD_TEST_BCOIN_URL=<url> node --test tests/interop/bcoin_node.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as bitcoin from 'bitcoinjs-lib';

const buildDir = process.env.SATLOAD_BUILD_DIR;
const tool = buildDir ? path.join(buildDir, 'tests', 'interop', 'chain_tool') : '';
const nodeUrl = process.env.SATLOAD_TEST_BCOIN_URL;

const MNEMONIC =
  'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
const FUNDING_PATH = "m/84'/1'/0'/0/0";
const BCOIN_REGTEST_HRP = 'rb';
// Segwit is a BIP9 deployment on bcoin's regtest (windows of 144 blocks): active from 432.
const SEGWIT_ACTIVE_HEIGHT = 432;
const COINBASE_MATURITY = 100;
const FEE_SAT = 10_000;
const MEMPOOL_WAIT_MS = 10_000;
// How long a rejected transaction is given to (wrongly) show up in the mempool.
const REJECT_GRACE_MS = 1_500;

// Unset is a failure, never a skip: an interop test that did not run proves nothing.
// "skip" is the explicit opt-out, as for the PostgreSQL suites.
const skip = nodeUrl === 'skip' ? 'SATLOAD_TEST_BCOIN_URL=skip' : false;

function runTool(args) {
  assert.ok(buildDir, 'SATLOAD_BUILD_DIR must name the build directory');
  assert.ok(existsSync(tool), `chain_tool not found at ${tool}`);
  const r = spawnSync(tool, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.error, undefined, String(r.error));
  assert.equal(r.status, 0, `chain_tool ${args[0]}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

// JSON-RPC over fetch. fetch refuses URLs with credentials, so they move to a header.
function rpcClient(url) {
  const u = new URL(url);
  const auth = 'Basic ' +
    Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64');
  u.username = '';
  u.password = '';
  let id = 0;
  const call = async (method, ...params) => {
    const res = await fetch(u, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: auth },
      body: JSON.stringify({ jsonrpc: '1.0', id: ++id, method, params }),
    });
    const body = await res.json();
    if (body.error) {
      const err = new Error(`${method}: ${body.error.message}`);
      err.rpc = body.error;
      throw err;
    }
    assert.equal(res.status, 200, `${method}: HTTP ${res.status}`);
    return body.result;
  };
  return call;
}

async function waitFor(what, predicate, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await sleep(50);
  }
}

function deriveKey(index) {
  const out = runTool(['derive', '--mnemonic', MNEMONIC, '--network', 'regtest', '--account', '0',
    '--change', '0', '--from', String(index), '--count', '1']);
  const key = out.keys[0];
  const { version, program, script_pubkey: script } = runTool(
    ['address', '--network', 'regtest', '--address', key.address]);
  assert.equal(version, 0);
  // The same witness program under bcoin's regtest prefix: what generatetoaddress accepts.
  const bcoinAddress = bitcoin.address.toBech32(Buffer.from(program, 'hex'), 0, BCOIN_REGTEST_HRP);
  return { path: key.path, address: key.address, script, bcoinAddress };
}

// The raw block (getblock <hash> 0), parsed by satload, never by the node's JSON.
async function rawBlock(rpc, hash) {
  const hex = await rpc('getblock', hash, false);
  assert.equal(typeof hex, 'string');
  const parsed = runTool(['parse-block', '--hex', hex]);
  assert.equal(parsed.hash, hash, 'satload computes the block hash the node reports');
  assert.equal(parsed.merkle_ok, true);
  assert.equal(parsed.hex, hex, 'satload re-encodes the block byte for byte');
  return { ...parsed, outputs: runTool(['block-outputs', '--hex', hex]).outputs };
}

function spend(coin, to, valueSat) {
  return runTool(['spend', '--mnemonic', MNEMONIC, '--network', 'regtest',
    '--input', `${coin.txid}:${coin.vout}:${coin.value_sat}:${FUNDING_PATH}`,
    '--output', `${to.address}:${valueSat}`]);
}

// The spend with one bit of its signature's S value flipped: still well-formed DER, the same
// txid (the witness is not in it), but the signature no longer verifies.
function tamper(signedHex) {
  const tx = bitcoin.Transaction.fromHex(signedHex);
  const sig = Buffer.from(tx.ins[0].witness[0]);
  sig[sig.length - 2] ^= 0x01; // the last byte of S; the final byte is the sighash type
  tx.ins[0].witness[0] = sig;
  return tx.toHex();
}

test('bcoin regtest accepts a satload-signed P2WPKH spend and rejects a tampered one',
  { skip, timeout: 120_000 }, async () => {
    assert.ok(nodeUrl, 'SATLOAD_TEST_BCOIN_URL must name a bcoin regtest node (or be "skip")');
    const rpc = rpcClient(nodeUrl);
    const funding = deriveKey(0);
    const payee = deriveKey(1);
    assert.match(funding.address, /^bcrt1q/);
    assert.match(funding.bcoinAddress, /^rb1q/);

    // Mine enough that segwit is active and the first two coinbases are mature.
    const start = await rpc('getblockcount');
    const count = Math.max(COINBASE_MATURITY + 1, SEGWIT_ACTIVE_HEIGHT + 1 - start);
    const mined = await rpc('generatetoaddress', count, funding.bcoinAddress);
    assert.equal(mined.length, count);
    assert.equal(await rpc('getblockcount'), start + count);
    assert.equal(await rpc('getblockhash', start + 1), mined[0]);

    // The coinbases of the first two new blocks pay our script: found by satload's parser.
    const coins = [];
    for (const hash of mined.slice(0, 2)) {
      const block = await rawBlock(rpc, hash);
      const coinbaseTxid = block.txids[0];
      const ours = block.outputs.filter((o) => o.txid === coinbaseTxid &&
        o.script_pubkey === funding.script);
      assert.equal(ours.length, 1, `block ${hash}'s coinbase pays ${funding.address}`);
      assert.ok(ours[0].value_sat > FEE_SAT);
      coins.push(ours[0]);
    }
    const [coinA, coinB] = coins;

    // A tampered spend of coin B first: bcoin answers its txid all the same (sendrawtransaction
    // only relays), so acceptance is judged by the mempool, never by the answer.
    const goodB = spend(coinB, payee, coinB.value_sat - FEE_SAT);
    const badB = tamper(goodB.hex);
    assert.notEqual(badB, goodB.hex);
    assert.equal(runTool(['parse-tx', '--hex', badB]).txid, goodB.txid);
    assert.equal(await rpc('sendrawtransaction', badB), goodB.txid);

    // The satload-signed spend of coin A enters the mempool.
    const goodA = spend(coinA, payee, coinA.value_sat - FEE_SAT);
    assert.equal(await rpc('sendrawtransaction', goodA.hex), goodA.txid);
    await waitFor('the signed spend in the mempool',
      async () => (await rpc('getrawmempool')).includes(goodA.txid), MEMPOOL_WAIT_MS);
    const entry = await rpc('getmempoolentry', goodA.txid);
    assert.equal(entry.size, goodA.vsize, 'the node counts the virtual size satload computed');

    // The tampered one never does.
    const graceEnd = Date.now() + REJECT_GRACE_MS;
    while (Date.now() < graceEnd) {
      assert.ok(!(await rpc('getrawmempool')).includes(goodB.txid), 'tampered spend accepted');
      await sleep(100);
    }
    await assert.rejects(rpc('getmempoolentry', goodB.txid), /not in mempool/);

    // A block mined now carries the signed spend, paying the payee's script the right amount.
    const [next] = await rpc('generatetoaddress', 1, funding.bcoinAddress);
    const block = await rawBlock(rpc, next);
    assert.ok(block.txids.includes(goodA.txid), 'the signed spend is in the block');
    assert.ok(!block.txids.includes(goodB.txid), 'the tampered spend is not');
    const paid = block.outputs.filter((o) => o.txid === goodA.txid);
    assert.deepEqual(paid.map((o) => [o.vout, o.value_sat, o.script_pubkey]),
      [[0, coinA.value_sat - FEE_SAT, payee.script]]);
    assert.ok(!(await rpc('getrawmempool')).includes(goodA.txid));

    // The rejection was the signature's doing: the untampered spend of coin B is accepted.
    assert.equal(await rpc('sendrawtransaction', goodB.hex), goodB.txid);
    await waitFor('the untampered spend in the mempool',
      async () => (await rpc('getrawmempool')).includes(goodB.txid), MEMPOOL_WAIT_MS);
    const [last] = await rpc('generatetoaddress', 1, funding.bcoinAddress);
    assert.ok((await rawBlock(rpc, last)).txids.includes(goodB.txid));
  });

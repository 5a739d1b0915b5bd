// A throwaway bcoin regtest node for functional tests (scripts/bcoin.sh: chain in memory, RPC
// on a free loopback port), funded: segwit active and mature coinbase coins paying the first
// key of a fixed test mnemonic, which pay() spends. Addresses go through chain_tool (built in
// SATLOAD_BUILD_DIR), so no test trusts satload's own address code to check satload.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import * as bitcoin from 'bitcoinjs-lib';
import { tempDir } from './server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const tool = process.env.SATLOAD_BUILD_DIR ? path.join(process.env.SATLOAD_BUILD_DIR, 'tests', 'interop', 'chain_tool') : '';

export const TEST_MNEMONIC =
  'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
const FUNDING_PATH = "m/84'/1'/0'/0/0";
const SEGWIT_ACTIVE_HEIGHT = 432;
const COINBASE_MATURITY = 100;
const FEE_SAT = 2_000;  // what funding transactions pay
const MEMPOOL_WAIT_MS = 10_000;

export function runChainTool(args) {
  assert.ok(existsSync(tool), `chain_tool not found at ${tool}`);
  const r = spawnSync(tool, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, `chain_tool ${args[0]}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

// The regtest address (bcrt1…) of the test mnemonic's receive key `index`.
export function testAddress(index) {
  return runChainTool(['derive', '--mnemonic', TEST_MNEMONIC, '--network', 'regtest', '--account', '0',
    '--change', '0', '--from', String(index), '--count', '1']).keys[0].address;
}

// A JSON-RPC client of the node at `url` (credentials in the URL): rpc(method, ...params).
export function rpcClient(url) {
  const u = new URL(url);
  const auth = 'Basic ' + Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64');
  u.username = '';
  u.password = '';
  let id = 0;
  return async (method, ...params) => {
    const res = await fetch(u, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: auth },
      body: JSON.stringify({ jsonrpc: '1.0', id: ++id, method, params }),
    });
    const body = await res.json();
    if (body.error) throw new Error(`${method}: ${body.error.message}`);
    return body.result;
  };
}

export class RegtestNode {
  // Starts the node and mines until segwit is active and `coins` coinbases have matured.
  static async start({ coins = 5 } = {}) {
    const node = new RegtestNode();
    node.dir = tempDir('satload-bcoin-');
    const started = spawnSync(path.join(root, 'scripts', 'bcoin.sh'), ['start', node.dir], { encoding: 'utf8' });
    assert.equal(started.status, 0, started.stderr);
    node.url = started.stdout.trim();
    node.rpc = rpcClient(node.url);
    node.funding = testAddress(0);
    node.fundingScript = runChainTool(['address', '--network', 'regtest', '--address', node.funding]).script_pubkey;
    node.coins = [];
    const hashes = await node.mine(SEGWIT_ACTIVE_HEIGHT + coins + COINBASE_MATURITY);
    for (const hash of hashes.slice(0, coins)) {
      const outs = runChainTool(['block-outputs', '--hex', await node.rpc('getblock', hash, false)]).outputs;
      node.coins.push(outs.find((o) => o.script_pubkey === node.fundingScript));
    }
    return node;
  }

  // bcoin's regtest prefix is "rb", Bitcoin Core's (and satload's) "bcrt": one witness program.
  static toBcoin(address) {
    const { version, data } = bitcoin.address.fromBech32(address);
    return bitcoin.address.toBech32(data, version, 'rb');
  }

  async mine(n) {
    return this.rpc('generatetoaddress', n, RegtestNode.toBcoin(this.funding));
  }

  // Pays `sat` to `address` from a fresh coinbase coin (change back to the funding key) and
  // waits until the node's mempool holds it. Returns the txid.
  async pay(address, sat) {
    const coin = this.coins.shift();
    assert.ok(coin, 'out of funding coins');
    const tx = runChainTool(['spend', '--mnemonic', TEST_MNEMONIC, '--network', 'regtest',
      '--input', `${coin.txid}:${coin.vout}:${coin.value_sat}:${FUNDING_PATH}`,
      '--output', `${address}:${sat}`, '--output', `${this.funding}:${coin.value_sat - sat - FEE_SAT}`]);
    await this.rpc('sendrawtransaction', tx.hex);
    await this.inMempool(tx.txid);
    return tx.txid;
  }

  async inMempool(txid) {
    const deadline = Date.now() + MEMPOOL_WAIT_MS;
    while (!(await this.rpc('getrawmempool')).includes(txid)) {
      assert.ok(Date.now() < deadline, `${txid} never reached the mempool`);
      await sleep(100);
    }
  }

  stop() {
    if (this.dir) spawnSync(path.join(root, 'scripts', 'bcoin.sh'), ['stop', this.dir]);
  }
}

// Interop: satload's bitcoin layer (src/chain, through build/tests/interop/chain_tool) against
// the npm bip39 3.1.2, bip32 5.0.1, bitcoinjs-lib 7.0.5, ecpair 3.0.2 and tiny-secp256k1 2.2.4:
// the same wordlist, mnemonics and seeds; the same BIP84 keys and addresses on main, test and
// regtest ("bcrt"); a P2WPKH spend signed by satload parses in bitcoinjs-lib with the same
// txid and its signatures verify there; bitcoinjs-lib signing the same spend produces the
// same bytes; and transactions and blocks built by bitcoinjs-lib parse in satload unchanged.
// Run: SATLOAD_BUILD_DIR=<build dir> node --test tests/interop/bitcoin.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes, randomInt } from 'node:crypto';
import path from 'node:path';
import * as bitcoin from 'bitcoinjs-lib';
import * as ecc from 'tiny-secp256k1';
import { BIP32Factory } from 'bip32';
import { ECPairFactory } from 'ecpair';
import * as bip39 from 'bip39';

bitcoin.initEccLib(ecc);
const bip32 = BIP32Factory(ecc);
const ECPair = ECPairFactory(ecc);

const buildDir = process.env.SATLOAD_BUILD_DIR;
const tool = buildDir ? path.join(buildDir, 'tests', 'interop', 'chain_tool') : '';

const BIP84_MNEMONIC =
  'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';

// satload's --network names and bitcoinjs-lib's parameter sets (regtest: bech32 "bcrt").
const NETWORKS = {
  main: bitcoin.networks.bitcoin,
  test: bitcoin.networks.testnet,
  regtest: bitcoin.networks.regtest,
};
const COIN_TYPE = { main: 0, test: 1, regtest: 1 };

// A missing tool is a failure, never a skip: a skipped interop test proves nothing.
function runTool(args) {
  assert.ok(buildDir, 'SATLOAD_BUILD_DIR must name the build directory');
  assert.ok(existsSync(tool), `chain_tool not found at ${tool}`);
  const r = spawnSync(tool, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.error, undefined, String(r.error));
  return r;
}

function satload(args) {
  const r = runTool(args);
  assert.equal(r.status, 0, `chain_tool ${args[0]}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function satloadRefusal(args) {
  const r = runTool(args);
  assert.equal(r.status, 1, `chain_tool ${args[0]} should refuse: ${r.stdout}`);
  return r.stderr.trim();
}

const hex = (bytes) => Buffer.from(bytes).toString('hex');

function randomMnemonic() {
  return bip39.entropyToMnemonic(randomBytes([16, 20, 24, 28, 32][randomInt(5)]).toString('hex'));
}

test('the shipped wordlist is the bip39 package English list, word for word', () => {
  assert.deepEqual(satload(['wordlist']).words, bip39.wordlists.english);
});

test('mnemonics and seeds match the bip39 package for random entropy of every size', () => {
  for (const size of [16, 20, 24, 28, 32]) {
    for (let round = 0; round < 3; round++) {
      const entropy = randomBytes(size).toString('hex');
      const words = satload(['mnemonic', '--entropy', entropy]).mnemonic;
      assert.equal(words, bip39.entropyToMnemonic(entropy));
      assert.ok(bip39.validateMnemonic(words));
      const passphrase = round === 0 ? '' : randomBytes(8).toString('base64');
      assert.equal(
        satload(['seed', '--mnemonic', words, '--passphrase', passphrase]).seed,
        hex(bip39.mnemonicToSeedSync(words, passphrase)),
      );
    }
  }
  // What bip39 refuses, satload refuses too, by name.
  const bad = BIP84_MNEMONIC.replace(/about$/, 'abandon');
  assert.equal(bip39.validateMnemonic(bad), false);
  assert.equal(satloadRefusal(['seed', '--mnemonic', bad]), 'bad_checksum');
  assert.equal(satloadRefusal(['seed', '--mnemonic', BIP84_MNEMONIC.replace('about', 'aboot')]),
    'unknown_word');
});

test('BIP84 keys and addresses equal bip32 + bitcoinjs-lib on main, test and regtest', () => {
  for (const mnemonic of [BIP84_MNEMONIC, randomMnemonic(), randomMnemonic()]) {
    const passphrase = mnemonic === BIP84_MNEMONIC ? '' : 'satload interop';
    const seed = bip39.mnemonicToSeedSync(mnemonic, passphrase);
    for (const [name, network] of Object.entries(NETWORKS)) {
      const root = bip32.fromSeed(seed, network);
      const account = root.derivePath(`m/84'/${COIN_TYPE[name]}'/0'`);
      for (const change of [0, 1]) {
        const count = change === 0 ? 20 : 5;
        const out = satload(['derive', '--mnemonic', mnemonic, '--passphrase', passphrase,
          '--network', name, '--account', '0', '--change', String(change), '--from', '0',
          '--count', String(count)]);
        assert.equal(out.account_path, `m/84'/${COIN_TYPE[name]}'/0'`);
        assert.equal(out.account_xpub, account.neutered().toBase58());
        assert.equal(out.keys.length, count);
        for (let i = 0; i < count; i++) {
          const node = account.derive(change).derive(i);
          const expected = bitcoin.payments.p2wpkh({ pubkey: node.publicKey, network }).address;
          assert.equal(out.keys[i].path, `m/84'/${COIN_TYPE[name]}'/0'/${change}/${i}`);
          assert.equal(out.keys[i].public_key, hex(node.publicKey));
          assert.equal(out.keys[i].address, expected);
        }
        if (name === 'regtest') assert.ok(out.keys[0].address.startsWith('bcrt1q'));
      }
    }
    // Extended keys at a deep mixed path, private and public.
    const pathText = "m/0'/1/2147483647'/5/7";
    for (const [name, network] of Object.entries(NETWORKS)) {
      const node = bip32.fromSeed(seed, network).derivePath(pathText);
      const out = satload(['xkey', '--mnemonic', mnemonic, '--passphrase', passphrase,
        '--network', name, '--path', pathText]);
      assert.equal(out.xprv, node.toBase58());
      assert.equal(out.xpub, node.neutered().toBase58());
    }
  }
});

test('addresses decode to the scripts bitcoinjs-lib makes; other networks are refused', () => {
  const key = ECPair.makeRandom().publicKey;
  for (const [name, network] of Object.entries(NETWORKS)) {
    const addresses = [
      bitcoin.payments.p2wpkh({ pubkey: key, network }).address,
      bitcoin.payments.p2wsh({ redeem: bitcoin.payments.p2pkh({ pubkey: key, network }), network })
        .address,
      bitcoin.payments.p2tr({ internalPubkey: key.subarray(1), network }).address,
    ];
    for (const address of addresses) {
      const out = satload(['address', '--network', name, '--address', address]);
      assert.equal(out.script_pubkey, hex(bitcoin.address.toOutputScript(address, network)));
      assert.equal(satload(['address', '--network', name, '--address', address.toUpperCase()])
        .script_pubkey, out.script_pubkey);
    }
  }
  const mainnet = bitcoin.payments.p2wpkh({ pubkey: key }).address;
  assert.throws(() => bitcoin.address.toOutputScript(mainnet, bitcoin.networks.regtest));
  assert.equal(satloadRefusal(['address', '--network', 'regtest', '--address', mainnet]),
    'wrong_network');
});

// A spend on regtest: three coins of the wallet (receive and change keys), paying a P2WPKH,
// a P2WSH and a P2TR output plus change; sequence numbers mixed (RBF and final).
function spendFixture() {
  const mnemonic = randomMnemonic();
  const network = NETWORKS.regtest;
  const root = bip32.fromSeed(bip39.mnemonicToSeedSync(mnemonic), network);
  const coins = [
    { path: "m/84'/1'/0'/0/0", value: 150_000n, sequence: 0xfffffffd },
    { path: "m/84'/1'/0'/0/7", value: 2_500_000n, sequence: 0xffffffff },
    { path: "m/84'/1'/0'/1/3", value: 41_000n, sequence: 0xfffffffd },
  ].map((c) => ({
    ...c,
    txid: randomBytes(32).toString('hex'),
    vout: randomInt(4),
    node: root.derivePath(c.path),
  }));
  const other = ECPair.makeRandom({ network }).publicKey;
  const outputs = [
    { address: bitcoin.payments.p2wpkh({ pubkey: other, network }).address, value: 1_000_000n },
    {
      address: bitcoin.payments.p2wsh({ redeem: bitcoin.payments.p2pkh({ pubkey: other, network }),
        network }).address,
      value: 600_000n,
    },
    { address: bitcoin.payments.p2tr({ internalPubkey: other.subarray(1), network }).address,
      value: 330n },
    { address: bitcoin.payments.p2wpkh({ pubkey: root.derivePath("m/84'/1'/0'/1/4").publicKey,
      network }).address, value: 1_087_670n },
  ];
  // Fee: 2,691,000 in, 2,688,000 out = 3,000 sat.
  return { mnemonic, network, coins, outputs, locktime: 201 };
}

function satloadSpend(f) {
  const args = ['spend', '--mnemonic', f.mnemonic, '--network', 'regtest', '--version', '2',
    '--locktime', String(f.locktime)];
  for (const c of f.coins) {
    args.push('--input', `${c.txid}:${c.vout}:${c.value}:${c.path}:${c.sequence}`);
  }
  for (const o of f.outputs) args.push('--output', `${o.address}:${o.value}`);
  return satload(args);
}

test('a P2WPKH spend signed by satload parses in bitcoinjs-lib and its signatures verify', () => {
  const f = spendFixture();
  const spent = satloadSpend(f);
  const tx = bitcoin.Transaction.fromHex(spent.hex);
  assert.equal(tx.getId(), spent.txid);
  assert.equal(hex(Buffer.from(tx.getHash(true)).reverse()), spent.wtxid);
  assert.equal(tx.virtualSize(), spent.vsize);
  assert.equal(tx.toHex(), spent.hex);
  assert.equal(tx.version, 2);
  assert.equal(tx.locktime, f.locktime);
  assert.equal(tx.outs.length, f.outputs.length);
  f.outputs.forEach((o, i) => {
    assert.equal(tx.outs[i].value, o.value);
    assert.equal(hex(tx.outs[i].script), hex(bitcoin.address.toOutputScript(o.address, f.network)));
  });
  f.coins.forEach((c, i) => {
    const input = tx.ins[i];
    assert.equal(hex(Buffer.from(input.hash).reverse()), c.txid);
    assert.equal(input.index, c.vout);
    assert.equal(input.sequence, c.sequence);
    assert.equal(input.script.length, 0);
    assert.equal(input.witness.length, 2);
    assert.equal(hex(input.witness[1]), hex(c.node.publicKey));
    const { signature, hashType } = bitcoin.script.signature.decode(input.witness[0]);
    assert.equal(hashType, bitcoin.Transaction.SIGHASH_ALL);
    const scriptCode = bitcoin.payments.p2pkh({ pubkey: c.node.publicKey }).output;
    const digest = tx.hashForWitnessV0(i, scriptCode, c.value, hashType);
    assert.ok(ecc.verify(digest, c.node.publicKey, signature), `input ${i} signature`);
    // Bound to its amount: the digest for another amount does not verify.
    const other = tx.hashForWitnessV0(i, scriptCode, c.value + 1n, hashType);
    assert.equal(ecc.verify(other, c.node.publicKey, signature), false);
  });
});

test('bitcoinjs-lib signing the same spend gives satload\'s bytes exactly', () => {
  for (let round = 0; round < 3; round++) {
    const f = spendFixture();
    const spent = satloadSpend(f);
    const psbt = new bitcoin.Psbt({ network: f.network });
    psbt.setVersion(2);
    psbt.setLocktime(f.locktime);
    for (const c of f.coins) {
      psbt.addInput({
        hash: c.txid,
        index: c.vout,
        sequence: c.sequence,
        witnessUtxo: {
          script: bitcoin.payments.p2wpkh({ pubkey: c.node.publicKey, network: f.network }).output,
          value: c.value,
        },
      });
    }
    for (const o of f.outputs) psbt.addOutput({ address: o.address, value: o.value });
    f.coins.forEach((c, i) => psbt.signInput(i, ECPair.fromPrivateKey(c.node.privateKey)));
    psbt.finalizeAllInputs();
    const theirs = psbt.extractTransaction();
    assert.equal(theirs.toHex(), spent.hex);
    assert.equal(theirs.getId(), spent.txid);
  }
});

test('transactions and blocks built by bitcoinjs-lib parse in satload byte for byte', () => {
  const f = spendFixture();
  const spend = bitcoin.Transaction.fromHex(satloadSpend(f).hex);

  // A legacy-format transaction (no witness) and a mixed one (witness on one input only).
  const legacy = new bitcoin.Transaction();
  legacy.version = 1;
  legacy.addInput(randomBytes(32), 3, 0xfffffffe, bitcoin.script.compile([randomBytes(71)]));
  legacy.addOutput(bitcoin.address.toOutputScript(f.outputs[0].address, f.network), 12_345n);
  const mixed = spend.clone();
  mixed.ins[0].witness = [];
  mixed.ins[0].script = bitcoin.script.compile([randomBytes(72), randomBytes(33)]);
  for (const t of [spend, legacy, mixed]) {
    const out = satload(['parse-tx', '--hex', t.toHex()]);
    assert.equal(out.hex, t.toHex());
    assert.equal(out.txid, t.getId());
    assert.equal(out.wtxid, hex(Buffer.from(t.getHash(true)).reverse()));
    assert.equal(out.vsize, t.virtualSize());
  }

  // A block: a coinbase and the three transactions; satload finds the same hash, txids and
  // merkle root.
  const coinbase = new bitcoin.Transaction();
  coinbase.version = 2;
  coinbase.addInput(Buffer.alloc(32), 0xffffffff, 0xffffffff, Buffer.from('0151', 'hex'));
  coinbase.addOutput(bitcoin.address.toOutputScript(f.outputs[3].address, f.network),
    5_000_000_000n);
  const block = new bitcoin.Block();
  block.version = 0x20000000;
  block.prevHash = randomBytes(32);
  block.transactions = [coinbase, spend, legacy, mixed];
  block.merkleRoot = bitcoin.Block.calculateMerkleRoot(block.transactions);
  block.timestamp = 1_700_000_000;
  block.bits = 0x207fffff;
  block.nonce = 7;
  const out = satload(['parse-block', '--hex', block.toHex()]);
  assert.equal(out.hex, block.toHex());
  assert.equal(out.hash, block.getId());
  assert.equal(out.merkle_ok, true);
  assert.deepEqual(out.txids, block.transactions.map((t) => t.getId()));

  // A tampered merkle root still parses (the watcher checks it) but is reported.
  block.merkleRoot = randomBytes(32);
  assert.equal(satload(['parse-block', '--hex', block.toHex()]).merkle_ok, false);
  // Truncated blocks are refused by name.
  assert.equal(satloadRefusal(['parse-block', '--hex', block.toHex().slice(0, -2)]), 'truncated');
});

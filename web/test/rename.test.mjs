// Pins down the names the "my files" page accepts for a rename: the CLI's rules
// (src/client/metadata.h new_name_problem), so both refuse and accept the same names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metadata } from './helpers.mjs';

// Names the CLI accepts pass, slashes and emoji included, up to exactly 255 bytes of UTF-8.
test('good names pass, up to 255 bytes', () => {
  for (const name of ['report 2026.pdf', 'holiday 🌴.mp4', 'a/b', '\uFEFFbom.txt', 'x'.repeat(255), 'é'.repeat(127)]) {
    assert.equal(metadata.newNameProblem(name), null, name);
  }
});

// Empty, too long (in bytes, not characters), lone surrogates and control characters are refused
// with a sentence.
test('bad names are refused with a reason', () => {
  assert.match(metadata.newNameProblem(''), /empty/);
  assert.match(metadata.newNameProblem('x'.repeat(256)), /255 bytes/);
  assert.match(metadata.newNameProblem('é'.repeat(128)), /this one is 256/);
  assert.match(metadata.newNameProblem('bad \uD800 half'), /valid text/);
  for (const name of ['two\nlines', 'tab\there', 'nul\u0000', 'del\u007f']) {
    assert.match(metadata.newNameProblem(name), /control characters/, JSON.stringify(name));
  }
});

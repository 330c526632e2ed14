// Reference GPT-2 BPE ids from the npm packages, for tests/unit/data_bpe_test.cpp.
//   node gpt2_reference.js NODE_MODULES ENCODER FILE   ENCODER: gpt-3-encoder | js-tiktoken
//   node gpt2_reference.js NODE_MODULES classes        the pre-tokenizer class of every code point
// Prints the ids of FILE's text (read as UTF-8) separated by spaces; "classes" prints runs
// "first_code_point class" (class L letter, N number, s space, o other) where the class changes.
'use strict';
const fs = require('fs');
const path = require('path');
const [modules, what, file] = process.argv.slice(2);

if (what === 'classes') {
  const out = [];
  let prev = '';
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    const ch = String.fromCodePoint(cp);
    const c = /\s/u.test(ch) ? 's' : /\p{L}/u.test(ch) ? 'L' : /\p{N}/u.test(ch) ? 'N' : 'o';
    if (c !== prev) out.push(cp + ' ' + c);
    prev = c;
  }
  process.stdout.write(out.join('\n') + '\n');
} else {
  const text = fs.readFileSync(file, 'utf8');
  let ids;
  if (what === 'gpt-3-encoder') {
    ids = require(path.join(modules, 'gpt-3-encoder')).encode(text);
  } else if (what === 'js-tiktoken') {
    const enc = require(path.join(modules, 'js-tiktoken')).getEncoding('gpt2');
    ids = enc.encode(text, [], []);  // special tokens as plain text
  } else {
    throw new Error('unknown encoder ' + what);
  }
  process.stdout.write(ids.join(' ') + '\n');
}

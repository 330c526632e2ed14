// GPT-2 BPE encoding speed of the npm references on a text file (bench/tokenizer_bench.cpp runs it).
//   node tokenizer_bench.js NODE_MODULES FILE SLICE_BYTES
// Prints "js-tiktoken MB/s TOKENS" on the whole file and "gpt-3-encoder MB/s TOKENS" on its first
// SLICE_BYTES characters (its token list grows by concatenation, quadratic on long texts).
'use strict';
const fs = require('fs');
const path = require('path');
const [modules, file, slice] = process.argv.slice(2);
const text = fs.readFileSync(file, 'utf8');
const bytes = (s) => Buffer.byteLength(s, 'utf8');

function time(name, encode, s, reps) {
  let best = Infinity, n = 0;
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    n = encode(s).length;
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  console.log(`${name} ${(bytes(s) / 1e6 / best).toFixed(3)} ${n}`);
}

const tik = require(path.join(modules, 'js-tiktoken')).getEncoding('gpt2');
time('js-tiktoken', (s) => tik.encode(s, [], []), text, 3);
const g3e = require(path.join(modules, 'gpt-3-encoder'));
time('gpt-3-encoder', g3e.encode, text.slice(0, Number(slice)), 2);

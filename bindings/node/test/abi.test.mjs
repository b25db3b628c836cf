// The binding refuses a library whose ABI differs from the one it was generated for: a stand-in
// library (built here with cc) that describes itself with another layout or version.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const require = createRequire(import.meta.url);
const abi = require('../lib/abi.cjs');
const binding = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'index.cjs');

/** The description a library with these layouts and version gives of itself. */
function description(version, change) {
  const layouts = {};
  for (const [name, l] of Object.entries(abi.LAYOUTS)) {
    layouts[name] = { size: l.size, align: 8, fields: l.fields.map(([n, offset, size]) => ({ name: n, offset, size })) };
  }
  change(layouts);
  return JSON.stringify({ version, layouts });
}

/** Loads the binding in a child process against a stand-in library; returns its stderr. */
function loadAgainst(json) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'aichat-abi-'));
  try {
    const source = path.join(dir, 'fake.c');
    writeFileSync(source, `const char *aichat_abi_json(void) { return ${JSON.stringify(json)}; }\n`);
    const lib = path.join(dir, 'libfake.so');
    execFileSync('cc', ['-shared', '-fPIC', '-o', lib, source]);
    const run = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(binding)}).complete([]).catch((e) => { console.error(e.message); process.exit(3); })`], {
      env: { ...process.env, AICHAT_LIB: lib }, encoding: 'utf8',
    });
    return run.stderr;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a library that lays out a struct differently is refused by name', () => {
  const err = loadAgainst(description(abi.VERSION, (l) => { l.AichatEvent.size += 8; }));
  assert.match(err, /lays out AichatEvent differently/);
  const moved = loadAgainst(description(abi.VERSION, (l) => { l.AichatUsage.fields[1].offset += 8; }));
  assert.match(moved, /lays out AichatUsage differently/);
});

test('a library of another minor version is refused', () => {
  const [major, minor] = abi.VERSION.split('.').map(Number);
  const err = loadAgainst(description(`${major}.${minor + 1}.0`, () => {}));
  assert.match(err, /this binding was generated for/);
});

test('the same layouts and version load (the check is not what fails)', () => {
  const err = loadAgainst(description(abi.VERSION, () => {}));
  // The stand-in has no other function: loading gets past the check and fails on the first one.
  assert.doesNotMatch(err, /lays out|generated for/);
  assert.match(err, /aichat_/);
});

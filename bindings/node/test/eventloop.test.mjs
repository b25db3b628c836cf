// Streams share the process with the application: waiting streams hold no libuv pool thread
// (fs, dns.lookup, crypto and zlib keep their latency), and a stream whose iterator is dropped
// is freed once garbage-collected.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import dns from 'node:dns';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '../index.js';
import { startServer } from './server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
let server;
let client;
before(async () => {
  server = await startServer();
  client = new Client({ proxy: '', maxRetries: 0 });
});
after(() => {
  client.close();
  server.stop();
});

/** Median latency in ms of `op` (a promise-returning function) over `n` sequential runs. */
async function median(op, n = 7) {
  const times = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await op();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[Math.floor(n / 2)];
}

const poolOps = {
  'fs.readFile': () => fs.promises.readFile(fileURLToPath(import.meta.url)),
  'dns.lookup': () => dns.promises.lookup('localhost'),
  'crypto.pbkdf2': () => new Promise((resolve, reject) =>
    crypto.pbkdf2('secret', 'salt', 1000, 32, 'sha256', (e, k) => (e ? reject(e) : resolve(k)))),
};

test('200 open streams leave the libuv pool free: fs, dns and crypto latency stays as it was', async () => {
  const idle = {};
  for (const [name, op] of Object.entries(poolOps)) idle[name] = await median(op);

  const abort = new AbortController();
  let delivered = 0;
  const loops = Array.from({ length: 200 }, async () => {
    try {
      const req = { provider: 'openai', stream: true, baseUrl: `${server.fault('interval=200')}/v1`,
        messages: [{ role: 'user', content: 'a slow answer of many words that keeps its stream open for a while' }] };
      for await (const _ of client.createCompletion(req, { signal: abort.signal })) delivered++;
    } catch (e) {
      if (e.name !== 'AbortError') throw e;
    }
  });
  await new Promise((r) => setTimeout(r, 500));
  const busy = {};
  for (const [name, op] of Object.entries(poolOps)) busy[name] = await median(op);
  const deliveredWhileMeasuring = delivered;
  abort.abort();
  await Promise.all(loops);

  for (const name of Object.keys(poolOps)) {
    // "Within a few milliseconds": the margin is for a loaded 2-core machine; a held pool
    // made these hundreds of milliseconds.
    assert.ok(busy[name] < idle[name] + 25,
      `${name}: ${busy[name].toFixed(1)} ms with 200 streams open, ${idle[name].toFixed(1)} ms with none`);
  }
  assert.ok(deliveredWhileMeasuring > 200, `only ${deliveredWhileMeasuring} chunks arrived while measuring`);
});

test('dropped iterators are cancelled and freed once collected, and close() then frees the client', async () => {
  const child = spawn(process.execPath, ['--expose-gc', path.join(here, 'fixtures', 'dropped.mjs'), server.url],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (b) => { out += b; });
  const code = await new Promise((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, out);
  const result = JSON.parse(out.trim().split('\n').pop());
  assert.deepEqual(result.left, { sockets: 0, threads: 0, fds: 0 }, JSON.stringify(result));
  assert.equal(result.clientFreed, 1, 'close() did not free the client');
});

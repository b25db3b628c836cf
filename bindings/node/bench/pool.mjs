// What 200 open, slow streams cost the rest of a Node process (make bench): the median latency of
// calls that use libuv's thread pool (fs.readFile, dns.lookup, crypto.pbkdf2) with no stream
// open and with 200 open, and the delay from the server writing a chunk to the `for await` loop
// receiving it (the chunks carry the server's clock; both ends are on this machine).
import crypto from 'node:crypto';
import dns from 'node:dns';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client } from '../index.js';
import { startServer } from '../test/server.mjs';

const STREAMS = Number(process.env.AICHAT_BENCH_STREAMS ?? 200);
const server = await startServer();
const client = new Client({ proxy: '', maxRetries: 0 });
const ops = {
  'fs.readFile': () => fs.promises.readFile(fileURLToPath(import.meta.url)),
  'dns.lookup': () => dns.promises.lookup('localhost'),
  'crypto.pbkdf2': () => new Promise((resolve, reject) =>
    crypto.pbkdf2('secret', 'salt', 1000, 32, 'sha256', (e, k) => (e ? reject(e) : resolve(k)))),
};

async function medians(rounds = 15) {
  const out = {};
  for (const [name, op] of Object.entries(ops)) {
    const times = [];
    for (let i = 0; i < rounds; i++) {
      const t = performance.now();
      await op();
      times.push(performance.now() - t);
    }
    out[name] = times.sort((a, b) => a - b)[Math.floor(rounds / 2)];
  }
  return out;
}

const idle = await medians();
const delays = [];
const req = { provider: 'openai', stream: true, messages: [], baseUrl: `${server.fault('chunks=40,interval=100,stamp')}/v1` };
const streams = Array.from({ length: STREAMS }, async () => {
  for await (const stamp of client.createCompletion(req)) {
    delays.push((performance.timeOrigin + performance.now()) * 1000 - Number(stamp));
  }
});
await new Promise((r) => setTimeout(r, 1000));
const busy = await medians();
await Promise.all(streams);
delays.sort((a, b) => a - b);
const pct = (p) => delays[Math.min(delays.length - 1, Math.floor((p / 100) * delays.length))] / 1000;
for (const name of Object.keys(ops)) {
  console.log(`${name}: ${idle[name].toFixed(2)} ms idle, ${busy[name].toFixed(2)} ms with ${STREAMS} streams`);
}
console.log(`chunk delay with ${STREAMS} streams: p50 ${pct(50).toFixed(2)} ms, p99 ${pct(99).toFixed(2)} ms (${delays.length} chunks)`);
client.close();
server.stop();

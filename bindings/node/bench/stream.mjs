// Chunks per second delivered to a `for await` loop for a long, fast stream from the local test
// server (npm run bench). Prints the median of several rounds beside the same stream counted
// by a plain HTTP client in the same process, as a baseline.
import http from 'node:http';
import { Client } from '../index.js';
import { startServer } from '../test/server.mjs';

const CHUNKS = Number(process.env.AICHAT_BENCH_CHUNKS ?? 200_000);
const ROUNDS = Number(process.env.AICHAT_BENCH_ROUNDS ?? 5);
const server = await startServer();
const client = new Client({ proxy: '' });
const body = JSON.stringify({ messages: [], stream: true });
// AICHAT_BENCH_OPENAI_URL: an OpenAI-compatible base URL instead (make bench: nginx serving a
// recorded stream of real chunk shapes).
const url = process.env.AICHAT_BENCH_OPENAI_URL ?? `${server.fault(`chunks=${CHUNKS}`)}/v1`;

async function viaLibrary() {
  let n = 0;
  for await (const _ of client.createCompletion({ provider: 'openai', stream: true, messages: [], baseUrl: url })) n++;
  if (n !== CHUNKS) throw new Error(`${n} chunks`);
}

/** Counts `data: ` lines with node:http: the cost of merely receiving the bytes. */
function viaRawHttp() {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let lines = 0;
      res.on('data', (b) => { for (let i = b.indexOf('data: '); i !== -1; i = b.indexOf('data: ', i + 6)) lines++; });
      res.on('end', () => resolve(lines));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function rate(fn) {
  const rates = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t = performance.now();
    await fn();
    rates.push(CHUNKS / ((performance.now() - t) / 1000));
  }
  return rates.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)];
}

const lib = await rate(viaLibrary);
const raw = await rate(viaRawHttp);
console.log(`node for-await: ${Math.round(lib).toLocaleString('en')} chunks/s (median of ${ROUNDS})`);
console.log(`node:http counting data lines (baseline): ${Math.round(raw).toLocaleString('en')} events/s`);
console.log(`ratio: ${(lib / raw).toFixed(2)}x; target: at least 100,000 chunks/s`);
client.close();
server.stop();

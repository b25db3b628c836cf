// What N concurrent streams cost the Node binding: OS threads added, resident memory per
// stream, and the delay from the server writing a chunk to a `for await` loop receiving it.
// Prints one line:
//
//   lang=node n=2000 completed=2000 threads_added=0 kb_per_stream=23.4 p50_ms=0.8 p99_ms=12.3 errors=0
//
//   ulimit -n 20000; AICHAT_BENCH_N=2000 AICHAT_BENCH_BASE_URL=http://127.0.0.1:PORT node bench/concurrency.mjs
//
// Node cannot set its own open-file limit from JavaScript: run it under `ulimit -n` (a stream
// holds a socket in the library and a duplicate of its descriptor here; Node itself raises
// the soft limit to the hard one at startup, where the platform lets it). Without
// AICHAT_BENCH_BASE_URL it starts the local test server itself, as stream.mjs does. Each stream
// is 10 chunks one second apart, each chunk the server's write time in microseconds since the
// Unix epoch (the test server's `stamp` fault).
import fs from 'node:fs';
import { Client } from '../index.js';
import { startServer } from '../test/server.mjs';

const CHUNKS = 10;
const SAMPLE_AT = [1, 2, 5]; // sample threads and RSS once every stream has this many chunks (or ended)
const N = Number(process.env.AICHAT_BENCH_N ?? 2000);

const threads = () => fs.readdirSync('/proc/self/task').length;
function rssKb() {
  const m = /^VmRSS:\s+(\d+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  if (!m) throw new Error('no VmRSS in /proc/self/status');
  return Number(m[1]);
}
// Wall clock in microseconds since the epoch: the origin's epoch time plus the monotonic offset.
const nowUs = () => Math.round((performance.timeOrigin + performance.now()) * 1000);
const percentile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.round(p * (sorted.length - 1)))] : NaN);

let server = null;
let base = process.env.AICHAT_BENCH_BASE_URL;
if (!base) {
  server = await startServer();
  base = server.url;
}
const req = {
  provider: 'openai',
  stream: true,
  proxy: '',
  baseUrl: `${base}/fault/stamp,delay=2000,interval=1000,chunks=${CHUNKS}/v1`,
  messages: [{ role: 'user', content: 'Hi' }],
};
const client = new Client();

// Warm-up: the library's I/O thread and one-time allocations belong to the baseline.
let warm = 0;
for await (const _ of client.createCompletion(req)) warm++;
if (warm !== CHUNKS) throw new Error(`warm-up stream: ${warm} chunks of ${CHUNKS}`);
const baseThreads = threads();
const baseRss = rssKb();

const reached = new Array(CHUNKS + 1).fill(0); // reached[k]: streams that received k chunks or ended before
let peakThreads = baseThreads;
let peakRss = baseRss;
function advance(k) {
  reached[k]++;
  if (SAMPLE_AT.includes(k) && reached[k] === N) {
    peakThreads = Math.max(peakThreads, threads());
    peakRss = Math.max(peakRss, rssKb());
  }
}

const delays = [];
const errors = [];
let completed = 0;
async function one() {
  let got = 0;
  try {
    for await (const chunk of client.createCompletion(req)) {
      delays.push(nowUs() - Number(chunk));
      got++;
      if (got <= CHUNKS) advance(got);
    }
    if (got === CHUNKS) completed++;
  } catch (e) {
    errors.push(e);
  }
  for (let k = got + 1; k <= CHUNKS; k++) advance(k);
}

await Promise.all(Array.from({ length: N }, one));
client.close();
server?.stop();
if (errors.length) console.error(`${errors.length} streams failed, the first: ${errors[0]?.stack ?? errors[0]}`);
delays.sort((a, b) => a - b);
console.log(`lang=node n=${N} completed=${completed} threads_added=${peakThreads - baseThreads} ` +
  `kb_per_stream=${((peakRss - baseRss) / N).toFixed(1)} p50_ms=${(percentile(delays, 0.5) / 1000).toFixed(1)} ` +
  `p99_ms=${(percentile(delays, 0.99) / 1000).toFixed(1)} errors=${errors.length}`);

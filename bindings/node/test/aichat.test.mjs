import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import net from 'node:net';
import { Client, AichatError, createCompletion, complete } from '../index.js';
import { startServer } from './server.mjs';

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

const hi = [{ role: 'user', content: 'Hi' }];
const openai = (spec, messages = hi, extra = {}) => ({
  provider: 'openai', stream: true, messages, baseUrl: `${spec ? server.fault(spec) : server.url}/v1`, ...extra,
});
const aichat = (spec, extra = {}) => ({ messages: hi, baseUrl: spec ? server.fault(spec) : server.url, ...extra });

async function collect(iterable) {
  const chunks = [];
  for await (const chunk of iterable) chunks.push(chunk);
  return chunks;
}

test('streaming yields each chunk in order', async () => {
  const chunks = await collect(client.createCompletion(openai('', [{ role: 'user', content: 'one two' }])));
  assert.deepEqual(chunks, ['You ', 'said: ', 'one ', 'two']);
});

test('many chunks arrive in order, none lost or merged', async () => {
  const chunks = await collect(client.createCompletion(openai('chunks=20000')));
  assert.equal(chunks.length, 20000);
  chunks.forEach((c, i) => assert.equal(c, `tok${i} `));
});

test('complete returns the whole text; a message array is a request', async () => {
  assert.equal(await client.complete(aichat('')), 'You said: Hi');
  const c = new Client({ baseUrl: server.url, proxy: '' });
  assert.equal(await c.complete(hi), 'You said: Hi');
  c.close();
});

test('package-level functions use a default client', async () => {
  assert.equal(await complete(openai('')), 'You said: Hi');
  assert.deepEqual(await collect(createCompletion(openai(''))), ['You ', 'said: ', 'Hi']);
});

test('each error code maps to AichatError', async () => {
  const closed = await new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
  const cases = [
    [aichat('status=503'), 'AICHAT_ERROR_HTTP_STATUS', 5, 503],
    [aichat('response-false'), 'AICHAT_ERROR_SERVER', 7, 200],
    [aichat('not-json'), 'AICHAT_ERROR_PROTOCOL', 6, 200],
    [aichat('truncate'), 'AICHAT_ERROR_IO', 9, 200],
    [aichat('silence', { idleTimeoutMs: 200 }), 'AICHAT_ERROR_TIMEOUT', 4, 0],
    [aichat('size=5000', { maxResponseBytes: 1000 }), 'AICHAT_ERROR_TOO_LARGE', 10, 200],
    [{ messages: hi, baseUrl: `http://127.0.0.1:${closed}` }, 'AICHAT_ERROR_CONNECT', 3, 0],
    [{ messages: hi, provider: 'bard' }, 'AICHAT_ERROR_INVALID_REQUEST', 2, 0],
    [{ messages: hi, modle: 'typo' }, 'AICHAT_ERROR_INVALID_REQUEST', 2, 0],
    [openai('chunks=4,cut'), 'AICHAT_ERROR_PROTOCOL', 6, 200],
    [openai('error-event'), 'AICHAT_ERROR_SERVER', 7, 200],
  ];
  for (const [req, code, status, httpStatus] of cases) {
    await assert.rejects(client.complete(req), (e) => {
      assert.ok(e instanceof AichatError, `${code}: ${e}`);
      assert.equal(e.code, code);
      assert.equal(e.status, status);
      assert.equal(e.httpStatus, httpStatus, code);
      assert.ok(e.message.length > 0);
      return true;
    });
  }
});

test('camelCase options reach the library under their C names', async () => {
  await assert.rejects(client.complete({ ...aichat(''), caFile: '/nonexistent.pem' }), /invalid `ca_file`/);
  await assert.rejects(client.complete({ ...aichat(''), idleTimeoutMs: 0 }), /`idle_timeout_ms` must be at least 1/);
});

test('an unknown option is named by the library', async () => {
  await assert.rejects(client.complete({ messages: hi, modle: 'x' }), /unknown field `modle`/);
});

test('abort stops a silent request promptly with the signal reason', async () => {
  const controller = new AbortController();
  let abortedAt = 0;
  setTimeout(() => { abortedAt = performance.now(); controller.abort(); }, 300);
  await assert.rejects(client.complete(aichat('silence'), { signal: controller.signal }), (e) => {
    assert.equal(e.name, 'AbortError');
    return true;
  });
  const late = performance.now() - abortedAt;
  // The contract is 100 ms (a few ms here); the margin is for a loaded machine.
  assert.ok(late < 500, `returned ${late} ms after abort`);
});

test('abort rejects with a custom reason; an aborted signal fails at once', async () => {
  const controller = new AbortController();
  const reason = new Error('user left');
  setTimeout(() => controller.abort(reason), 50);
  await assert.rejects(client.complete(aichat('silence'), { signal: controller.signal }), (e) => e === reason);
  await assert.rejects(client.complete(aichat(''), { signal: AbortSignal.abort() }), { name: 'AbortError' });
});

test('break stops the request, then the client takes a new one', async () => {
  let n = 0;
  for await (const chunk of client.createCompletion(openai('chunks=100000'))) {
    assert.equal(chunk, `tok${n} `);
    if (++n === 3) break;
  }
  assert.equal(n, 3);
  assert.equal(await client.complete(openai('')), 'You said: Hi');
});

test('20 concurrent requests', async () => {
  const answers = await Promise.all(
    Array.from({ length: 20 }, (_, i) => client.complete(openai('', [{ role: 'user', content: `n${i}` }]))),
  );
  answers.forEach((a, i) => assert.equal(a, `You said: n${i}`));
});

test('the event loop keeps running during a stream', async () => {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  const chunks = await collect(client.createCompletion(openai('chunks=20,interval=25')));
  clearInterval(timer);
  assert.equal(chunks.length, 20);
  // About 475 ms of streaming: a blocked loop would have let no 10 ms timer fire in between.
  assert.ok(ticks >= 10, `${ticks} ticks`);
});

test('an exception in the loop body propagates and stops the request', async () => {
  const boom = new Error('boom');
  await assert.rejects(async () => {
    for await (const _ of client.createCompletion(openai('chunks=1000'))) throw boom;
  }, (e) => e === boom);
  assert.equal(await client.complete(openai('')), 'You said: Hi');
});

test('a 1 MB request goes through (no stack overflow on the worker)', async () => {
  const content = 'x'.repeat(1024 * 1024);
  const text = await client.complete({ ...aichat(''), messages: [{ role: 'user', content }] });
  assert.equal(text, `You said: ${content}`);
});

test('close is idempotent and later calls fail cleanly', async () => {
  const c = new Client({ baseUrl: server.url, proxy: '' });
  c.close();
  c.close();
  await assert.rejects(c.complete(hi), { code: 'AICHAT_ERROR_INVALID_ARGUMENT' });
});

test('closing during a stream lets it finish', async () => {
  const c = new Client({ proxy: '' });
  const chunks = [];
  for await (const chunk of c.createCompletion(openai('chunks=50'))) {
    chunks.push(chunk);
    if (chunks.length === 1) c.close();
  }
  assert.equal(chunks.length, 50);
});

test('bad client options throw AichatError', () => {
  assert.throws(() => new Client({ provider: 'bard' }), { code: 'AICHAT_ERROR_INVALID_REQUEST' });
});

test('CommonJS require gives the same objects', () => {
  const cjs = createRequire(import.meta.url)('../index.cjs');
  assert.equal(cjs.AichatError, AichatError);
  assert.equal(cjs.Client, Client);
});

test('every setting of the table is an option: tlsRoots and user reach the library', async () => {
  assert.throws(() => new Client({ tlsRoots: 'mine' }), (e) => e.code === 'AICHAT_ERROR_INVALID_REQUEST' && /`tls_roots` is "mine"/.test(e.message));
  const c = new Client({ tlsRoots: 'system', proxy: '' });
  try {
    await assert.rejects(c.complete({ messages: hi, baseUrl: server.url, user: 'u-1' }),
      (e) => /`user` is not supported by the aichat provider/.test(e.message));
  } finally {
    c.close();
  }
});

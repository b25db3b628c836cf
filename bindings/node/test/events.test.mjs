import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client, AichatError, events, run } from '../index.js';
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
const tools = [{
  type: 'function',
  function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
}];
const openai = (spec, messages = hi, extra = {}) => ({
  provider: 'openai', stream: true, messages, baseUrl: `${spec ? server.fault(spec) : server.url}/v1`, ...extra,
});

async function collect(iterable) {
  const items = [];
  for await (const item of iterable) items.push(item);
  return items;
}

test('events come in order: response, text, finish, usage, message', async () => {
  const evs = await collect(client.events(openai('')));
  assert.deepEqual(evs[0], { type: 'response', id: 'chatcmpl-aichat-test', model: 'gpt-3.5-turbo', requestId: 'req-aichat-test' });
  assert.equal(evs.filter((e) => e.type === 'text').map((e) => e.text).join(''), 'You said: Hi');
  const finish = evs.find((e) => e.type === 'finish');
  assert.deepEqual(finish, { type: 'finish', choice: 0, reason: 'stop', rawReason: 'stop' });
  assert.deepEqual(evs.at(-2), {
    type: 'usage',
    usage: { promptTokens: 9, completionTokens: 12, totalTokens: 21, cachedTokens: 3, reasoningTokens: 4 },
  });
  assert.equal(evs.at(-1).type, 'message');
  assert.deepEqual(evs.at(-1).message, { role: 'assistant', content: 'You said: Hi' });
});

test('a streamed tool call: its call, then its argument fragments', async () => {
  const evs = await collect(client.events(openai('', hi, { tools })));
  const call = evs.find((e) => e.type === 'tool_call');
  assert.deepEqual(call, { type: 'tool_call', choice: 0, index: 0, id: 'call_aichat_0', name: 'get_weather' });
  const args = evs.filter((e) => e.type === 'tool_arguments');
  assert.ok(args.length >= 2);
  assert.equal(args.map((e) => e.text).join(''), '{"city":"Hi"}');
  assert.ok(evs.indexOf(call) < evs.indexOf(args[0]));
});

test('run gathers the whole answer, and the tool round trip works', async () => {
  const req = openai('', [{ role: 'user', content: 'Paris' }], { tools });
  const first = await client.run(req);
  assert.equal(first.finishReason, 'tool_calls');
  assert.equal(first.requestId, 'req-aichat-test');
  assert.deepEqual(first.toolCalls, [
    { id: 'call_aichat_0', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
  ]);
  req.messages.push(first.message, { role: 'tool', tool_call_id: first.toolCalls[0].id, content: 'sunny' });
  const second = await client.run(req);
  assert.equal(second.text, 'The tool returned: sunny');
  assert.equal(second.usage.totalTokens, 21);
});

test('reasoning and refusal', async () => {
  const thought = await run(openai('reasoning', hi, { proxy: '' }));
  assert.equal(thought.reasoning, 'The user wrote something; I will quote it back.');
  assert.equal(thought.message.reasoning_content, thought.reasoning);
  const refused = await client.run(openai('refusal'));
  assert.equal(refused.refusal, "I can't help with that.");
  assert.equal(refused.message.content, null);
});

test('parallel calls keep their arguments apart; n choices are told apart', async () => {
  const both = await client.run(openai('parallel-tools', hi, { tools: [...tools, tools[0]] }));
  assert.equal(both.toolCalls.length, 2);
  for (const call of both.toolCalls) assert.equal(call.function.arguments, '{"city":"Hi"}');
  const evs = await collect(client.events(openai('', hi, { n: 2 })));
  const text = (choice) => evs.filter((e) => e.type === 'text' && e.choice === choice).map((e) => e.text).join('');
  assert.equal(text(0), 'You said: Hi');
  assert.equal(text(1), 'You said: Hi');
  assert.deepEqual(evs.slice(-2).map((e) => [e.type, e.choice]), [['message', 0], ['message', 1]]);
});

test('run returns the library\'s whole answer: every choice, tool calls, reasoning, usage', async () => {
  const r = await client.run(openai('reasoning,parallel-tools', hi, { tools, n: 2 }));
  assert.equal(r.choices.length, 2);
  for (const [i, c] of r.choices.entries()) {
    assert.equal(c.index, i);
    assert.equal(c.reasoning, 'The user wrote something; I will quote it back.');
    assert.equal(c.toolCalls.length, 2);
    assert.deepEqual(c.message.tool_calls, c.toolCalls);
    assert.deepEqual([c.finishReason, c.finishReasonRaw], ['tool_calls', 'tool_calls']);
  }
  assert.deepEqual(r.toolCalls, r.choices[0].toolCalls);
  assert.deepEqual(r.usage, { promptTokens: 9, completionTokens: 12, totalTokens: 21, cachedTokens: 3, reasoningTokens: 4 });
  assert.deepEqual([r.responseId, r.requestId], ['chatcmpl-aichat-test', 'req-aichat-test']);

  // Asked for in events(), the result comes last, after the messages.
  const evs = await collect(client.events(openai('', hi, { n: 2, result: true })));
  assert.deepEqual(evs.slice(-3).map((e) => e.type), ['message', 'message', 'result']);
  const last = evs.at(-1);
  assert.equal(last.result.choices[1].text, 'You said: Hi');
  assert.equal(JSON.parse(last.json).choices[1].message.content, 'You said: Hi');
  assert.equal((await collect(client.events(openai('')))).at(-1).type, 'message', 'no result unless asked');

  const plain = await client.run(openai('', hi, { includeUsage: false }));
  assert.equal(plain.usage, null);
  assert.deepEqual([plain.text, plain.toolCalls, plain.refusal], ['You said: Hi', [], '']);
});

test('new fields reach the server under their wire names', async () => {
  const text = await client.complete(openai('echo', hi, {
    tools, toolChoice: 'required', parallelToolCalls: false, stop: ['END'], seed: 3, reasoningEffort: 'low',
    responseFormat: { type: 'json_object' }, includeUsage: false,
  }));
  const { body } = JSON.parse(text);
  assert.equal(body.tool_choice, 'required');
  assert.equal(body.parallel_tool_calls, false);
  assert.deepEqual(body.stop, ['END']);
  assert.equal(body.seed, 3);
  assert.equal(body.reasoning_effort, 'low');
  assert.deepEqual(body.response_format, { type: 'json_object' });
  assert.equal(body.stream_options, undefined);
});

test('break stops the request; abort and failures reject', async () => {
  let n = 0;
  for await (const _ of client.events(openai('chunks=100000'))) if (++n === 3) break;
  assert.equal(n, 3);
  await assert.rejects(collect(client.events(openai('error-event'))), (e) => e instanceof AichatError && e.code === 'AICHAT_ERROR_SERVER');
  const controller = new AbortController();
  const pending = collect(client.events(openai('silence'), { signal: controller.signal }));
  setTimeout(() => controller.abort(new Error('stop now')), 50);
  await assert.rejects(pending, /stop now/);
});

test('package-level events use the default client', async () => {
  const evs = await collect(events(openai('', hi, { proxy: '' })));
  assert.equal(evs[0].type, 'response');
});

test('every protocol gives the same result', async () => {
  // The server's usage is 9 + 12 = 21 in every protocol but Bedrock's, whose prompt count adds
  // the cache reads and writes to the input (6 + 3 + 2 = 11): 11 + 12 = 23.
  for (const [provider, path, total] of [['openai', '/v1', 21], ['anthropic', '/v1', 21], ['ollama', '', 21],
    ['responses', '/v1', 21], ['groq', '/v1', 21], ['gemini', '/v1beta', 21], ['bedrock', '', 23]]) {
    // Bedrock wants credentials: a bearer token here (the server takes any), so the
    // environment's AWS settings play no part.
    const r = await client.run({
      provider, model: 'm', stream: true, messages: hi, baseUrl: `${server.url}${path}`, apiKey: 'test-key',
    });
    assert.equal(r.text, 'You said: Hi', provider);
    assert.equal(r.finishReason, 'stop', provider);
    assert.equal(r.usage.totalTokens, total, provider);
  }
});

// The test server's SigV4 credentials (testserver/src/sigv4.rs).
const BEDROCK_KEY_ID = 'AKIDTESTBEDROCK';
const BEDROCK_SECRET = 'test/secret/KEY+1';

// Runs `body` with SigV4 keys and a region in the process environment (which a client reads
// when it is made), then puts every variable back as it was, or deletes it. The variables that
// would change what a client does with the keys are set empty, which the library takes as
// unset: a Bedrock API key (AWS_BEARER_TOKEN_BEDROCK) would be sent instead of a signature, and
// a session token of the machine's would be signed with the test key. With the keys in the
// environment, no profile or shared file is read.
async function withAwsKeys(keys, body) {
  const vars = {
    AWS_BEARER_TOKEN_BEDROCK: '', AWS_SESSION_TOKEN: '', AWS_SECURITY_TOKEN: '', AWS_REGION: 'eu-west-3', ...keys,
  };
  const saved = Object.fromEntries(Object.keys(vars).map((name) => [name, process.env[name]]));
  try {
    Object.assign(process.env, vars);
    return await body();
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

// The header `name` of each request the test server counted under `key` ('' where it had none).
async function seenHeader(key, name) {
  const { requests } = await (await fetch(`${server.url}/seen/${key}`)).json();
  return requests.map((r) => r.headers.find(([n]) => n === name)?.[1] ?? '');
}

test('a bedrock tool round trip, not streamed, signed with SigV4 keys from the environment', async () => {
  const keys = { AWS_ACCESS_KEY_ID: BEDROCK_KEY_ID, AWS_SECRET_ACCESS_KEY: BEDROCK_SECRET };
  const awsNow = () => ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_BEARER_TOKEN_BEDROCK'].map((name) => process.env[name]);
  const machines = awsNow();
  const signed = await withAwsKeys(keys, () => new Client({ proxy: '', maxRetries: 0 }));
  const wrongSecret = 'not/the/right/SECRET+9';
  const wronglySigned = await withAwsKeys({ ...keys, AWS_SECRET_ACCESS_KEY: wrongSecret },
    () => new Client({ proxy: '', maxRetries: 0 }));
  // The clients keep what they read; the environment is the machine's again.
  assert.deepEqual(awsNow(), machines);
  try {
    const timeTool = [{
      type: 'function',
      function: { name: 'get_time', description: 'The time', parameters: { type: 'object', properties: { tz: { type: 'string' } } } },
    }];
    const req = {
      provider: 'bedrock', model: 'amazon.nova-lite-v1:0', stream: false, baseUrl: server.fault('key=node-sigv4'), tools: timeTool,
      messages: [{ role: 'user', content: 'What time is it in Paris?' }],
    };
    const first = await signed.run(req);
    assert.equal(first.finishReason, 'tool_calls');
    assert.deepEqual(first.toolCalls, [
      { id: 'tooluse_aichatTest0', type: 'function', function: { name: 'get_time', arguments: '{"tz":"What time is it in Paris?"}' } },
    ]);
    assert.equal(first.message.role, 'assistant');
    assert.deepEqual(first.message.tool_calls, first.toolCalls);
    assert.deepEqual(first.usage, { promptTokens: 11, completionTokens: 12, totalTokens: 23, cachedTokens: 3, reasoningTokens: null });

    req.messages.push(first.message, { role: 'tool', tool_call_id: 'tooluse_aichatTest0', content: '10:00' });
    const second = await signed.run(req);
    assert.equal(second.text, 'The tool returned: 10:00');
    assert.equal(second.finishReason, 'stop');

    // Both requests were signed with the environment's key, for its region.
    const auths = await seenHeader('node-sigv4', 'authorization');
    assert.equal(auths.length, 2);
    for (const auth of auths) {
      assert.ok(auth.startsWith(`AWS4-HMAC-SHA256 Credential=${BEDROCK_KEY_ID}/`), auth);
      assert.ok(auth.includes('/eu-west-3/bedrock/aws4_request'), auth);
    }

    // The client made with a wrong secret signs with it: the server refuses the signature, and
    // the error names AWS's error type but not the secret.
    await assert.rejects(wronglySigned.run(req), (e) => {
      assert.ok(e instanceof AichatError);
      assert.equal(e.code, 'AICHAT_ERROR_HTTP_STATUS');
      assert.equal(e.httpStatus, 403);
      assert.match(e.message, /InvalidSignatureException/);
      assert.ok(!e.message.includes(wrongSecret), e.message);
      return true;
    });
  } finally {
    signed.close();
    wronglySigned.close();
  }
});

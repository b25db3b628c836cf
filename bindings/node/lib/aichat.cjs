'use strict';
// The Node binding: requests become the library's JSON, its chunks and events async iterators
// (lib/stream.cjs: driven by the event loop, never by a pool thread), its status codes
// AichatError.

const { load } = require('./native.cjs');
const { EVENT_KINDS, STATUS, WIRE_NAMES } = require('./abi.cjs');
const { StreamCore, StreamIterator } = require('./stream.cjs');

class AichatError extends Error {
  constructor(status, code, message, httpStatus) {
    super(message);
    this.name = 'AichatError';
    /** The C name, e.g. 'AICHAT_ERROR_TIMEOUT'. */
    this.code = code;
    /** The C status number. */
    this.status = status;
    /** The HTTP status of the answer behind the error, 0 when none arrived. */
    this.httpStatus = httpStatus;
  }
}

/** Converts and frees a native error. */
function takeError(native, error) {
  if (!error) {
    return new AichatError(STATUS.AICHAT_ERROR_INTERNAL, 'AICHAT_ERROR_INTERNAL', 'the library failed without an error', 0);
  }
  try {
    const status = native.errorCode(error);
    return new AichatError(status, native.statusName(status), native.errorMessage(error), native.errorHttpStatus(error));
  } finally {
    native.errorFree(error);
  }
}

/** camelCase option names map to the C schema's (abi.WIRE_NAMES, generated from the settings
 * table); other keys pass through for the library to judge. */
function toWire(fields) {
  const wire = {};
  for (const [key, value] of Object.entries(fields ?? {})) {
    if (value !== undefined) wire[WIRE_NAMES[key] ?? key] = value;
  }
  return wire;
}

function requestJson(req) {
  return JSON.stringify(Array.isArray(req) ? { messages: req } : toWire(req));
}

/** How a stream is opened and pulled: for its text, or for its events. */
const TEXT = { open: 'streamOpen', next: 'streamNext', decode: decodeBatch, error: takeError };
const EVENTS = { open: 'streamOpenEvents', next: 'streamNextEvents', decode: decodeEvents, error: takeError };

/** The event kinds' names (AichatEventKind, generated), as the `type` of the objects events() yields. */
const EVENT_TYPES = EVENT_KINDS;

/** Token counts with null where the server did not say (-1 in C). */
function usageOf(u) {
  const n = (v) => (Number(v) < 0 ? null : Number(v));
  return {
    promptTokens: n(u.prompt_tokens), completionTokens: n(u.completion_tokens), totalTokens: n(u.total_tokens),
    cachedTokens: n(u.cached_tokens), reasoningTokens: n(u.reasoning_tokens),
  };
}

/** RESULT's JSON (the README's "Events: the whole answer") as run() returns it: camelCase, choice 0's fields at the top. */
function resultOf(w) {
  const usage = w.usage && {
    promptTokens: w.usage.prompt_tokens, completionTokens: w.usage.completion_tokens,
    totalTokens: w.usage.total_tokens, cachedTokens: w.usage.cached_tokens, reasoningTokens: w.usage.reasoning_tokens,
  };
  const choices = w.choices.map((c) => ({
    index: c.index, text: c.text, reasoning: c.reasoning, refusal: c.refusal, toolCalls: c.tool_calls,
    finishReason: c.finish_reason, finishReasonRaw: c.finish_reason_raw, message: c.message,
  }));
  const first = choices[0];
  return {
    text: first.text, reasoning: first.reasoning, refusal: first.refusal, toolCalls: first.toolCalls,
    finishReason: first.finishReason, usage, responseId: w.id, model: w.model, requestId: w.request_id,
    message: first.message, choices,
  };
}

/** The events of one batch as plain objects (valid until the next call: decode at once). */
function decodeEvents(native, out) {
  const count = Number(out.count);
  if (count === 0) return [];
  const raw = native.decode(out.items, 'AichatEvent', count);
  const events = [];
  for (const e of raw) {
    const type = EVENT_TYPES[e.kind];
    if (type === undefined) continue; // a kind added by a newer library
    const len = Number(e.text_len);
    const text = len > 0 ? Buffer.from(native.view(e.text, len)).toString('utf8') : '';
    const choice = e.choice;
    switch (type) {
      case 'response': events.push({ type, id: e.id, model: e.name, requestId: text }); break;
      case 'tool_call': events.push({ type, choice, index: e.index, id: e.id, name: e.name }); break;
      case 'tool_arguments': events.push({ type, choice, index: e.index, text }); break;
      case 'finish': events.push({ type, choice, reason: text, rawReason: e.name }); break;
      case 'usage': events.push({ type, usage: usageOf(native.decode(e.usage, 'AichatUsage')) }); break;
      case 'message': events.push({ type, choice, message: JSON.parse(text), json: text }); break;
      case 'result': events.push({ type, result: resultOf(JSON.parse(text)), json: text }); break;
      default: events.push({ type, choice, text });
    }
  }
  return events;
}

/** The chunks of one batch (valid until the next call on its stream: decode at once). */
function decodeBatch(native, out) {
  const count = Number(out.count);
  const chunks = new Array(count);
  if (count > 0) {
    const text = Buffer.from(native.view(out.text, Number(out.text_len)));
    const ends = native.decode(out.ends, 'size_t', count);
    let start = 0;
    for (let i = 0; i < count; i++) {
      const end = Number(ends[i]);
      chunks[i] = text.toString('utf8', start, end);
      start = end;
    }
  }
  return chunks;
}

const registry = new FinalizationRegistry((release) => release());

class Client {
  #native;
  #handle;
  #active = 0;
  #closed = false;

  /** A client whose requests take unset fields from `options`. */
  constructor(options = {}) {
    this.#native = load();
    const error = [null];
    const handle = this.#native.clientNew(JSON.stringify(toWire(options)), error);
    if (!handle) throw takeError(this.#native, error[0]);
    this.#handle = handle;
    const native = this.#native;
    // A safety net only: close() is how a client should end.
    registry.register(this, () => native.clientFree(handle), this);
  }

  /** Streams one completion: each chunk as it arrives. `break` stops the request. */
  createCompletion(req, opts = {}) {
    const client = this;
    return { [Symbol.asyncIterator]: () => client.#open(TEXT, req, opts.signal) };
  }

  /** Streams one completion's events (plain objects with a `type`): 'response' first, 'message' last. */
  events(req, opts = {}) {
    const client = this;
    return { [Symbol.asyncIterator]: () => client.#open(EVENTS, req, opts.signal) };
  }

  /**
   * One completion's whole answer, as the library assembles it: the request goes with
   * `result: true` and the last event, 'result', is what is returned (choice 0's fields at the
   * top, every choice in `choices`).
   */
  async run(req, opts = {}) {
    const asked = Array.isArray(req) ? { messages: req, result: true } : { ...req, result: true };
    let result = null;
    for await (const e of this.events(asked, opts)) {
      if (e.type === 'result') result = e.result;
    }
    if (!result) throw new AichatError(11, 'AICHAT_ERROR_INTERNAL', 'the answer ended without its result event', 0);
    return result;
  }

  /** One completion's whole text. */
  async complete(req, opts = {}) {
    let text = '';
    for await (const chunk of this.createCompletion(req, opts)) text += chunk;
    return text;
  }

  /** Releases the native client once its running requests have ended. Idempotent. */
  close() {
    if (this.#closed) return;
    this.#closed = true;
    registry.unregister(this);
    if (this.#active === 0) this.#release();
  }

  #release() {
    if (this.#handle) {
      this.#native.clientFree(this.#handle);
      this.#handle = null;
    }
  }

  /** Opens a stream (the request starts now) and returns its iterator. */
  #open(kind, req, signal) {
    const native = this.#native;
    signal?.throwIfAborted();
    if (this.#closed) throw new AichatError(1, 'AICHAT_ERROR_INVALID_ARGUMENT', 'the client is closed', 0);
    const cancel = native.cancelNew();
    const error = [null];
    const stream = native[kind.open](this.#handle, requestJson(req), cancel, error);
    if (!stream) {
      native.cancelFree(cancel);
      throw takeError(native, error[0]);
    }
    this.#active++;
    const onRelease = () => {
      if (--this.#active === 0 && this.#closed) this.#release();
    };
    return new StreamIterator(new StreamCore(native, kind, stream, cancel, signal, onRelease));
  }
}

let defaultClient = null;
function getDefault() {
  defaultClient ??= new Client();
  return defaultClient;
}

/** Client.createCompletion on a process-wide client with library defaults. */
function createCompletion(req, opts) {
  return getDefault().createCompletion(req, opts);
}

/** Client.complete on a process-wide client with library defaults. */
function complete(req, opts) {
  return getDefault().complete(req, opts);
}

/** Client.events on a process-wide client with library defaults. */
function events(req, opts) {
  return getDefault().events(req, opts);
}

/** Client.run on a process-wide client with library defaults. */
function run(req, opts) {
  return getDefault().run(req, opts);
}

module.exports = { Client, AichatError, createCompletion, complete, events, run };

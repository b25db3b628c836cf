'use strict';
// A stream's async iterator, driven by the event loop: the native stream's descriptor
// (aichat_stream_fd) is watched by a net.Socket, and each wake-up pulls everything there is with
// aichat_stream_next(wait 0), which never blocks. No libuv pool thread is held while a stream
// waits, and no native call waits on the main thread.
//
// The native side lives in a StreamCore, which never references its iterator: an iterator that is
// dropped without break or return() is garbage-collected, and the FinalizationRegistry then
// cancels and frees its stream.

const net = require('node:net');

/** Frees a dropped iterator's stream. */
const dropped = new FinalizationRegistry((core) => core.release());

class StreamCore {
  constructor(native, kind, handle, cancel, signal, onRelease) {
    this.native = native;
    this.kind = kind;
    this.handle = handle;
    this.cancel = cancel;
    this.signal = signal;
    this.onRelease = onRelease;
    this.waiter = null;
    this.socket = null;
    this.onAbort = () => {
      native.cancelTrigger(cancel);
      this.wake();
    };
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Everything the stream has now: { items, finished }; throws AichatError on failure. */
  pull() {
    const out = {};
    const error = [null];
    const status = this.native[this.kind.next](this.handle, 0, out, error);
    if (status !== 0) throw this.kind.error(this.native, error[0]);
    return { items: this.kind.decode(this.native, out), finished: out.finished };
  }

  /** Resolves when the descriptor says there is something to pull (or on abort). */
  wait() {
    const socket = this.watch();
    socket.ref(); // an awaited stream keeps the process alive, an idle one does not
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  wake() {
    const waiter = this.waiter;
    this.waiter = null;
    this.socket?.unref();
    waiter?.();
  }

  /** The socket watching the descriptor, made on first wait. */
  watch() {
    if (this.socket) return this.socket;
    const error = [null];
    const fd = this.native.streamFd(this.handle, error);
    if (fd < 0) throw this.kind.error(this.native, error[0]);
    const own = this.native.dup(fd);
    if (own < 0) throw new Error('aichat: dup() of the stream descriptor failed');
    // What it reads is only the wake-up byte; the data comes from pull().
    this.socket = new net.Socket({ fd: own, readable: true, writable: false });
    this.socket.on('data', () => this.wake());
    this.socket.on('error', () => this.wake()); // pull() then reports the stream's own state
    this.socket.unref();
    return this.socket;
  }

  /** Stops the request if it still runs and frees everything. Idempotent. */
  release() {
    if (!this.handle) return;
    this.signal?.removeEventListener('abort', this.onAbort);
    this.socket?.destroy();
    this.socket = null;
    this.native.cancelTrigger(this.cancel);
    this.native.streamFree(this.handle);
    this.native.cancelFree(this.cancel);
    this.handle = null;
    this.wake();
    this.onRelease();
  }
}

/** The async iterator over one stream's chunks or events. */
class StreamIterator {
  #core;
  #items = [];
  #pos = 0;
  #done = false;
  #busy = Promise.resolve();

  constructor(core) {
    this.#core = core;
    dropped.register(this, core, this);
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  /** Calls are served one after another, as for an async generator. */
  next() {
    const result = this.#busy.then(() => this.#next());
    this.#busy = result.catch(() => {});
    return result;
  }

  async #next() {
    for (;;) {
      if (this.#pos < this.#items.length) {
        const value = this.#items[this.#pos];
        this.#items[this.#pos++] = undefined;
        return { value, done: false };
      }
      if (this.#done) return { value: undefined, done: true };
      const core = this.#core;
      try {
        core.signal?.throwIfAborted();
        const batch = core.pull();
        this.#items = batch.items;
        this.#pos = 0;
        if (batch.finished) this.#finish();
        else if (batch.items.length === 0) await core.wait();
      } catch (e) {
        this.#finish();
        throw e;
      }
    }
  }

  #finish() {
    this.#done = true;
    dropped.unregister(this);
    this.#core.release();
  }

  /** break, or an exception in a for-await body: stops the request. */
  async return(value) {
    this.#items = [];
    if (!this.#done) this.#finish();
    return { value, done: true };
  }

  async throw(error) {
    await this.return();
    throw error;
  }
}

module.exports = { StreamCore, StreamIterator };

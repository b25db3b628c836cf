'use strict';
// The C functions, declared once for koffi. Loaded on first use, so that importing the package
// never throws: a missing library is reported by the first call, with where it was looked for.

const fs = require('node:fs');
const path = require('node:path');
const koffi = require('koffi');

/**
 * Where the library is: AICHAT_LIB, else the copy the npm package carries for this platform
 * (prebuilds/<platform>-<arch>/, put there by `make dist`), else the repository's build, else the
 * system's paths.
 */
function libraryPath() {
  if (process.env.AICHAT_LIB) return process.env.AICHAT_LIB;
  const packaged = path.join(__dirname, '..', 'prebuilds', `${process.platform}-${process.arch}`, 'libaichat.so');
  if (fs.existsSync(packaged)) return packaged;
  const inRepo = path.join(__dirname, '..', '..', '..', 'target', 'release', 'libaichat.so');
  if (fs.existsSync(inRepo)) return inRepo;
  return 'libaichat.so.0'; // after `make install`: ld.so's search path
}

let api = null;

function load() {
  if (api) return api;
  const where = libraryPath();
  let lib;
  try {
    lib = koffi.load(where);
  } catch (e) {
    throw new Error(`aichat: cannot load the native library ${where} (build it with \`make build\`, ` +
      `install it with \`make install\`, or set AICHAT_LIB): ${e.message}`);
  }
  koffi.opaque('AichatClient');
  koffi.opaque('AichatCancel');
  koffi.opaque('AichatError');
  koffi.opaque('AichatStream');
  koffi.struct('AichatChunks', {
    text: 'const uint8_t *',
    text_len: 'size_t',
    ends: 'const size_t *',
    count: 'size_t',
    finished: 'bool',
  });
  koffi.struct('AichatUsage', {
    prompt_tokens: 'int64_t',
    completion_tokens: 'int64_t',
    total_tokens: 'int64_t',
    cached_tokens: 'int64_t',
    reasoning_tokens: 'int64_t',
  });
  koffi.struct('AichatEvent', {
    kind: 'int',
    choice: 'uint32_t',
    index: 'uint32_t',
    text: 'const uint8_t *',
    text_len: 'size_t',
    id: 'const char *',
    name: 'const char *',
    usage: 'const AichatUsage *',
  });
  koffi.struct('AichatEvents', {
    items: 'const AichatEvent *',
    count: 'size_t',
    finished: 'bool',
  });
  api = {
    statusName: lib.func('const char *aichat_status_name(int status)'),
    clientNew: lib.func('AichatClient *aichat_client_new(const char *options_json, _Out_ AichatError **error)'),
    clientFree: lib.func('void aichat_client_free(AichatClient *client)'),
    cancelNew: lib.func('AichatCancel *aichat_cancel_new()'),
    cancelTrigger: lib.func('void aichat_cancel_trigger(const AichatCancel *cancel)'),
    cancelFree: lib.func('void aichat_cancel_free(AichatCancel *cancel)'),
    streamOpen: lib.func('AichatStream *aichat_client_stream_open(const AichatClient *client, ' +
      'const char *request_json, const AichatCancel *cancel, _Out_ AichatError **error)'),
    // Called with wait_ms 0 only, when the stream's descriptor woke us: it never blocks.
    streamNext: lib.func('int aichat_stream_next(AichatStream *stream, uint32_t wait_ms, ' +
      '_Out_ AichatChunks *chunks, _Out_ AichatError **error)'),
    streamOpenEvents: lib.func('AichatStream *aichat_client_stream_open_events(const AichatClient *client, ' +
      'const char *request_json, const AichatCancel *cancel, _Out_ AichatError **error)'),
    // As streamNext.
    streamNextEvents: lib.func('int aichat_stream_next_events(AichatStream *stream, uint32_t wait_ms, ' +
      '_Out_ AichatEvents *events, _Out_ AichatError **error)'),
    streamFd: lib.func('int aichat_stream_fd(AichatStream *stream, _Out_ AichatError **error)'),
    streamFree: lib.func('void aichat_stream_free(AichatStream *stream)'),
    // The C library's dup(2), found among the process's symbols: the stream owns its descriptor,
    // while a net.Socket closes the one it is given, so it gets a duplicate.
    dup: koffi.load(null).func('int dup(int fd)'),
    errorCode: lib.func('int aichat_error_code(const AichatError *error)'),
    errorMessage: lib.func('const char *aichat_error_message(const AichatError *error)'),
    errorHttpStatus: lib.func('uint16_t aichat_error_http_status(const AichatError *error)'),
    errorFree: lib.func('void aichat_error_free(AichatError *error)'),
    view: koffi.view,
    decode: koffi.decode,
  };
  return api;
}

module.exports = { load, libraryPath };

'use strict';
// The C functions, declared once for koffi. Loaded on first use, so that importing the package
// never throws: a missing library is reported by the first call, with where it was looked for.

const fs = require('node:fs');
const path = require('node:path');
const koffi = require('koffi');
const abi = require('./abi.cjs');

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

/**
 * Refuses a library whose version (major.minor) or struct layouts differ from the ones this
 * binding was generated for: reading its structs would read garbage.
 */
function checkAbi(lib, where) {
  let desc;
  try {
    desc = JSON.parse(lib.func(abi.FUNCTIONS.aichat_abi_json)());
  } catch (e) {
    throw new Error(`aichat: ${where} does not describe its ABI (aichat_abi_json: ${e.message}); ` +
      `this binding needs libaichat ${abi.VERSION}`);
  }
  const minor = (v) => v.split('.').slice(0, 2).join('.');
  if (minor(desc.version) !== minor(abi.VERSION)) {
    throw new Error(`aichat: ${where} is version ${desc.version}; this binding was generated for ${abi.VERSION}`);
  }
  for (const [name, want] of Object.entries(abi.LAYOUTS)) {
    const got = desc.layouts?.[name];
    const same = got && got.size === want.size && got.fields.length === want.fields.length &&
      got.fields.every((f, i) => f.name === want.fields[i][0] && f.offset === want.fields[i][1] && f.size === want.fields[i][2]);
    if (!same) {
      throw new Error(`aichat: ${where} lays out ${name} differently from the header this binding was generated ` +
        `from (library ${desc.version}, binding ${abi.VERSION}): refusing to read its structs`);
    }
  }
}

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
  checkAbi(lib, where);
  // The struct layouts and prototypes are generated from the header (lib/abi.cjs), and were
  // just checked against the library's own: they are declared in header order.
  for (const [name, fields] of Object.entries(abi.STRUCTS)) koffi.struct(name, fields);
  const fn = (name) => lib.func(abi.FUNCTIONS[name]);
  api = {
    statusName: fn('aichat_status_name'),
    clientNew: fn('aichat_client_new'),
    clientFree: fn('aichat_client_free'),
    cancelNew: fn('aichat_cancel_new'),
    cancelTrigger: fn('aichat_cancel_trigger'),
    cancelFree: fn('aichat_cancel_free'),
    streamOpen: fn('aichat_client_stream_open'),
    // Called with wait_ms 0 only, when the stream's descriptor woke us: it never blocks.
    streamNext: fn('aichat_stream_next'),
    streamOpenEvents: fn('aichat_client_stream_open_events'),
    // As streamNext.
    streamNextEvents: fn('aichat_stream_next_events'),
    streamFd: fn('aichat_stream_fd'),
    streamFree: fn('aichat_stream_free'),
    // The C library's dup(2), found among the process's symbols: the stream owns its descriptor,
    // while a net.Socket closes the one it is given, so it gets a duplicate.
    dup: koffi.load(null).func('int dup(int fd)'),
    errorCode: fn('aichat_error_code'),
    errorMessage: fn('aichat_error_message'),
    errorHttpStatus: fn('aichat_error_http_status'),
    errorFree: fn('aichat_error_free'),
    view: koffi.view,
    decode: koffi.decode,
  };
  return api;
}

module.exports = { load, libraryPath };

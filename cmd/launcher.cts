#!/usr/bin/env node
// The `launcher` command's entry (the package's bin). CommonJS, so that it runs before
// anything has queued work on libuv's threadpool (loading an ES module does, and the pool's
// size is fixed when it starts): it makes the pool one thread larger than asked, because the
// launcher's fd watcher holds one thread for as long as it waits, that is for its whole life
// (bench/threadpool.mjs measures why; docs/footprint.md). It turns V8's optimizing
// compilers off (cmd/lean-v8.cts). Then it loads the ES entry, cmd/launcher.ts (compile
// cache, then the CLI).
import fs = require('node:fs');
import v8 = require('node:v8');
import lean = require('./lean-v8.cjs');

for (const flag of lean.leanV8Flags(process.execArgv)) v8.setFlagsFromString(flag);

/** libuv's pool size when UV_THREADPOOL_SIZE is unset. */
const LIBUV_DEFAULT_POOL = 4;

const asked = process.env.UV_THREADPOOL_SIZE;
const size = (Number.parseInt(asked ?? '', 10) || LIBUV_DEFAULT_POOL) + 1;
process.env.UV_THREADPOOL_SIZE = String(size);
fs.stat(__filename, () => {}); // the first pool work: libuv starts its threads now, with that size
// Services inherit the launcher's environment: they see what was asked, not the launcher's own size.
if (asked === undefined) delete process.env.UV_THREADPOOL_SIZE;
else process.env.UV_THREADPOOL_SIZE = asked;

void import('./launcher.js');

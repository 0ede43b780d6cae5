// What the launcher's fd watcher costs libuv's threadpool (issue "one owner per concern",
// item 8): its poll(2) is a koffi async call, an AsyncWorker that holds one of the pool's
// threads (4 by default, shared with fs, dns and crypto) for as long as it waits, which for
// the launcher is its whole life. `node bench/threadpool.mjs [--runs N]` (after `npm run
// build`) measures, in a fresh process per case: the pool threads left for fs, the latency of
// small fs calls, a batch of slow fs calls, and how late the watcher sees an fd become ready
// while slow fs calls fill the pool. Cases: no watcher; a watcher; a watcher with the pool
// sized one thread larger (what the launcher's entry does, see docs/footprint.md).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from './lib/paths.mjs';

const SLOW_MS = 50;
const SLOW_OPS = 12;

/** Threads of this process blocked in openat(2) (x86_64 257, aarch64 56), from /proc/self/task/<tid>/syscall. */
function threadsInOpen() {
  const openat = process.arch === 'arm64' ? '56 ' : '257 ';
  let n = 0;
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try {
      if (fs.readFileSync(`/proc/self/task/${tid}/syscall`, 'latin1').startsWith(openat)) n++;
    } catch {
      // the thread ended
    }
  }
  return n;
}

function fifos(count) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'launcher-threadpool-'));
  const files = Array.from({ length: count }, (_, i) => path.join(dir, `f${i}`));
  for (const f of files) execFileSync('mkfifo', [f]);
  return { dir, files };
}

/** Opens every FIFO (a writer that never blocks) so each pending reader's open returns. */
function release(files) {
  return files.map((f) => fs.openSync(f, fs.constants.O_RDWR | fs.constants.O_NONBLOCK));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** How many fs calls can block at once: each async open() of a FIFO holds a pool thread until a writer comes. */
async function freeForFs() {
  const { dir, files } = fifos(12);
  const opens = files.map((f) => fs.promises.open(f, 'r'));
  await sleep(300);
  const blocked = threadsInOpen();
  const writers = release(files);
  for (const handle of await Promise.all(opens)) await handle.close();
  writers.forEach((fd) => fs.closeSync(fd));
  fs.rmSync(dir, { recursive: true });
  return blocked;
}

/** p50 and p99 of `count` sequential fs.promises.stat calls, in microseconds. */
async function statLatency(count = 3000) {
  const times = [];
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint();
    await fs.promises.stat('/');
    times.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(count / 2)], p99: times[Math.floor(count * 0.99)] };
}

/**
 * SLOW_OPS fs calls that each hold a pool thread SLOW_MS once started: async opens of FIFOs,
 * each answered (a writer opened) SLOW_MS after a pool thread took it. The pool starts queued
 * calls in order, so the ones started are the first `answered + blocked in open` of them.
 * With N threads they run in ceil(SLOW_OPS / N) waves.
 */
async function slowBatch() {
  const { dir, files } = fifos(SLOW_OPS);
  const started = [];
  const writers = [];
  const start = performance.now();
  let done = 0;
  const opens = files.map((f) => fs.promises.open(f, 'r').then(async (handle) => {
    await handle.close();
    done++;
  }));
  while (done < SLOW_OPS) {
    const now = performance.now();
    const running = writers.length + threadsInOpen();
    for (let i = started.length; i < Math.min(running, SLOW_OPS); i++) started.push(now);
    while (writers.length < started.length && now - started[writers.length] >= SLOW_MS) {
      writers.push(fs.openSync(files[writers.length], fs.constants.O_RDWR | fs.constants.O_NONBLOCK));
    }
    await sleep(1);
  }
  const ms = performance.now() - start;
  await Promise.all(opens);
  writers.forEach((fd) => fs.closeSync(fd));
  fs.rmSync(dir, { recursive: true });
  return ms;
}

/**
 * While 4 fs calls are stuck (FIFO opens nobody answers for STUCK_MS), how late the watcher
 * reports a pipe becoming readable, twice: the first report comes from the poll already in
 * flight; the second needs a new poll, which waits for a free pool thread.
 */
async function watcherUnderStuckFs(watcher) {
  const STUCK_MS = 1000;
  const { dir, files } = fifos(4);
  const [r, w] = pipe();
  const seen = [];
  let wrote = 0;
  watcher.watch(r, () => {
    fs.readSync(r, Buffer.alloc(16));
    seen.push(performance.now() - wrote);
  });
  await sleep(100);
  const stuck = files.map((f) => fs.promises.open(f, 'r'));
  await sleep(100);
  wrote = performance.now();
  fs.writeSync(w, 'a');
  while (seen.length < 1) await sleep(1);
  await sleep(20);
  wrote = performance.now();
  fs.writeSync(w, 'b');
  const deadline = performance.now() + STUCK_MS;
  while (seen.length < 2 && performance.now() < deadline) await sleep(1);
  const writers = release(files);
  for (const handle of await Promise.all(stuck)) await handle.close();
  while (seen.length < 2) await sleep(1);
  writers.forEach((fd) => fs.closeSync(fd));
  fs.rmSync(dir, { recursive: true });
  return { first: seen[0], second: seen[1] };
}

let pipeModule;
function pipe() {
  const pair = pipeModule.pipeCloexec();
  if (typeof pair === 'number') throw new Error(`pipe2 failed: ${pair}`);
  return pair;
}

async function child(mode) {
  pipeModule = await import(path.join(ROOT, 'dist/src/sys/pipe.js'));
  const { fdWatcher, stopFdWatcher } = await import(path.join(ROOT, 'dist/src/sys/poll.js'));
  let idle;
  if (mode !== 'none') {
    // The launcher's steady state: its poll waits on fds where nothing happens.
    idle = pipe();
    fdWatcher().watch(idle[0], () => {});
    await sleep(100);
  }
  const result = { freeForFs: await freeForFs(), stat: await statLatency(), slowBatchMs: await slowBatch() };
  if (mode !== 'none') result.watcher = await watcherUnderStuckFs(fdWatcher());
  stopFdWatcher();
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(0);
}

const CASES = [
  { name: 'no watcher', mode: 'none', env: {} },
  { name: 'watcher, pool of 4 (libuv default)', mode: 'poll', env: {} },
  { name: 'watcher, pool of 5 (the launcher\'s size)', mode: 'poll', env: { UV_THREADPOOL_SIZE: '5' } },
];

async function main() {
  const { values } = parseArgs({ options: { child: { type: 'string' }, runs: { type: 'string', default: '3' } } });
  if (values.child) return child(values.child);
  const runs = Number(values.runs);
  const rows = [];
  for (const c of CASES) {
    const results = [];
    for (let i = 0; i < runs; i++) {
      const env = { ...process.env, ...c.env };
      if (!('UV_THREADPOOL_SIZE' in c.env)) delete env.UV_THREADPOOL_SIZE;
      const out = execFileSync(process.execPath, [new URL(import.meta.url).pathname, '--child', c.mode], { env, encoding: 'utf8' });
      results.push(JSON.parse(out));
    }
    const median = (pick) => results.map(pick).filter((v) => v !== undefined).sort((a, b) => a - b)[Math.floor(results.length / 2)];
    rows.push({
      case: c.name,
      'threads free for fs': median((r) => r.freeForFs),
      'fs.stat p50 µs': median((r) => r.stat.p50)?.toFixed(0),
      'fs.stat p99 µs': median((r) => r.stat.p99)?.toFixed(0),
      [`${SLOW_OPS} fs calls of ${SLOW_MS} ms, ms`]: median((r) => r.slowBatchMs)?.toFixed(0),
      'watch event 1 / 2 while 4 fs calls are stuck, ms': results[0].watcher ? `${median((r) => r.watcher.first).toFixed(1)} / ${median((r) => r.watcher.second).toFixed(1)}` : '-',
    });
  }
  console.log(`node ${process.version}, ${os.cpus().length} CPUs, ${os.loadavg()[0].toFixed(2)} load, median of ${runs} runs`);
  console.table(rows);
}

await main();

// Run by per-child.mjs as `node --expose-gc per-child-worker.mjs STYLE N`: spawns N
// `sleep 3600` in STYLE (child_process | execa | launcher), measures the heap and
// RSS growth per child after a full GC, kills them all, prints one JSON line.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './paths.mjs';

const [style, n] = [process.argv[2], Number(process.argv[3])];
const settle = async () => {
  for (let i = 0; i < 3; i++) {
    globalThis.gc();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

// Load everything first, so only the children's own state is counted.
const { execa } = await import('execa');
const { spawnService } = await import(path.join(ROOT, 'dist/src/supervisor/spawn.js'));
const { adHocUnit } = await import(path.join(ROOT, 'dist/src/units/index.js'));
const unit = adHocUnit({ name: 'sleeper', listen: [], ready: 'started', exec: ['/bin/sleep', '3600'], cwd: process.cwd() });

await settle();
const before = process.memoryUsage();
const pids = [];
const exits = [];
for (let i = 0; i < n; i++) {
  if (style === 'child_process') {
    const child = spawn('/bin/sleep', ['3600'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child.stdout.on('data', () => {});
    child.stderr.on('data', () => {});
    pids.push(child.pid);
    exits.push(new Promise((resolve) => child.once('exit', resolve)));
  } else if (style === 'execa') {
    const child = execa('/bin/sleep', ['3600'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, reject: false, buffer: false });
    child.stdout.on('data', () => {});
    child.stderr.on('data', () => {});
    pids.push(child.pid);
    exits.push(child);
  } else {
    const child = spawnService({ unit, instance: i, sockets: [], onLine: () => {} });
    pids.push(child.pid);
    exits.push(child.exited);
  }
}
await new Promise((resolve) => setTimeout(resolve, 300));
await settle();
const after = process.memoryUsage();
for (const pid of pids) {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
await Promise.allSettled(exits);
console.log(JSON.stringify({
  style,
  children: n,
  heapKiBPerChild: +((after.heapUsed - before.heapUsed) / n / 1024).toFixed(1),
  rssKiBPerChild: +((after.rss - before.rss) / n / 1024).toFixed(1),
}));
process.exit(0);

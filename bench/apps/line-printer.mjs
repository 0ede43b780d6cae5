// A service that prints short lines as fast as it can: `node line-printer.mjs GO_FIFO
// RESULT_FILE (--ms N | --bytes N) [--to FILE]`. Waits for GO_FIFO to be written,
// then writes "line <n> <padding>\n" in blocking batches to stdout (or to FILE,
// opened by itself) for N ms or until N bytes, writes {lines, bytes, ms} to
// RESULT_FILE, and sleeps (so the launcher's RSS can be read afterwards).
import { openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';

const [goFifo, resultFile, mode, limitText, toFlag, toFile] = process.argv.slice(2);
const limit = Number(limitText);
readFileSync(goFifo); // blocks until the bench says go
const fd = toFlag === '--to' ? openSync(toFile, 'a') : 1;
const BATCH = 100;
let lines = 0;
let bytes = 0;
const start = performance.now();
for (;;) {
  let chunk = '';
  for (let i = 0; i < BATCH; i++) chunk += `line ${lines + i} abcdefghijklmnopqrstuvwxyz\n`;
  const buf = Buffer.from(chunk);
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off);
  lines += BATCH;
  bytes += buf.length;
  if (mode === '--bytes' ? bytes >= limit : (lines % 10_000 === 0 && performance.now() - start >= limit)) break;
}
const ms = performance.now() - start;
writeFileSync(resultFile, JSON.stringify({ lines, bytes, ms }));
setTimeout(() => {}, 3_600_000);

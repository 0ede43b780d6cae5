// A LineChunk built by hand, as the output splitter hands one on: the bytes of `lines`,
// each followed by `sep` ("\n" or "\r\n"), and where each line starts and ends.
import type { LineChunk } from '../../src/supervisor/spawn-output.js';

export function chunkOf(lines: string[], sep = '\n'): LineChunk {
  const data = Buffer.from(lines.map((l) => l + sep).join(''));
  const starts = new Int32Array(lines.length);
  const ends = new Int32Array(lines.length);
  let at = 0;
  lines.forEach((l, i) => {
    starts[i] = at;
    at += Buffer.byteLength(l);
    ends[i] = at;
    at += Buffer.byteLength(sep);
  });
  return { data, starts, ends, count: lines.length };
}

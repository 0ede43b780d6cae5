// Once per `vitest run`: a file where tests note why they skipped (a missing peer, see
// helpers/peers.ts), and at the end a summary of those skips, so none is silent.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(path.join(tmpdir(), 'launcher-skips-'));
  const log = path.join(dir, 'skips.tsv');
  process.env.LAUNCHER_PEER_SKIPS = log;
  return () => {
    let text = '';
    try {
      text = readFileSync(log, 'utf8');
    } catch {
      // nothing skipped
    }
    rmSync(dir, { recursive: true, force: true });
    const lines = text.split('\n').filter(Boolean);
    if (lines.length === 0) return;
    const byReason = new Map<string, number>();
    for (const line of lines) {
      const reason = line.split('\t')[0] ?? line;
      byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
    }
    const summary = [...byReason].map(([reason, n]) => `  ${n} test${n === 1 ? '' : 's'}: ${reason}`);
    process.stdout.write(`\nSkipped ${lines.length} test${lines.length === 1 ? '' : 's'} whose real peers are not installed:\n${summary.join('\n')}\n`);
  };
}

// The one place where outcomes become exit codes and errors become messages
// (SPEC: 0 done, 1 failed, 2 usage or unit-file error, 3 no launcher reachable).
import { asLauncherError, exitCodeFor, type LauncherError } from '../src/errors.js';
import { formatUnitError } from '../src/units/format.js';

let debug = process.argv.includes('--debug');

/** Turn on stack traces in error output (the global --debug flag). */
export function setDebug(on: boolean): void {
  debug = on;
}

/** The lines that describe `error` to a person. */
export function describeError(error: LauncherError): string[] {
  if (error.code === 'LAUNCHER_UNITS_INVALID' || error.code === 'LAUNCHER_UNIT_INVALID' || error.code === 'LAUNCHER_UNIT_SYNTAX') {
    return formatUnitError(error);
  }
  const lines = [`launcher: ${error.message}`];
  // A reload that applied partly says what it did change.
  const summary = error.context.summary;
  if (Array.isArray(summary) && summary.length > 0) lines.push('  what changed:', ...summary.map((l) => `    ${String(l)}`));
  const lastLines = error.context.lastLines;
  if (Array.isArray(lastLines) && lastLines.length > 0) {
    lines.push('  its last output:', ...lastLines.map((l) => `    ${String(l)}`));
  }
  return lines;
}

/** Print `error` to stderr and return its exit code. */
export function reportError(thrown: unknown): number {
  const error = asLauncherError(thrown);
  for (const line of describeError(error)) process.stderr.write(line + '\n');
  if (debug || error.code === 'LAUNCHER_INTERNAL') {
    const cause = error.cause instanceof Error ? error.cause : error;
    if (debug) process.stderr.write(`${cause.stack ?? ''}\n`);
    else process.stderr.write('launcher: this is a bug; run again with --debug for a stack trace\n');
  }
  return exitCodeFor(error.code);
}

/** Runs a verb's action and sets the exit code from its result or error. */
export async function finish(action: () => Promise<number | void>): Promise<void> {
  let code: number;
  try {
    code = (await action()) ?? 0;
  } catch (error) {
    code = reportError(error);
  }
  process.exitCode = code;
}

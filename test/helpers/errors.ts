// Catching the project's error in tests: the LauncherError `run` throws, or a failed assertion.
import { expect } from 'vitest';
import { LauncherError } from '../../src/errors.js';

/** Runs `run`, expects it to throw a LauncherError, and returns that error. */
export function thrownBy(run: () => unknown): LauncherError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(LauncherError);
    return error as LauncherError;
  }
  throw new Error('expected a LauncherError');
}

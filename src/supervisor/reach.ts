// Awaiting an instance's state: the one way the unit-level operations wait.
import type { Instance } from './instance.js';
import type { State } from './states.js';

/**
 * Resolves with the first of `targets` that `instance` is in: at once if it
 * already is, else at the first transition into one. Never rejects; callers
 * pass every state that ends their wait (success and failure alike).
 */
export function reach(instance: Instance, targets: readonly State[]): Promise<State> {
  if (targets.includes(instance.state)) return Promise.resolve(instance.state);
  return new Promise((resolve) => {
    const unsubscribe = instance.onTransition((t) => {
      if (!targets.includes(t.to)) return;
      unsubscribe();
      resolve(t.to);
    });
  });
}

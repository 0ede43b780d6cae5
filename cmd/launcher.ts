#!/usr/bin/env node
// The `launcher` command's entry. It turns on Node's on-disk compile cache where the
// running Node has one (module.enableCompileCache, Node >= 22.1; a no-op before), then
// loads the CLI (cmd/main.ts): modules loaded after the call, that is the whole CLI
// and the launcher, are compiled once and read back from the cache on later runs.
import module from 'node:module';

(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
void import('./main.js');

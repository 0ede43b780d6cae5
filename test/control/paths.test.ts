import { describe, expect, it } from 'vitest';
import { controlSocketPath } from '../../src/control/paths.js';

describe('controlSocketPath', () => {
  const env = { LAUNCHER_CONTROL: '/env/ctl.sock', XDG_RUNTIME_DIR: '/run/user/1000' };

  it('prefers the flag over everything', () => {
    expect(controlSocketPath({ flag: '/flag/ctl.sock', env, uid: 1000 })).toBe('/flag/ctl.sock');
  });

  it('then LAUNCHER_CONTROL', () => {
    expect(controlSocketPath({ env, uid: 1000 })).toBe('/env/ctl.sock');
  });

  it('then $XDG_RUNTIME_DIR/launcher/control.sock', () => {
    expect(controlSocketPath({ env: { XDG_RUNTIME_DIR: '/run/user/1000' }, uid: 1000 })).toBe('/run/user/1000/launcher/control.sock');
  });

  it('then /run/launcher for root and /tmp/launcher-<uid> for others', () => {
    expect(controlSocketPath({ env: {}, uid: 0 })).toBe('/run/launcher/control.sock');
    expect(controlSocketPath({ env: {}, uid: 1234 })).toBe('/tmp/launcher-1234/control.sock');
  });

  it('treats empty values as unset and resolves relative paths', () => {
    expect(controlSocketPath({ flag: '', env: { LAUNCHER_CONTROL: '', XDG_RUNTIME_DIR: '' }, uid: 7 })).toBe('/tmp/launcher-7/control.sock');
    expect(controlSocketPath({ flag: 'rel/ctl.sock', env: {} })).toBe(`${process.cwd()}/rel/ctl.sock`);
  });
});

// control/replies: each verb's result and events are checked before the CLI reads them;
// a reply of another shape is LAUNCHER_CONTROL_PROTOCOL naming the field, extra fields pass.
import { describe, expect, it } from 'vitest';
import { checkEvent, checkResult } from '../../src/control/replies.js';

const status = {
  launcher: { pid: 10, uptimeMs: 5, unitsDir: null },
  units: [
    {
      name: 'web', state: 'running', pids: [11], uptimeMs: 3, reason: null, restarts: 0, statusText: null,
      sockets: [{ name: 'web', listen: '127.0.0.1:8080', local: '127.0.0.1:8080' }],
      instances: [{ index: 0, state: 'running', pid: 11, forMs: 3, restarts: 0, statusText: null, lastExit: null, reason: null, uptimeMs: 3 }],
      fdStoreMax: 0, storedFds: [],
    },
  ],
};

describe('checkResult', () => {
  it('passes each verb its own result, with fields a newer launcher may add', () => {
    expect(checkResult('status', status)).toBe(status);
    expect(checkResult('ping', { pong: true, pid: 1, protocol: 1, extra: 'x' })).toMatchObject({ pong: true });
    expect(checkResult('start', { units: [{ unit: 'web', state: 'running' }] }).units[0]!.state).toBe('running');
    const report = { unit: 'web', instances: [{ index: 0, oldPid: null, newPid: 12, readyMs: 4, drainMs: 0 }] };
    expect(checkResult('restart', { units: [{ unit: 'web', report }] }).units[0]!.report).toEqual(report);
    expect(checkResult('reload', { summary: ['web: restarted'] }).summary).toEqual(['web: restarted']);
    expect(checkResult('logs', { lines: 3, skipped: 0 })).toEqual({ lines: 3, skipped: 0 });
  });

  it('takes the launcher\'s version and upgrades in `status`, and a launcher older than them', () => {
    const upgraded = { ...status, launcher: { ...status.launcher, version: '0.2.0', startedAt: 1, upgrades: 2, upgradedAt: 3 } };
    expect(checkResult('status', upgraded).launcher.upgrades).toBe(2);
    expect(checkResult('status', { ...status, launcher: { ...upgraded.launcher, upgradedAt: null } }).launcher.upgradedAt).toBeNull();
    expect(() => checkResult('status', { ...status, launcher: { ...upgraded.launcher, upgrades: '2' } })).toThrowError(
      expect.objectContaining({ context: expect.objectContaining({ key: 'result.launcher.upgrades' }) }),
    );
  });

  it('never takes a result for `upgrade`: success ends the connection, refusal is an error reply', () => {
    expect(() => checkResult('upgrade', {})).toThrowError(expect.objectContaining({ code: 'LAUNCHER_CONTROL_PROTOCOL' }));
  });

  it('takes a `down` reply without the fields an older launcher did not send', () => {
    expect(checkResult('down', { stopping: true })).toEqual({ stopping: true });
    expect(checkResult('down', { stopping: true, pid: 4, waitingFor: ['web[5]'], deadlineMs: 15000 }).pid).toBe(4);
  });

  it.each([
    ['status', { ...status, units: [{ ...status.units[0], pids: ['11'] }] }, 'result.units[0].pids[0]'],
    ['status', { launcher: status.launcher }, 'result.units'],
    ['restart', { units: [{ unit: 'web', report: { unit: 'web', instances: [{ index: 0 }] } }] }, 'result.units[0].report.instances[0].oldPid'],
    ['reload', { summary: 'web' }, 'result.summary'],
    ['down', null, 'result'],
  ] as const)('refuses a %s result of another shape, naming the field', (verb, result, key) => {
    expect(() => checkResult(verb, result)).toThrowError(expect.objectContaining({ code: 'LAUNCHER_CONTROL_PROTOCOL', context: expect.objectContaining({ key }) }));
  });
});

describe('checkEvent', () => {
  it('knows a logs line or skip count from anything else', () => {
    expect(checkEvent('logs', { line: { text: 'hi' } })).toEqual({ line: { text: 'hi' } });
    expect(checkEvent('logs', { skipped: 3 })).toEqual({ skipped: 3 });
    expect(() => checkEvent('logs', { message: 'hi' })).toThrowError(expect.objectContaining({ context: expect.objectContaining({ key: 'event.line' }) }));
    expect(() => checkEvent('logs', { skipped: '3' })).toThrowError(expect.objectContaining({ code: 'LAUNCHER_CONTROL_PROTOCOL' }));
  });

  it('takes a progress event with an optional message and unit', () => {
    expect(checkEvent('restart', { unit: 'web', message: 'started', level: 'info' })).toMatchObject({ message: 'started' });
    expect(checkEvent('reload', {})).toEqual({});
    expect(() => checkEvent('reload', { message: 7 })).toThrowError(expect.objectContaining({ context: expect.objectContaining({ key: 'event.message' }) }));
  });
});

// UnitFdStores: per-instance stores, what `fit` closes after a reload, and the
// plain-data snapshot a launcher upgrade will carry (restore takes the same fds back).
import { openSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { UnitFdStores } from '../../src/entrypoint/fd-stores.js';
import type { NotifyMessage } from '../../src/supervisor/contract.js';
import { isFdOpen } from '../../src/sys/fds.js';
import { stopFdWatcher } from '../../src/sys/poll.js';

afterAll(() => stopFdWatcher());

const store = (name: string, fds: number[]): NotifyMessage => ({ pid: 1, uid: 0, fields: new Map([['FDSTORE', '1'], ['FDNAME', name]]), fds });

describe('UnitFdStores', () => {
  it('keeps a store per instance, passes each its own, and fits a smaller unit', () => {
    const logs: string[] = [];
    const stores = new UnitFdStores((e) => logs.push(e.message));
    const [a, b, c] = [openSync('/dev/null', 'r'), openSync('/dev/null', 'r'), openSync('/dev/null', 'r')];
    stores.apply(store('zero', [a, b]), 0, 4);
    stores.apply(store('one', [c]), 1, 4);
    expect(stores.passedTo(0).map((e) => e.fd)).toEqual([a, b]);
    expect(stores.list()).toEqual([{ instance: 0, name: 'zero' }, { instance: 0, name: 'zero' }, { instance: 1, name: 'one' }]);
    stores.fit(1, 1); // one instance, fd_store_max 1
    expect(stores.list()).toEqual([{ instance: 0, name: 'zero' }]);
    expect([a, b, c].map(isFdOpen)).toEqual([true, false, false]);
    expect(logs).toContain('#0: fd_store_max is now 1: closed 1 stored fd(s)');
    stores.clear();
    expect(isFdOpen(a)).toBe(false);
  });

  it('closes, silently, every fd from a sender that is none of the unit\'s processes', () => {
    const logs: string[] = [];
    const stores = new UnitFdStores((e) => logs.push(e.message));
    const fd = openSync('/dev/null', 'r');
    stores.apply(store('foreign', [fd]), null, 4);
    expect(isFdOpen(fd)).toBe(false);
    expect(stores.list()).toEqual([]);
    expect(logs).toEqual([]);
  });

  it('a snapshot is plain data; restore takes the same fds over', () => {
    const first = new UnitFdStores(() => {});
    const fd = openSync('/dev/null', 'r');
    first.apply({ ...store('state', [fd]), fields: new Map([['FDSTORE', '1'], ['FDNAME', 'state'], ['FDPOLL', '0']]) }, 2, 4);
    const snapshot = JSON.parse(JSON.stringify(first.snapshot())) as ReturnType<UnitFdStores['snapshot']>;
    expect(snapshot).toEqual([{ instance: 2, fd, name: 'state', poll: false }]);
    const second = new UnitFdStores(() => {});
    second.restore(snapshot);
    expect(second.passedTo(2)).toEqual([{ fd, name: 'state', poll: false }]);
    second.clear();
    expect(isFdOpen(fd)).toBe(false);
  });
});

// errno numbers and their names, without the native part: what a -errno from
// src/sys/libc.ts means, and the errno behind a Node fs error. Pure, so the
// error module and client code may import it without loading koffi.
import { constants as osConstants } from 'node:os';
import { getSystemErrorMap } from 'node:util';

/** errno values by name (E.ENOENT, E.EAGAIN, ...). */
export const E = osConstants.errno;

const errnoNames = new Map<number, string>(Object.entries(E).map(([name, value]) => [value, name]));

/** `EADDRINUSE` for 98, or `errno 123` for a number Node does not name. */
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `errno ${errno}`;
}

/** "address already in use" for EADDRINUSE: libuv's wording, which is strerror's in lower case. */
export function describeErrno(errno: number): string {
  return getSystemErrorMap().get(-errno)?.[1] ?? errnoName(errno);
}

/** The errno behind a Node fs/net error (its `code`, "ENOENT"), EIO when it names none. */
export function errnoOf(error: unknown): number {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return (typeof code === 'string' ? E[code as keyof typeof E] : undefined) ?? E.EIO;
}

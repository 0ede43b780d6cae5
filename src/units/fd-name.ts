// What sd_listen_fds_with_names() accepts as an fd name (systemd's fdname_is_valid).

/** Undefined when `name` is a valid LISTEN_FDNAMES entry, else why not (a phrase: "must not contain ':'"). */
export function fdNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty';
  if (name.length > 255) return `must be at most 255 characters, got ${name.length}`;
  for (const ch of name) {
    const code = ch.codePointAt(0) as number;
    if (ch === ':') return 'must not contain ":" (it separates LISTEN_FDNAMES entries)';
    if (code < 0x20 || code > 0x7e) return `must be printable ASCII, found ${JSON.stringify(ch)}`;
  }
  return undefined;
}

// Best-effort source positions for keys: the TOML parser gives none, so scan the text for them.

/** 1-based line; columns of the key's first character and of the value's first character. */
export interface KeyPosition {
  readonly line: number;
  readonly keyColumn: number;
  readonly valueColumn: number;
}

/** A reference to a place in a unit: a table (with its index for [[socket]]), a key and a sub-key (env.NAME). */
export interface KeyRef {
  readonly table?: 'service' | 'socket';
  readonly index?: number;
  readonly key?: string;
  readonly sub?: string;
}

const BARE_OR_QUOTED = String.raw`(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')`;
const KEY_LINE = new RegExp(String.raw`^(\s*)(${BARE_OR_QUOTED}(?:\s*\.\s*${BARE_OR_QUOTED})*)(\s*=\s*)`);
const ARRAY_HEADER = /^\s*\[\[\s*([^\]]*?)\s*\]\]/;
const TABLE_HEADER = /^\s*\[\s*([^\]]*?)\s*\]/;

/**
 * Positions of every `key =` line and table header in `source`, keyed by "<table>|<key>":
 * table "" is the top level, "service" a [service] table, "socket#N" the N-th [[socket]].
 * Lines inside multi-line strings are skipped; anything the scanner cannot read is simply absent.
 */
export function scanKeyPositions(source: string): Map<string, KeyPosition> {
  const positions = new Map<string, KeyPosition>();
  const arrayCounts = new Map<string, number>();
  let table = '';
  let inMultiline: string | undefined;
  source.split(/\r?\n/).forEach((text, index) => {
    const line = index + 1;
    if (inMultiline) {
      if (countOf(text, inMultiline) % 2 === 1) inMultiline = undefined;
      return;
    }
    const arrayHeader = ARRAY_HEADER.exec(text);
    const tableHeader = arrayHeader ? null : TABLE_HEADER.exec(text);
    if (arrayHeader || tableHeader) {
      const name = unquote(((arrayHeader ?? tableHeader) as RegExpExecArray)[1] as string);
      if (arrayHeader) {
        const n = arrayCounts.get(name) ?? 0;
        arrayCounts.set(name, n + 1);
        table = `${name}#${n}`;
      } else {
        table = name;
      }
      const column = text.indexOf('[') + 1;
      setOnce(positions, `${table}|`, { line, keyColumn: column, valueColumn: column });
      return;
    }
    const keyLine = KEY_LINE.exec(text);
    if (!keyLine) return;
    const [whole, indent, dotted] = keyLine as unknown as [string, string, string];
    const key = dotted.split(/\s*\.\s*/).map(unquote).join('.');
    setOnce(positions, `${table}|${key}`, { line, keyColumn: indent.length + 1, valueColumn: whole.length + 1 });
    const rest = text.slice(whole.length);
    for (const quote of ['"""', "'''"]) {
      if (countOf(rest, quote) % 2 === 1) inMultiline = quote;
    }
  });
  return positions;
}

/** The position for `ref`: the key itself, else its parent key, else its table's header. */
export function locate(positions: Map<string, KeyPosition>, ref: KeyRef): KeyPosition | undefined {
  const table = ref.table === 'socket' ? `socket#${ref.index ?? 0}` : (ref.table ?? '');
  const candidates: string[] = [];
  if (ref.key !== undefined && ref.sub !== undefined) candidates.push(`${table}|${ref.key}.${ref.sub}`);
  if (ref.key !== undefined) candidates.push(`${table}|${ref.key}`);
  if (ref.table === undefined && ref.key !== undefined) candidates.push(`${ref.key}|`, `${ref.key}#0|`);
  candidates.push(`${table}|`);
  for (const candidate of candidates) {
    const found = positions.get(candidate);
    if (found) return found;
  }
  return undefined;
}

function setOnce(map: Map<string, KeyPosition>, key: string, position: KeyPosition): void {
  if (!map.has(key)) map.set(key, position);
}

function unquote(part: string): string {
  const trimmed = part.trim();
  if (trimmed.length >= 2 && (trimmed[0] === '"' || trimmed[0] === "'") && trimmed.endsWith(trimmed[0])) {
    return trimmed.slice(1, -1);
  }
  return trimmed;
}

function countOf(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

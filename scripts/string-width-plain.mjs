// Stand-in for the `string-width` package inside the bundled CLI (see bundle.mjs):
// the terminal width of a string as its count of printable code points once ANSI
// escapes are stripped. yargs uses it only to lay out `--help`, whose text is
// ours and ASCII. The real package builds Unicode tables at load time (an
// Intl.Segmenter, \p{...} and emoji regular expressions) that page ~6 MiB of
// node's ICU data into every launcher process, the long-running one included.
import stripAnsi from 'strip-ansi';

/** Columns `text` takes: printable code points, ANSI escapes and control characters excluded. */
export default function stringWidth(text, options = {}) {
  if (typeof text !== 'string' || text.length === 0) return 0;
  const visible = options.countAnsiEscapeCodes ? text : stripAnsi(text);
  let width = 0;
  for (const char of visible) {
    const code = char.codePointAt(0);
    if (code < 0x20 || (code >= 0x7f && code < 0xa0)) continue;
    width++;
  }
  return width;
}

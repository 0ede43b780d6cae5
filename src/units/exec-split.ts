// `exec = "cmd arg 'two words'"`: split like a POSIX shell would, without running one.
import { invalidValue } from './describe.js';

/**
 * argv from a command string: whitespace separates words; '...' is literal; "..." is
 * literal except \" \\ \$ \` and backslash-newline; a backslash outside quotes escapes
 * the next character. Nothing is expanded ($VAR, ~, globs stay as written).
 * Throws LAUNCHER_UNIT_INVALID on an unbalanced quote or a trailing backslash.
 */
export function splitCommand(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i += 1;
      continue;
    }
    if (ch === '\\' && text[i + 1] === '\n') {
      i += 2; // a line continuation joins lines; it is not a word of its own
      continue;
    }
    inWord = true;
    if (ch === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw unbalanced(text, "'");
      word += text.slice(i + 1, end);
      i = end + 1;
    } else if (ch === '"') {
      i += 1;
      for (;;) {
        if (i >= text.length) throw unbalanced(text, '"');
        const c = text[i] as string;
        if (c === '"') break;
        if (c === '\\' && i + 1 < text.length && '"\\$`\n'.includes(text[i + 1] as string)) {
          if (text[i + 1] !== '\n') word += text[i + 1];
          i += 2;
        } else {
          word += c;
          i += 1;
        }
      }
      i += 1;
    } else if (ch === '\\') {
      if (i + 1 >= text.length) throw invalidValue(`command ${JSON.stringify(text)} ends with a lone backslash`, 'a complete command', text);
      word += text[i + 1];
      i += 2;
    } else {
      word += ch;
      i += 1;
    }
  }
  if (inWord) words.push(word);
  return words;
}

function unbalanced(text: string, quote: string): Error {
  return invalidValue(`unbalanced ${quote} in command ${JSON.stringify(text)}`, 'balanced quotes', text);
}

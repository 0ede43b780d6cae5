// env_file contents: KEY=VALUE lines, as docker/systemd users write them.

/** One line that is not KEY=VALUE, with its 1-based line number. */
export interface EnvFileProblem {
  readonly line: number;
  readonly message: string;
}

/** Environment variable names in env_file are shell-style identifiers. */
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Parse env_file text. Accepted: blank lines, lines starting with `#` (comments),
 * `KEY=VALUE`, `export KEY=VALUE`; spaces around KEY and VALUE are trimmed; a VALUE wrapped
 * in matching '...' or "..." loses the quotes (nothing inside is expanded or unescaped).
 * A `#` later in a line is part of the value. Later lines win over earlier ones.
 * Never throws: every bad line is reported in `problems`, the good lines are still in `env`.
 */
export function parseEnvFile(text: string): { env: Record<string, string>; problems: EnvFileProblem[] } {
  const env: Record<string, string> = Object.create(null) as Record<string, string>;
  const problems: EnvFileProblem[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const body = trimmed.startsWith('export ') ? trimmed.slice(7).trimStart() : trimmed;
    const eq = body.indexOf('=');
    if (eq < 0) {
      problems.push({ line, message: `expected KEY=VALUE, got ${JSON.stringify(cut(trimmed))}` });
      return;
    }
    const key = body.slice(0, eq).trim();
    if (!NAME.test(key)) {
      problems.push({ line, message: `${JSON.stringify(cut(key))} is not a valid variable name (letters, digits, _; not starting with a digit)` });
      return;
    }
    let value = body.slice(eq + 1).trim();
    const quote = value[0];
    if (quote === '"' || quote === "'") {
      if (value.length < 2 || !value.endsWith(quote)) {
        problems.push({ line, message: `unbalanced ${quote} in the value of ${key}` });
        return;
      }
      value = value.slice(1, -1);
    }
    if (value.includes('\0')) {
      problems.push({ line, message: `the value of ${key} holds a NUL byte` });
      return;
    }
    env[key] = value;
  });
  return { env, problems };
}

function cut(text: string): string {
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/**
 * Where a JSON text stops being valid, for config errors that point at the spot without
 * quoting the text (which may hold a secret): `JSON.parse`'s own messages quote it.
 * @module
 */

/** A syntax error's position (1-based line and column, 0-based offset) and what was expected. */
export interface JsonSyntaxError {
  offset: number;
  line: number;
  column: number;
  expected: string;
}

/** Thrown inside the scanner; carries the offset and what was expected there. */
class Stop {
  constructor(
    readonly offset: number,
    readonly expected: string,
  ) {}
}

/**
 * Scans `text` as JSON (RFC 8259) and returns the first syntax error, or `undefined` when the
 * text is valid. Only the structure is checked; no values are built.
 */
export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const expect = (what: string): never => {
    throw new Stop(i, i >= text.length ? `${what}, found the end of the file` : what);
  };
  const literal = (word: string): void => {
    if (text.startsWith(word, i)) i += word.length;
    else expect('a value');
  };
  const string = (): void => {
    i++; // opening quote
    for (;;) {
      if (i >= text.length) expect('a closing "');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) expect('no control character inside a string (escape it)');
      if (c === 0x5c) {
        const next = text[i + 1];
        if (next === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            i += 2;
            expect('four hex digits after \\u');
          }
          i += 6;
        } else if (next !== undefined && '"\\/bfnrt'.includes(next)) i += 2;
        else {
          i++;
          expect('a valid escape after \\');
        }
      } else i++;
    }
  };
  const number = (): void => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!match || match[0] === '-') expect('a value');
    i += match![0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') object();
    else if (c === '[') array();
    else if (c === '"') string();
    else if (c === 't') literal('true');
    else if (c === 'f') literal('false');
    else if (c === 'n') literal('null');
    else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) number();
    else expect('a value');
  };
  const object = (): void => {
    i++;
    ws();
    if (text[i] === '}') {
      i++;
      return;
    }
    for (;;) {
      ws();
      if (text[i] !== '"') expect('a property name in double quotes');
      string();
      ws();
      if (text[i] !== ':') expect("':' after a property name");
      i++;
      value();
      ws();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '}') {
        i++;
        return;
      }
      expect("',' or '}'");
    }
  };
  const array = (): void => {
    i++;
    ws();
    if (text[i] === ']') {
      i++;
      return;
    }
    for (;;) {
      value();
      ws();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === ']') {
        i++;
        return;
      }
      expect("',' or ']'");
    }
  };
  try {
    value();
    ws();
    if (i < text.length) expect('the end of the file after the top-level value');
    return undefined;
  } catch (error) {
    if (!(error instanceof Stop)) throw error;
    const before = text.slice(0, error.offset);
    const line = before.split('\n').length;
    const column = error.offset - before.lastIndexOf('\n');
    return { offset: error.offset, line, column, expected: error.expected };
  }
}

/**
 * `${NAME}` substitution in the strings of a parsed JSON config.
 * @module
 */
import { invalid } from '../errors.js';

/** A variable reference: `${NAME}`, or the escape `$${` (a literal `${`). */
const REFERENCE = /\$\$\{|\$\{([^}]*)\}?/g;
/** What a variable name may look like (as in POSIX shells). */
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Returns a copy of `value` in which every `${NAME}` inside a string is replaced by
 * `env[NAME]`; `$${` stands for a literal `${`. Object keys are left as they are. A variable that
 * is unset or empty, or a malformed reference (`${}`, `${1X}`, an unclosed `${`), is an
 * `EINVAL` naming the variable and where it is used, never its value.
 */
export function substituteEnv(value: unknown, env: NodeJS.ProcessEnv, where = ''): unknown {
  if (typeof value === 'string') return substituteString(value, env, where);
  if (Array.isArray(value)) return value.map((item, i) => substituteEnv(item, env, `${where}[${i}]`));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = substituteEnv(item, env, memberPath(where, key));
    return out;
  }
  return value;
}

function substituteString(text: string, env: NodeJS.ProcessEnv, where: string): string {
  if (!text.includes('${')) return text;
  const at = where === '' ? '' : ` (in ${where})`;
  return text.replace(REFERENCE, (match, name: string | undefined) => {
    if (match === '$${') return '${';
    if (!match.endsWith('}')) throw invalid(`unclosed \${ in a config string${at}; write $\${ for a literal \${`);
    if (name === undefined || !NAME.test(name)) {
      const shown = JSON.stringify('${' + (name ?? '').slice(0, 40) + '}');
      throw invalid(`bad variable reference ${shown}: a name is letters, digits and _, not starting with a digit${at}`);
    }
    const found = env[name];
    if (found === undefined) throw invalid(`environment variable ${name} is not set${at}`);
    if (found === '') throw invalid(`environment variable ${name} is empty${at}`);
    return found;
  });
}

/** `a.b`, or `a["/x"]` for keys that are not identifiers: where a value sits in the config. */
export function memberPath(where: string, key: string): string {
  if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)) return where === '' ? key : `${where}.${key}`;
  return `${where}[${JSON.stringify(key)}]`;
}

/**
 * Rewrites single-quoted strings into double-quoted JSON strings, the one malformation Azure is documented to
 * emit (FunctionAppLogs `properties` as `{'appName':'x',...}`, inline or inside a string; elastic/integrations
 * #5880, #11729). Double-quoted strings are left as they are. Returns undefined when there is nothing to repair.
 * A `'` only opens a string where a JSON value or key may start (after `{ [ , :` and whitespace), so
 * apostrophes inside words are not touched.
 */
export function repairSingleQuotes(text: string): string | undefined {
  if (text.indexOf("'") < 0) return undefined;
  let out = '';
  let last = 0;
  let changed = false;
  let prevSignificant = '';
  const n = text.length;
  let i = 0;
  while (i < n) {
    const ch = text[i]!;
    if (ch === '"') {
      i++;
      while (i < n && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      i++;
      prevSignificant = '"';
      continue;
    }
    if (ch === "'" && (prevSignificant === '' || prevSignificant === '{' || prevSignificant === '[' || prevSignificant === ',' || prevSignificant === ':')) {
      let j = i + 1;
      let body = '';
      while (j < n && text[j] !== "'") {
        if (text[j] === '\\' && j + 1 < n) {
          body += text[j + 1] === "'" ? "'" : text.slice(j, j + 2);
          j += 2;
        } else {
          body += text[j] === '"' ? '\\"' : text[j];
          j++;
        }
      }
      if (j >= n) return undefined; // unterminated: not a repairable shape
      out += `${text.slice(last, i)}"${body}"`;
      last = j + 1;
      i = j + 1;
      changed = true;
      prevSignificant = '"';
      continue;
    }
    if (ch !== ' ' && ch !== '\n' && ch !== '\r' && ch !== '\t') prevSignificant = ch;
    i++;
  }
  return changed ? out + text.slice(last) : undefined;
}

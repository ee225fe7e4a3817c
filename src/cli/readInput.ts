import { readFile } from 'node:fs/promises';

/** Reads all of stdin (or any chunk stream) into one buffer. */
export async function readAll(stream: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c, 'utf8') : Buffer.from(c));
  return Buffer.concat(chunks);
}

/** The bytes of each named file, or of stdin when no file is named. */
export async function readInputs(files: string[], stdin: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>): Promise<{ name: string; bytes: Buffer }[]> {
  if (files.length === 0) return [{ name: '<stdin>', bytes: await readAll(stdin) }];
  return Promise.all(files.map(async (f) => ({ name: f, bytes: await readFile(f) })));
}

/** Splits a buffer into non-empty lines (bytes, so invalid UTF-8 survives to the dead letter untouched). */
export function splitLines(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= buf.length; i++) {
    if (i === buf.length || buf[i] === 0x0a) {
      let end = i;
      if (end > start && buf[end - 1] === 0x0d) end--;
      const line = buf.subarray(start, end);
      if (line.toString('utf8').trim() !== '') out.push(line);
      start = i + 1;
    }
  }
  return out;
}

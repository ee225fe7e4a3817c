import { constants, crc32, deflateRawSync } from 'node:zlib';

/** How event blobs are compressed (MDR_INGEST_COMPRESSION, MDR_INGEST_GZIP_LEVEL). */
export type EventCompression = { kind: 'none' } | { kind: 'gzip'; level: number };

/** Encoding buffer: lines are written into pieces of this size, allocated as a blob grows. */
const PIECE_BYTES = 64 * 1024;
/**
 * Uncompressed bytes deflated at a time. Each span starts deflate with an empty window, which costs ~1% of size at
 * 1 MiB (4% at 256 KiB); larger only holds more uncompressed bytes per blob while a batch is mapped.
 */
const DEFLATE_SPAN_BYTES = 1024 * 1024;

/**
 * Pieces whose bytes were already copied out (concatenated, or deflated), kept for the next blobs: writing into fresh
 * memory costs a page fault per 4 KiB, which the profile showed as a tenth of the output's cost. Bounded (4 MiB); a
 * recycled piece's old bytes are never read, only overwritten (a blob takes only the part written for it).
 */
const spare: Buffer[] = [];
const SPARE_PIECES = 64;
function newPiece(): Buffer {
  return spare.pop() ?? Buffer.allocUnsafe(PIECE_BYTES);
}
/** Returns the pieces among `bytes` (filled prefixes of a piece) to the spares; the caller no longer reads any of them. */
function recycle(bytes: readonly Buffer[]): void {
  for (const b of bytes) {
    if (spare.length >= SPARE_PIECES) return;
    if (b.byteOffset === 0 && b.buffer.byteLength === PIECE_BYTES) spare.push(Buffer.from(b.buffer, 0, PIECE_BYTES));
  }
}

/** RFC 1952 member header: deflate, no flags, no mtime (blobs are deterministic), no extra flags, OS unknown. */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff]);

/**
 * The content of one NDJSON blob, built line by line as events arrive. Each line is encoded as UTF-8 straight into
 * a piece buffer (no joined string, no second copy of the text). With gzip, every DEFLATE_SPAN_BYTES of lines are
 * deflated at once (synchronously: on a one-vCPU instance a threadpool round trip only adds latency), so a batch
 * holds its events compressed, not as objects or text. The spans are raw deflate blocks ended by a sync flush, the
 * last by the final block, framed by one gzip header and trailer (CRC-32 and length of all lines): the blob is one
 * ordinary gzip member that any gzip reader takes.
 */
export class NdjsonBlob {
  private piece: Buffer | undefined;
  private pos = 0;
  /** Filled pieces not deflated yet (all pieces without compression). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** With gzip: the header and the deflated spans so far. */
  private readonly out: Buffer[] = [];
  private crc = 0;
  private size = 0;
  lines = 0;

  constructor(private readonly compression: EventCompression) {
    if (compression.kind === 'gzip') this.out.push(GZIP_HEADER);
  }

  /** Appends `line` and a newline. */
  addLine(line: string): void {
    let room = this.piece === undefined ? 0 : this.piece.length - this.pos;
    // A UTF-16 unit takes at most 3 UTF-8 bytes; measure exactly only when that bound does not fit.
    if (line.length * 3 + 1 > room) {
      const bytes = Buffer.byteLength(line, 'utf8') + 1;
      if (bytes > room) {
        this.closePiece();
        if (bytes > PIECE_BYTES) {
          const big = Buffer.allocUnsafe(bytes);
          big.write(line, 0, 'utf8');
          big[bytes - 1] = 0x0a;
          this.take(big);
          this.lines++;
          return;
        }
        this.piece = newPiece();
        room = PIECE_BYTES;
      }
    }
    const piece = this.piece!;
    this.pos += piece.write(line, this.pos, 'utf8');
    piece[this.pos++] = 0x0a;
    this.lines++;
  }

  /** The finished blob content. */
  finish(): Buffer {
    this.closePiece();
    if (this.compression.kind === 'none') {
      if (this.pending.length === 1) return this.pending.pop()!;
      const all = Buffer.concat(this.pending, this.pendingBytes);
      recycle(this.pending);
      this.pending = [];
      return all;
    }
    this.deflatePending(true);
    const trailer = Buffer.allocUnsafe(8);
    trailer.writeUInt32LE(this.crc >>> 0, 0);
    trailer.writeUInt32LE(this.size % 2 ** 32, 4);
    this.out.push(trailer);
    return Buffer.concat(this.out);
  }

  private closePiece(): void {
    if (this.piece === undefined || this.pos === 0) return;
    const filled = this.piece.subarray(0, this.pos);
    this.piece = undefined;
    this.pos = 0;
    this.take(filled);
  }

  private take(bytes: Buffer): void {
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    if (this.compression.kind === 'gzip' && this.pendingBytes >= DEFLATE_SPAN_BYTES) this.deflatePending(false);
  }

  private deflatePending(last: boolean): void {
    if (this.compression.kind !== 'gzip') return;
    const pieces = this.pending;
    const span = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.crc = crc32(span, this.crc);
    this.size += span.length;
    // A sync flush ends a span on a byte boundary with the stream still open; the next span's blocks follow it.
    this.out.push(deflateRawSync(span, { level: this.compression.level, finishFlush: last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH }));
    // deflateRawSync returned its own buffer: the pieces' bytes are no longer needed.
    recycle(pieces);
  }
}

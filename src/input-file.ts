// Reading the files a user points pgha at (spec, inventory, vars files, secret files, templates): regular files
// only, so a FIFO or /dev/zero cannot hang or exhaust a run, of bounded size, and UTF-8 text.
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";

export const MiB = 1024 * 1024;

/** A reason the file cannot be used, said the way the callers' messages want it ("cannot read X: <reason>"). */
export class InputFileError extends Error {
  constructor(
    message: string,
    /** 1-based position of the first byte that is not UTF-8, when that is the reason. */
    readonly line?: number,
    readonly column?: number,
  ) {
    super(message);
    this.name = "InputFileError";
  }
}

/**
 * The text of `path`, which must be a regular file of at most `maxBytes` bytes holding UTF-8 text. Opened
 * non-blocking, so opening a FIFO returns at once, and checked with fstat on the open descriptor, so what is
 * read is what was checked. `kind` names what a directory was given for. Throws InputFileError (or the system error of a failed open, whose message says why).
 */
export function readInputFile(path: string, maxBytes: number, kind = "a file"): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new InputFileError(`is a directory, not ${kind}`);
    if (!st.isFile()) throw new InputFileError("is not a regular file (a FIFO, socket or device is never read)");
    if (st.size > maxBytes) throw new InputFileError(`is ${st.size} bytes, more than the ${maxBytes} bytes allowed`);
    // Read one byte more than allowed, so a file that grows after the fstat is still caught.
    const buf = Buffer.alloc(Math.min(st.size, maxBytes) + 1);
    let n = 0;
    for (;;) {
      const r = n < buf.length ? readSync(fd, buf, n, buf.length - n, null) : 0;
      if (r === 0) break;
      n += r;
    }
    if (n > maxBytes) throw new InputFileError(`is more than the ${maxBytes} bytes allowed`);
    return decodeUtf8(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** UTF-8 text (a leading BOM dropped); anything else is refused with the position of the first bad byte. */
function decodeUtf8(buf: Buffer): string {
  try {
    return utf8.decode(buf);
  } catch {
    const good = validUtf8Prefix(buf);
    const before = buf.subarray(0, good).toString("utf8").split("\n");
    const line = before.length;
    const column = before[before.length - 1]!.length + 1;
    const byte = buf[good]?.toString(16).padStart(2, "0");
    throw new InputFileError(`is not UTF-8 text (${byte === undefined ? "it ends" : `byte 0x${byte}`} at line ${line}, column ${column})`, line, column);
  }
}

/** The length of the longest prefix of `buf` that is well-formed UTF-8 (RFC 3629: no overlongs, surrogates or > U+10FFFF). */
function validUtf8Prefix(buf: Buffer): number {
  const cont = (i: number, lo = 0x80, hi = 0xbf) => i < buf.length && buf[i]! >= lo && buf[i]! <= hi;
  let i = 0;
  while (i < buf.length) {
    const b = buf[i]!;
    let n: number;
    if (b < 0x80) n = 1;
    else if (b >= 0xc2 && b <= 0xdf) n = cont(i + 1) ? 2 : 0;
    else if (b >= 0xe0 && b <= 0xef) n = cont(i + 1, b === 0xe0 ? 0xa0 : 0x80, b === 0xed ? 0x9f : 0xbf) && cont(i + 2) ? 3 : 0;
    else if (b >= 0xf0 && b <= 0xf4) n = cont(i + 1, b === 0xf0 ? 0x90 : 0x80, b === 0xf4 ? 0x8f : 0xbf) && cont(i + 2) && cont(i + 3) ? 4 : 0;
    else n = 0;
    if (n === 0) return i;
    i += n;
  }
  return i;
}

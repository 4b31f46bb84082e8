// `pgha render -o DIR`: the rendered files written under DIR and nowhere else. pgha often runs as root, so
// nothing here follows a link or writes into a file or directory that someone else could have put there:
// every directory below DIR is checked (or made) one component at a time, and each file is written to a new
// temporary name (O_EXCL|O_NOFOLLOW) and renamed over its place, which replaces a directory entry and never
// writes through one.
import { randomBytes } from "node:crypto";
import { closeSync, constants, fchmodSync, lstatSync, mkdirSync, openSync, renameSync, statSync, unlinkSync, writeSync, type Stats } from "node:fs";
import { join } from "node:path";
import { InputError } from "./diagnostics.js";

export interface OutputFile {
  /** Path below the output directory, "/"-separated; every component a plain name. */
  path: string;
  content: string;
  mode: number;
}

const fail = (file: string, message: string): never => {
  throw new InputError([{ code: "render-output", severity: "error", file, message }]);
};

const uid = () => process.getuid?.() ?? 0;

/** A directory render may write into: a real directory of this user (or root's), writable by nobody else. */
function checkDirectory(path: string, st: Stats, top: boolean): void {
  if (st.isSymbolicLink()) fail(path, "is a symbolic link: render does not write through links in its output directory");
  if (!st.isDirectory()) fail(path, top ? "-o names a file that is not a directory" : "is not a directory");
  if (st.uid !== uid() && st.uid !== 0) fail(path, `belongs to another user (uid ${st.uid}): render writes only into directories of its own`);
  // World-writable without the sticky bit: anyone could swap what render checked (a /tmp-like directory is fine).
  if (st.mode & 0o002 && !(st.mode & 0o1000)) fail(path, `is writable by every user (mode ${(st.mode & 0o7777).toString(8)}): render writes only where nobody else can replace what it writes`);
}

const lstatOrUndefined = (path: string): Stats | undefined => {
  try {
    return lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    return fail(path, `cannot inspect: ${(e as Error).message}`);
  }
};

// The -o directory itself may be reached through a link the user chose; below it, nothing is followed.
const statOrUndefined = (path: string): Stats | undefined => {
  try {
    return statSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    return fail(path, `cannot inspect: ${(e as Error).message}`);
  }
};

/** Makes `path` (one component below a checked directory) a directory of its own, or checks the one there. */
function directory(path: string, top: boolean): void {
  let st = top ? statOrUndefined(path) : lstatOrUndefined(path);
  if (!st) {
    try {
      mkdirSync(path, { recursive: top, mode: 0o755 });
    } catch (e) {
      fail(path, `cannot create the directory: ${(e as Error).message}`);
    }
    st = lstatSync(path);
  }
  checkDirectory(path, st, top);
}

/** Writes `files` under `dir`; returns the paths written. Throws InputError naming the path at fault. */
export function writeOutput(dir: string, files: OutputFile[]): string[] {
  directory(dir, true);
  const made = new Set<string>();
  return files.map((f) => {
    const parts = f.path.split("/").filter((p) => p !== "");
    // The spec's patterns keep node names and paths plain; this is the last word, whatever a model holds.
    if (parts.length === 0 || parts.some((p) => p === "." || p === ".." || p.includes("\0"))) fail(join(dir, f.path), "would be written outside the output directory");
    let cur = dir;
    for (const p of parts.slice(0, -1)) {
      cur = join(cur, p);
      if (!made.has(cur)) {
        directory(cur, false);
        made.add(cur);
      }
    }
    const target = join(cur, parts[parts.length - 1]!);
    const existing = lstatOrUndefined(target);
    if (existing?.isSymbolicLink()) fail(target, "is a symbolic link: render does not write through links in its output directory");
    if (existing && !existing.isFile()) fail(target, "exists and is not a regular file");
    if (existing && existing.uid !== uid()) fail(target, `belongs to another user (uid ${existing.uid}): render does not replace it`);
    writeReplacing(target, f.content, f.mode);
    return target;
  });
}

/** A new file with `content` and `mode` (before anything is written to it), renamed over `target`. */
function writeReplacing(target: string, content: string, mode: number): void {
  const tmp = `${target}.pgha-${randomBytes(6).toString("hex")}`;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode & 0o700);
    fchmodSync(fd, mode); // the umask must not decide: 0600 stays 0600, 0644 is 0644
    const buf = Buffer.from(content);
    for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, buf.length - off);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, target);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // never created, or already renamed
    }
    fail(target, `cannot write: ${(e as Error).message}`);
  }
}

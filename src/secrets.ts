// The one place secrets are read. Values never go into messages: errors name the source, not the value.
import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import type { SecretResolver, SecretResult } from "./model/build.js";

/** C0 and C1 control characters and DEL: no password holds one, and each would break a rendered line. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** A secret as read: one final newline (what editors and `echo` add) dropped; any other control character refused. */
export function secretValue(raw: string, source: string): SecretResult {
  const value = raw.replace(/\r?\n$/, "");
  return CONTROL.test(value) ? { error: `${source} holds a newline or control character besides one final newline (the value is not shown)`, invalid: true } : { value };
}

/** Secrets from the environment and from files; a relative `file:` path is relative to `baseDir` (the spec's directory). */
export function secretResolver(env: NodeJS.ProcessEnv = process.env, baseDir = process.cwd()): SecretResolver {
  return (src) => {
    if ("env" in src) {
      const v = env[src.env];
      return v === undefined || v === "" ? { error: `environment variable ${src.env} is not set` } : secretValue(v, `environment variable ${src.env}`);
    }
    const path = isAbsolute(src.file) ? src.file : resolve(baseDir, src.file);
    const named = path === src.file ? path : `${src.file} (${path})`;
    let raw: string;
    try {
      raw = readFileSync(path, "utf8");
    } catch (e) {
      return { error: `cannot read secret file ${named}: ${(e as NodeJS.ErrnoException).code ?? "error"}` };
    }
    return secretValue(raw, `secret file ${named}`);
  };
}

/** Replaces every secret value in text with ******** (longest first, so overlapping secrets mask whole). */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  return [...secrets].sort((a, b) => b.length - a.length).reduce((t, s) => (s ? t.split(s).join("********") : t), text);
}

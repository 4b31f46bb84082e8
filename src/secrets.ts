// The one place secrets are read, and the last net that masks them in text. Values never go into
// messages: errors name the source, not the value. What is secret is known by structure first (secret
// files, fence devices' secret_params, see cib-diff.ts); maskSecrets catches a value wherever else it
// shows, in each form that quoting and escaping give it.
import { isAbsolute, resolve } from "node:path";
import { InputFileError, readInputFile } from "./input-file.js";
import type { SecretResolver, SecretResult } from "./model/build.js";

export const MASK = "********";

/** C0 and C1 control characters and DEL: no password holds one, and each would break a rendered line. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** A secret as read: one final newline (what editors and `echo` add) dropped; any other control character refused. */
export function secretValue(raw: string, source: string): SecretResult {
  const value = raw.replace(/\r?\n$/, "");
  return CONTROL.test(value) ? { error: `${source} holds a newline or control character besides one final newline (the value is not shown)`, invalid: true } : { value };
}

/**
 * sudo -S reads a password byte by byte up to its newline, at most 255 bytes (SUDO_CONV_REPL_MAX in sudo 1.9.13;
 * newer releases take 1023): with a longer one, the rest of the line would reach the command as its input.
 */
export const BECOME_PASSWORD_MAX_BYTES = 254;

/** Why a become password read from its source cannot be given to sudo, if it cannot. */
export function becomePasswordProblem(v: string): string | undefined {
  if (v === "") return "it is empty";
  if (Buffer.byteLength(v) > BECOME_PASSWORD_MAX_BYTES) return `it is longer than ${BECOME_PASSWORD_MAX_BYTES} bytes, the most sudo reads (the value is not shown)`;
  return undefined;
}

/** A password or key, not a document: a FIFO, a device or a huge file is refused before it is read. */
const SECRET_MAX_BYTES = 64 * 1024;

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
      raw = readInputFile(path, SECRET_MAX_BYTES, "a secret file");
    } catch (e) {
      // Not InputFileError's position of a bad byte: that would show a byte of the secret.
      const why = e instanceof InputFileError ? (e.line ? "is not UTF-8 text" : e.message) : ((e as NodeJS.ErrnoException).code ?? "error");
      return { error: `cannot read secret file ${named}: ${why}` };
    }
    return secretValue(raw, `secret file ${named}`);
  };
}

const xmlEscape = (s: string, apos: boolean) => s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/'/g, apos ? "&apos;" : "'");

/**
 * Every form a secret takes in pgha's output: as is, in XML attributes (Pacemaker escapes ', Python
 * does not), in crm and conninfo quoting, .pgpass fields, SQL and shell single quotes, and each of
 * those again inside a JSON string.
 */
export function secretForms(s: string): string[] {
  const forms = [
    s,
    xmlEscape(s, true),
    xmlEscape(s, false),
    s.replace(/\\/g, "\\\\").replace(/"/g, '\\"'),
    s.replace(/\\/g, "\\\\").replace(/'/g, "\\'"),
    s.replace(/\\/g, "\\\\").replace(/:/g, "\\:"),
    s.replace(/'/g, "''"),
    s.replace(/'/g, "'\\''"),
  ];
  return [...new Set([...forms, ...forms.map((f) => JSON.stringify(f).slice(1, -1))])];
}

/** Replaces every secret, in every form, with ******** (longest first, so overlapping secrets mask whole). */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  const forms = [...new Set(secrets.filter(Boolean).flatMap(secretForms))].sort((a, b) => b.length - a.length);
  return forms.reduce((t, f) => t.split(f).join(MASK), text);
}

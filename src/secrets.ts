// The one place secrets are read. Values never go into messages: errors name the source, not the value.
import { readFileSync } from "node:fs";
import type { SecretResolver } from "./model/build.js";

export function secretResolver(env: NodeJS.ProcessEnv = process.env): SecretResolver {
  return (src) => {
    if ("env" in src) {
      const v = env[src.env];
      return v === undefined || v === "" ? { error: `environment variable ${src.env} is not set` } : { value: v };
    }
    try {
      return { value: readFileSync(src.file, "utf8").replace(/\r?\n$/, "") };
    } catch (e) {
      return { error: `cannot read secret file ${src.file}: ${(e as NodeJS.ErrnoException).code ?? "error"}` };
    }
  };
}

/** Replaces every secret value in text with ******** (longest first, so overlapping secrets mask whole). */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  return [...secrets].sort((a, b) => b.length - a.length).reduce((t, s) => (s ? t.split(s).join("********") : t), text);
}

// The cluster spec: YAML in, schema-checked plain object out. Semantic checks live in model.ts.
import type { ErrorObject } from "ajv";
import { InputError, type Diagnostic } from "./diagnostics.js";
import { MiB, readInputFile } from "./input-file.js";
import { placeholderDiagnostics, withPlaceholders } from "./placeholder.js";
import { specValidator } from "./spec-validator.js";
import { diagAt, parseYamlSource, type PathSegments, type YamlSource } from "./yaml-source.js";
import type { Spec } from "./spec-types.js";

const validateSchema = specValidator();

/** A spec describes a handful of nodes: a megabyte is far more than any needs. */
export const SPEC_MAX_BYTES = MiB;

export interface LoadedSpec {
  spec: Spec;
  source: YamlSource;
}

export function loadSpec(path: string): LoadedSpec {
  let text: string;
  try {
    text = readInputFile(path, SPEC_MAX_BYTES);
  } catch (e) {
    const at = e as { line?: number; column?: number };
    throw new InputError([{ code: "spec-unreadable", severity: "error", file: path, line: at.line ?? 1, ...(at.column ? { column: at.column } : {}), message: `cannot read spec: ${(e as Error).message}` }]);
  }
  return parseSpec(text, path);
}

export function parseSpec(text: string, file: string): LoadedSpec {
  const source = parseYamlSource(text, file);
  if (source.value === null || typeof source.value !== "object" || Array.isArray(source.value)) {
    throw new InputError([{ code: "spec-not-mapping", severity: "error", file, line: 1, column: 1, message: "the spec must be a YAML mapping", expected: "keys cluster, corosync, pacemaker, postgresql" }]);
  }
  const placeholders = placeholderDiagnostics(source);
  if (!validateSchema(source.value)) {
    throw new InputError(withPlaceholders(placeholders, schemaDiagnostics(validateSchema.errors ?? [], source)));
  }
  if (placeholders.length) throw new InputError(placeholders);
  return { spec: source.value as Spec, source };
}

function pathOf(instancePath: string): PathSegments {
  if (instancePath === "") return [];
  return instancePath
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/**
 * Turns ajv's errors into one clear message per problem. oneOf/anyOf branches produce noise,
 * so errors under a failed oneOf collapse into the oneOf's own message.
 */
function schemaDiagnostics(errors: ErrorObject[], src: YamlSource): Diagnostic[] {
  const oneOfPaths = new Set(errors.filter((e) => e.keyword === "oneOf").map((e) => e.instancePath));
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const e of errors) {
    if (e.keyword !== "oneOf" && [...oneOfPaths].some((p) => e.instancePath === p || e.instancePath.startsWith(p + "/"))) continue;
    const d = describe(e, src);
    const key = `${d.path}|${d.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d);
  }
  return out;
}

function describe(e: ErrorObject, src: YamlSource): Diagnostic {
  const path = pathOf(e.instancePath);
  const base = { code: "spec-schema", severity: "error" as const };
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "additionalProperties": {
      const key = String(p.additionalProperty);
      const allowed = Object.keys((e.parentSchema as { properties?: object }).properties ?? {}).filter((k) => k !== "$schema");
      return diagAt(src, [...path, key], { ...base, code: "spec-unknown-key", message: `unknown key '${key}'`, expected: allowed.length ? `one of: ${allowed.join(", ")}` : undefined }, true);
    }
    case "required":
      return diagAt(src, path, { ...base, code: "spec-missing-key", message: `missing required key '${String(p.missingProperty)}'` });
    case "type":
      return diagAt(src, path, { ...base, code: "spec-type", message: `wrong type`, expected: String(p.type) });
    case "enum":
      return diagAt(src, path, { ...base, code: "spec-enum", message: `value not allowed`, expected: `one of: ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}` });
    case "format":
      return diagAt(src, path, { ...base, code: "spec-format", message: `not a valid ${String(p.format)} value`, expected: String(p.format) === "ipv4" ? "an IPv4 address such as 192.168.1.10" : String(p.format) });
    case "pattern": {
      // Under propertyNames, the key is what has the wrong form.
      const key = (e as ErrorObject & { propertyName?: string }).propertyName;
      if (key !== undefined) return diagAt(src, [...path, key], { ...base, code: "spec-key-name", message: `invalid name '${key}'`, expected: describePattern(String(p.pattern)) }, true);
      return diagAt(src, path, { ...base, code: "spec-pattern", message: `value has the wrong form`, expected: describePattern(String(p.pattern)) });
    }
    case "propertyNames":
      return diagAt(src, [...path, String(p.propertyName)], { ...base, code: "spec-key-name", message: `invalid name '${String(p.propertyName)}'` }, true);
    case "not":
      // The schema's only `not`: managed directories that are system directories.
      return diagAt(src, path, { ...base, code: "spec-system-directory", message: `${JSON.stringify(e.data)} is a system directory: pgha would create it and hand it to the OS user`, expected: "a directory of its own, such as /var/lib/postgresql/tmp" });
    case "oneOf":
      return diagAt(src, path, { ...base, code: "spec-secret", message: "invalid secret source", expected: "{env: VAR_NAME}, {file: /path/to/file}, or a string" });
    case "minimum":
    case "maximum":
    case "minItems":
    case "maxItems":
    case "minProperties":
    case "minLength":
    case "maxLength":
      return diagAt(src, path, { ...base, code: "spec-range", message: `value out of range: ${e.message ?? ""}` });
    default:
      return diagAt(src, path, { ...base, message: e.message ?? e.keyword });
  }
}

const ABS_PATH = "an absolute path of plain components (letters, digits and _ . @ % + , : = ~ -), no . or .. component, no trailing /";
const PATTERN_HINTS: Record<string, string> = {
  "^(?!.*/\\.\\.?(/|$))(/[A-Za-z0-9_.@%+,:=~-]+)+$": ABS_PATH,
  "^(?!.*\\.\\.)[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$": "a host name of letters, digits, '_', '.' and '-', starting with a letter or digit, without '..'",
  "^[^\\u0000-\\u001f\\u007f]*$": "one line of text, without newlines or other control characters",
  "^[^\\s\\u0000-\\u001f\\u007f]+$": "text without spaces, newlines or other control characters",
  "^[^\\u0000-\\u0008\\u000b-\\u001f\\u007f]*$": "text without control characters other than newlines and tabs",
  "^[A-Za-z0-9_.+-]+$": "a file system type such as ext4 or xfs",
  "^[A-Za-z0-9_. -]*$": "node names separated by spaces",
  "^[A-Za-z_][A-Za-z0-9_-]*$": "a name of letters, digits, '_' and '-', not starting with a digit",
  "^[0-9]+(ms|s|m|min|h)?$": "a duration such as 10s or 60000ms",
  "^[A-Za-z_][A-Za-z0-9_.-]*$": "an id of letters, digits, '_', '.' and '-', not starting with a digit",
  "^\\d{1,3}(\\.\\d{1,3}){3}/\\d{1,2}$": "an IPv4 CIDR such as 192.168.1.0/24",
  "^(ocf:[A-Za-z0-9_-]+:[A-Za-z0-9_.-]+|stonith:[A-Za-z0-9_/.-]+|systemd:[A-Za-z0-9@_.-]+|lsb:[A-Za-z0-9_.-]+)$":
    "a resource agent such as stonith:fence_ipmilan or ocf:heartbeat:IPaddr2",
};

function describePattern(pattern: string): string {
  return PATTERN_HINTS[pattern] ?? `a value matching ${pattern}`;
}

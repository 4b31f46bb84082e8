// Reports as data (the pcs way): every error and warning pgha raises carries where it came from,
// so the CLI can print it as text or --json without parsing strings.
export type Severity = "error" | "warning";

export interface Diagnostic {
  code: string;
  severity: Severity;
  message: string;
  file?: string;
  line?: number;
  column?: number;
  /** JSON path inside the document, e.g. `/postgresql/port`. */
  path?: string;
  /** What was expected, when the message alone does not say. */
  expected?: string;
}

/** Thrown when input is invalid; carries every diagnostic found, not just the first. */
export class InputError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join("\n"));
    this.name = "InputError";
  }
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = [d.file, d.line, d.column].filter((x) => x !== undefined).join(":");
  const path = d.path ? ` at ${d.path}` : "";
  const expected = d.expected ? ` (expected ${d.expected})` : "";
  return visible(`${where ? where + ": " : ""}${d.severity}[${d.code}]${path}: ${d.message}${expected}`);
}

/** Control characters from the input (a name with ESC or a newline) are shown escaped, never sent to the terminal. */
export const visible = (s: string): string => s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);

export const hasErrors = (ds: Diagnostic[]): boolean => ds.some((d) => d.severity === "error");

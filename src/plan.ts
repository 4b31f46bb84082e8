// Plan: desired files + facts -> the changes that close the gap. Pure, so check mode, diff and a no-op run
// all come from the same computation.
import { createHash } from "node:crypto";
import type { HostFacts } from "./facts.js";
import type { RenderedFile } from "./render.js";

export type FileAction = "create" | "update" | "attributes" | "none";

export interface FileChange {
  node: string;
  path: string;
  action: FileAction;
  /** What gets written: the rendered content plus the agent lines pgha keeps. */
  content: string;
  owner: string;
  group: string;
  mode: string;
  secret: boolean;
  reasons: string[];
}

export const sha256 = (s: string): string => createHash("sha256").update(s).digest("hex");

export function planFile(file: RenderedFile, facts: HostFacts): FileChange {
  const fact = facts.files[file.path];
  const kept = (fact?.agentLines ?? []).filter((l) => l.targetExists).map((l) => l.line);
  const dangling = (fact?.agentLines ?? []).filter((l) => !l.targetExists);
  const content = file.content + kept.map((l) => l + "\n").join("");
  const base = { node: file.node, path: file.path, content, owner: file.owner, group: file.group, mode: file.mode, secret: file.secret };
  if (!fact?.exists) return { ...base, action: "create", reasons: ["file is missing"] };
  if (fact.symlink) return { ...base, action: "update", reasons: ["is a symbolic link (apply refuses to write through it)"] };
  const reasons: string[] = [];
  if (fact.sha256 !== sha256(file.content)) reasons.push("content differs");
  if (dangling.length) reasons.push(`${dangling.length} agent include line(s) point at missing files`);
  const attrs: string[] = [];
  if (fact.owner !== file.owner || fact.group !== file.group) attrs.push(`owner ${fact.owner}:${fact.group} -> ${file.owner}:${file.group}`);
  if (fact.mode !== file.mode) attrs.push(`mode ${fact.mode} -> ${file.mode}`);
  if (reasons.length) return { ...base, action: "update", reasons: [...reasons, ...attrs] };
  if (attrs.length) return { ...base, action: "attributes", reasons: attrs };
  return { ...base, action: "none", reasons: [] };
}

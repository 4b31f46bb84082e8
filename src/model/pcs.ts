// The pcs form of the Pacemaker configuration: the same CrmModel as cluster.crm, as the `pcs -f "$CIB"`
// commands Linux-HA Japan's pm_pcsgen writes (RHEL 8/9 ship pcs, not crmsh). Loaded into a CIB file it
// gives the CIB that cluster.crm gives with crmsh: the same ids wherever pcs takes one, and the
// resources in the order crmsh writes them (plain primitives, then groups, then clones), which is the
// order Pacemaker places resources of equal priority in. Pure.
import type { CrmModel, CrmPrimitive, KeyValue } from "./types.js";

/** One pcs command: its argument lines, each already quoted for sh (the template joins them with `\`). */
export interface PcsCommand {
  lines: string[];
  /** Secret params as CIB XML, set after the command by cibadmin from a here-document: a value on a
   *  command line is readable by every local user in /proc while the command runs. */
  secretXml?: string;
}

export interface PcsSection {
  title: string;
  commands: PcsCommand[];
}

/** Why a model has no pcs form, or undefined when it has one. */
export function pcsUnavailable(crm: CrmModel): string | undefined {
  if (crm.extra) return "the spec's pacemaker.extra_crm is crm syntax, which pcs cannot load";
  if (crm.groups.some((g) => g.members.some((m) => crm.primitives.find((p) => p.id === m)?.agent.startsWith("stonith:")))) return "a fence device in a group (pacemaker.stonith.devices.*.group): pcs puts no stonith resource in a group";
  if (crm.clones.some((c) => c.keyword === "ms")) return "pacemaker.syntax ms makes a master resource, which pcs cannot create (the default syntax makes the same promotable clone)";
  return undefined;
}

/** Single-quotes a word for sh only when it needs it, so the script reads like pm_pcsgen's. */
export function pcsWord(s: string): string {
  return /^[A-Za-z0-9_.,:/@%+=-]+$/.test(s) && !s.startsWith("-") ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

const kv = (pairs: KeyValue[]) => pairs.map((p) => pcsWord(`${p.key}=${p.value}`));

/** crm scores as pcs writes them: inf/-inf spelled out. */
function score(s: string): string {
  const m = /^([+-]?)inf(inity)?$/i.exec(s);
  return m ? `${m[1] === "-" ? "-" : ""}INFINITY` : s;
}

/** "rsc:Role" or "rsc:action" (crm's colocation/order operand) as [prefix, rsc]. */
function operand(s: string): [string | undefined, string] {
  const i = s.lastIndexOf(":");
  return i < 0 ? [undefined, s] : [s.slice(i + 1), s.slice(0, i)];
}

function create(p: CrmPrimitive): PcsCommand {
  const [cls, ...rest] = p.agent.split(":");
  // stonith agents are created with `stonith create` and named without their class.
  const head = cls === "stonith" ? `stonith create ${pcsWord(p.id)} ${pcsWord(rest.join(":"))}` : `resource create ${pcsWord(p.id)} ${pcsWord(p.agent)}`;
  const lines = [`${head} --no-default-ops`];
  const plain = p.params.filter((kv) => !kv.secret);
  if (plain.length) lines.push(kv(plain).join(" "));
  if (p.meta.length) lines.push(["meta", ...kv(p.meta)].join(" "));
  p.ops.forEach((o, i) => {
    const attrs: KeyValue[] = [
      { key: "interval", value: o.interval },
      { key: "timeout", value: o.timeout },
      ...(o.onFail ? [{ key: "on-fail", value: o.onFail }] : []),
      ...(o.role ? [{ key: "role", value: o.role }] : []),
      { key: "id", value: o.id },
    ];
    lines.push([...(i === 0 ? ["op"] : []), pcsWord(o.name), ...kv(attrs)].join(" "));
  });
  const secret = p.params.filter((kv) => kv.secret);
  if (!secret.length) return { lines };
  const nvpairs = secret.map((kv) => `<nvpair id="${xmlAttr(`${p.paramsId}-${kv.key}`)}" name="${xmlAttr(kv.key)}" value="${xmlAttr(kv.value)}"/>`).join("");
  return { lines, secretXml: `<primitive id="${xmlAttr(p.id)}"><instance_attributes id="${xmlAttr(p.paramsId)}">${nvpairs}</instance_attributes></primitive>` };
}

const xmlAttr = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");

export function pcsSections(crm: CrmModel): PcsSection[] {
  const cmd = (...lines: string[]): PcsCommand => ({ lines });
  const sections: PcsSection[] = [];
  const add = (title: string, commands: PcsCommand[]) => commands.length && sections.push({ title, commands });

  add("Cluster Option", [cmd(`property set ${kv(crm.properties.pairs).join(" ")}`)]);
  add("Resource Defaults", [cmd(`resource defaults set create id=${pcsWord(crm.rscDefaults.id)} meta ${kv(crm.rscDefaults.pairs).join(" ")}`)]);
  if (crm.opDefaults) add("Operation Defaults", [cmd(`resource op defaults set create id=${pcsWord(crm.opDefaults.id)} meta ${kv(crm.opDefaults.pairs).join(" ")}`)]);

  const byId = new Map(crm.primitives.map((p) => [p.id, p]));
  const contained = new Set([...crm.groups.flatMap((g) => g.members), ...crm.clones.map((c) => c.child)]);
  add(
    "Primitive Configuration",
    crm.primitives.filter((p) => !contained.has(p.id)).map(create),
  );
  add(
    "Group Configuration",
    crm.groups.flatMap((g) => [
      ...g.members.map((m) => create(byId.get(m)!)),
      cmd(`resource group add ${[g.id, ...g.members].map(pcsWord).join(" ")}`),
      ...(g.meta.length ? [cmd(`resource meta ${pcsWord(g.id)} ${kv(g.meta).join(" ")}`)] : []),
    ]),
  );
  add(
    "Clone Configuration",
    crm.clones.flatMap((c) => {
      const promotable = c.meta.some((m) => m.key === "promotable" && m.value === "true");
      // `resource promotable` sets promotable=true itself.
      const meta = c.meta.filter((m) => !(promotable && m.key === "promotable"));
      const child = byId.get(c.child);
      return [
        ...(child ? [create(child)] : []),
        cmd(`resource ${promotable ? "promotable" : "clone"} ${pcsWord(c.child)} ${pcsWord(c.id)}${meta.length ? ` meta ${kv(meta).join(" ")}` : ""}`),
      ];
    }),
  );
  add(
    "Resource Location",
    crm.locations.flatMap((l) => {
      // `--`: pcs reads a score that starts with '-' as an option otherwise.
      if (l.node) return [cmd(`constraint location add ${[l.id, l.resource, l.node].map(pcsWord).join(" ")} -- ${score(l.score ?? "inf")}`)];
      return l.rules.map((r, i) => {
        const expr = r.expression.split(/\s+/).map(pcsWord).join(" ");
        return i === 0
          ? cmd(`constraint location ${pcsWord(l.resource)} rule id=${pcsWord(r.id)} constraint-id=${pcsWord(l.id)} score=${score(r.score)} ${expr}`)
          : cmd(`constraint rule add ${pcsWord(l.id)} id=${pcsWord(r.id)} score=${score(r.score)} ${expr}`);
      });
    }),
  );
  add(
    "Resource Colocation",
    crm.colocations.map((c) => {
      const [[roleA, a], [roleB, b]] = c.resources.map(operand) as [[string | undefined, string], [string | undefined, string]];
      const side = (role: string | undefined, rsc: string) => [role, rsc].filter(Boolean).map((w) => pcsWord(w!)).join(" ");
      return cmd(`constraint colocation add ${side(roleA, a)} with ${side(roleB, b)} -- ${score(c.score)} id=${pcsWord(c.id)}`);
    }),
  );
  add(
    "Resource Order",
    crm.orders.map((o) => {
      const [actA, a] = operand(o.first);
      const [actB, b] = operand(o.then);
      const side = (act: string | undefined, rsc: string) => [act, rsc].filter(Boolean).map((w) => pcsWord(w!)).join(" ");
      // crm's `0:` is an optional order (crmsh writes kind="Optional" for it too).
      const kind = o.kind === "0" ? "Optional" : /^inf/i.test(o.kind) ? "Mandatory" : o.kind;
      return cmd(`constraint order ${side(actA, a)} then ${side(actB, b)} kind=${pcsWord(kind)}${o.asymmetric ? " symmetrical=false" : ""} id=${pcsWord(o.id)}`);
    }),
  );
  return sections;
}

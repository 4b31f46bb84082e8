// The "Analysis" section of docs/benchmarks.md, computed from the results of the same run (bench/run.mjs
// calls analyse() at the end): for each target, met or not, and the evidence (phases, remote commands,
// start-up floor, CPU) that explains a miss.

const f = (x, d = 2) => (x === undefined || Number.isNaN(x) ? "?" : x.toFixed(d));
const med = (m) => m?.wall_s?.median;

function medianPhases(m) {
  const per = m?.phases_per_sample;
  if (!per?.length) return [];
  const names = [...new Set(per.flat().map((p) => p.phase))];
  return names
    .map((phase) => {
      const xs = per.map((ph) => ph.find((q) => q.phase === phase)?.s).filter((x) => x !== undefined).sort((a, b) => a - b);
      const mid = xs.length >> 1;
      return { phase, s: xs.length % 2 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2 };
    })
    .filter((p) => p.s !== undefined && !Number.isNaN(p.s) && p.s >= 0.01);
}

const perHost = (o) => (o ? Object.values(o) : []);
const avg = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

export function analyse(r) {
  const out = [];
  const S = r.sizes;
  const R = r.ratios;
  const floor = med(r.baseline?.pgha_help);

  // 0. Against the physical limit (issue 16), and what each change bought (--compare builds, same samples).
  const limitSizes = Object.keys(S).filter((n) => S[n].physical_limit);
  if (limitSizes.length) {
    const cmds = [["noop_apply", "no-op apply"], ["diff", "no-op diff"], ["status", "status"]];
    const met = limitSizes.every((n) => cmds.every(([k]) => R[`${k}_over_physical_${n}`]?.met));
    out.push(`**pgha against the physical limit (target ≤ 1.5× for no-op apply, diff and status): ${met ? "met" : "missed"}.** ` +
      limitSizes.map((n) => `${n} nodes: limit ${f(med(S[n].physical_limit))} s; ${cmds.map(([k, l]) => `${l} ${f(med(S[n][k]))} s = ${f(R[`${k}_over_physical_${n}`]?.value)}×`).join(", ")}`).join("; ") + ".");
    out.push("");
    const v9 = R.validate_9_over_node;
    if (v9) out.push(`- \`pgha validate\` of a 9-node spec: ${f(med(r.baseline.validate_9_nodes))} s against \`node -e 0\` ${f(med(r.baseline.node_empty))} s = ${f(v9.value)}× (target ≤ 2×): ${v9.met ? "met" : "missed"}; \`pgha --help\` (Node plus the CLI's own modules, no work) ${f(floor)} s.`);
    for (const n of limitSizes) {
      const ph = medianPhases(S[n].noop_apply).sort((a, b) => b.s - a.s);
      if (ph.length) out.push(`- Where a no-op apply's ${f(med(S[n].noop_apply))} s go at ${n} nodes (median per phase): ${ph.map((q) => `${q.phase} ${f(q.s)} s`).join("; ")}. The physical limit is one of these rounds: a connection and one command per host.`);
      const steps = S[n].noop_profile?.steps;
      if (steps) {
        const ms = Object.entries(steps);
        const local = ms.filter(([k]) => !/handshakes|facts command/.test(k)).reduce((x, [, v]) => x + v, 0);
        const remote = ms.filter(([k]) => /handshakes|facts command/.test(k)).reduce((x, [, v]) => x + v, 0);
        const nodeStart = med(r.baseline?.node_empty) * 1000;
        out.push(`- The same no-op step by step in one process (bench/noop-profile.mjs, ${n} nodes, ms): ${ms.map(([k, v]) => `${k} ${f(v, 0)}`).join("; ")}. Work on this machine (Node's start-up ${f(nodeStart, 0)} ms, then module loading, parsing, rendering) comes to about ${f(local + nodeStart, 0)} ms, the SSH handshakes and the one command per host to ${f(remote, 0)} ms, against ${f(med(S[n].physical_limit) * 1000, 0)} ms for the whole physical limit. At 1.5× the limit pgha has ${f(1.5 * med(S[n].physical_limit) * 1000, 0)} ms; the handshakes and the command take ${f(remote, 0)} ms of them, which leaves ${f(1.5 * med(S[n].physical_limit) * 1000 - remote, 0)} ms for Node's start-up and all local work. The largest local steps: ${ms.filter(([k]) => !/handshakes|facts command/.test(k)).sort((a, b) => b[1] - a[1]).slice(0, 3).map(([k, v]) => `${k} ${f(v, 0)}`).join(", ")} (this profile imports dist/'s modules one by one; the CLI loads them from a bundle with a code cache, so its load steps are upper bounds). The tasks after the facts (crm_predict's CIB comparison, one round trip on one node, included) take ${f(medianPhases(S[n].noop_apply).filter((q) => !q.phase.startsWith("(")).reduce((x, q) => x + q.s, 0))} s.`);
      }
    }
    const names = [...new Set(limitSizes.flatMap((n) => Object.keys(S[n].compare ?? {})))];
    for (const name of names) {
      const parts = limitSizes.filter((n) => S[n].compare?.[name]).map((n) => {
        const c = S[n].compare[name];
        return `${n} nodes: ${cmds.map(([k, l]) => `${l} ${f(med(c[k]))} → ${f(med(S[n][k]))} s (${f(R[`info_${name}_${k}_over_physical_${n}`]?.value)}× → ${f(R[`${k}_over_physical_${n}`]?.value)}×)`).join(", ")}`;
      });
      const v = r.baseline?.compare?.[name]?.validate_9_nodes;
      out.push(`- Build \`${name}\` (${S[limitSizes[0]].compare?.[name]?.bin ?? r.baseline?.compare?.[name]?.bin}) against this one, in the same samples: ${parts.join("; ")}${v ? `; validate of 9 nodes ${f(med(v))} → ${f(med(r.baseline.validate_9_nodes))} s` : ""}.`);
    }
    out.push("");
  }

  // 1. no-op against Ansible, 3 nodes.
  const x = R.ansible_noop_over_pgha_noop_3;
  if (x) {
    const p = S[3].noop_apply;
    const ph = medianPhases(p).sort((a, b) => b.s - a.s);
    const rt = S[3].round_trips;
    out.push(`**pgha no-op vs Ansible no-op, 3 nodes: ${f(x.value, 1)}× (target ≥ 10×): ${x.met ? "met" : "missed"}.** ` +
      `pgha ${f(med(p))} s (CPU ${f(p.cpu_s?.median)} s), Ansible ${f(med(S[3].ansible_noop))} s with facts and ${f(med(S[3].ansible_noop_no_facts))} s without ` +
      `(${f(R.ansible_noop_no_facts_over_pgha_noop_3?.value, 1)}×).`);
    if (!x.met) {
      out.push("");
      out.push(`- For 10× pgha would have to finish a no-op in ${f(med(S[3].ansible_noop) / 10)} s. The CLI's start-up alone (\`pgha --help\`: Node plus pgha's imports) takes ${f(floor)} s of that.`);
      out.push(`- Where pgha's ${f(med(p))} s go (median per phase): ${ph.map((q) => `${q.phase} ${f(q.s)} s`).join("; ")}.`);
      if (rt) {
        out.push(`- Remote commands per host: pgha ${avg(perHost(rt.pgha_noop_traced)).toFixed(1)} traced (+1 facts; +2 on one or two nodes for the status table) over one SSH connection per host; Ansible ${avg(perHost(rt.ansible_noop_facts)).toFixed(1)} ssh invocations per host with facts, ${avg(perHost(rt.ansible_noop_no_facts)).toFixed(1)} without (over ControlMaster sockets). pgha's round trips are few; its time is in what the commands wait for on hosts that share the machine's CPUs (see the phases) and in start-up, not in the number of round trips.`);
        const cmds = rt.pgha_noop_verbose_commands ?? [];
        if (cmds.length) out.push(`- The traced commands of a verbose no-op (seconds since start): ${cmds.slice(0, 40).map((c) => `\`${c.replace(/`/g, "'").slice(0, 110)}\``).join(", ")}.`);
      }
    }
    out.push("");
  }

  // 2. 5 nodes against 2 nodes.
  const y = R.pgha_noop_5_over_2;
  if (y) {
    const p2 = S[2].noop_apply;
    const p5 = S[5].noop_apply;
    out.push(`**pgha no-op, 5 nodes vs 2 nodes: ${f(y.value)}× (target ≤ 1.5×): ${y.met ? "met" : "missed"}.** ${f(med(p2))} s → ${f(med(p5))} s; pgha's CPU ${f(p2.cpu_s?.median)} s → ${f(p5.cpu_s?.median)} s${R.ansible_noop_5_over_2 ? `; Ansible's no-op ${f(med(S[2].ansible_noop))} s → ${f(med(S[5].ansible_noop))} s (${f(R.ansible_noop_5_over_2.value)}×)` : ""}.`);
    const a = new Map(medianPhases(p2).map((q) => [q.phase, q.s]));
    const b = medianPhases(p5);
    const grow = b.filter((q) => q.s >= 0.01 || (a.get(q.phase) ?? 0) >= 0.01).map((q) => ({ phase: q.phase, d: q.s - (a.get(q.phase) ?? 0), s2: a.get(q.phase), s5: q.s })).sort((m, n) => n.d - m.d);
    out.push("");
    out.push(`- Per phase, 2 → 5 nodes: ${grow.map((g) => `${g.phase} ${f(g.s2)} → ${f(g.s5)} s`).join("; ")}.`);
    const rt2 = S[2].round_trips;
    const rt5 = S[5].round_trips;
    const t2 = S[2].remote_command_costs?.true?.wall_s?.median;
    const t5 = S[5].remote_command_costs?.true?.wall_s?.median;
    if (t2 && t5) {
      out.push(`- The machine itself is slower per command with more hosts up: a bare \`true\` inside a lab host takes ${f(t2 * 1000, 1)} ms with 2 hosts and ${f(t5 * 1000, 1)} ms with 5 (${f(t5 / t2, 1)}×), because every host's corosync, Pacemaker, monitors and PostgreSQL share the same ${r.machine.nproc} CPUs${S[2].background_cpus && S[5].background_cpus ? ` (the idle cluster alone keeps ${f(S[2].background_cpus.busy_cpus)} CPUs busy with 2 hosts and ${f(S[5].background_cpus.busy_cpus)} with 5, in bursts when the monitors run)` : ""}. The start phase is where that shows: each host's facts script starts about seven programs, the ${r.machine.nproc} CPUs run them for all hosts at once, and the SSH handshakes (sshd on each host, one Node thread here) queue the same way. On a real cluster every node brings its own CPUs, so the hosts' share would not grow with the node count; what pgha adds per node is one connection and one facts command, run concurrently.`);
    }
    const per = (o) => Object.entries(o).map(([h, c]) => `${h} ${c}`).join(", ");
    if (rt2 && rt5) out.push(`- The commands themselves do not grow with the nodes: a traced no-op runs ${per(rt2.pgha_noop_traced)} (2 nodes) and ${per(rt5.pgha_noop_traced)} (5 nodes), plus one facts command per host, all hosts at once. What grows is the time each command takes on hosts that all share ${r.machine.nproc} CPUs (each lab host runs corosync, Pacemaker and PostgreSQL on the same machine as pgha).`);
    out.push("");
  }

  // 3. pgha's own time in the initial build.
  const builds = Object.keys(S).filter((n) => S[n].initial_build?.pgha_cpu_share !== undefined);
  if (builds.length) {
    const parts = builds.map((n) => {
      const b = S[n].initial_build;
      return `${n} nodes ${f(b.cpu_s.median)} s of ${f(b.wall_s.median)} s = ${(b.pgha_cpu_share * 100).toFixed(1)} %`;
    });
    const all = builds.every((n) => S[n].initial_build.pgha_cpu_share < 0.1);
    out.push(`**pgha's own time in the initial build (target < 10 %): ${all ? "met" : "missed"}.** pgha's CPU (user+sys, Node start-up included) against wall time: ${parts.join("; ")}. The rest is waiting on the hosts: initdb, pg_basebackup, Pacemaker starting, quorum, the crm load and promotion (see the phase table).`);
    out.push("");
  }
  return out;
}

// What Pacemaker did, from its own log: the DC's scheduler logs each transition's actions
// ("Actions: Restart vip-master ( pg1 )  due to ...") before it runs them. The issue-18 tests compare
// them with what pgha predicted from crm_simulate.
import { onHost } from "./pgha-helpers.js";

const LOG = "/var/log/pacemaker/pacemaker.log";

/** One action as both sides can say it: verb, resource without its clone instance, node (and where a move goes). */
export interface DoneAction {
  action: string;
  resource: string;
  node: string;
  to?: string;
}

/** Each host's log length now: what is logged after it belongs to the change that follows. */
export const logMarks = (hosts: string[]): Record<string, number> => Object.fromEntries(hosts.map((h) => [h, Number(onHost(h, `wc -l < ${LOG} 2>/dev/null || echo 0`).trim())]));

/**
 * The resource actions of each transition the scheduler calculated after `marks`, oldest first. A transition
 * ends with its "Calculated transition N" line; one without actions is an empty list.
 */
export function loggedTransitions(marks: Record<string, number>): DoneAction[][] {
  const out: DoneAction[][] = [];
  for (const [h, from] of Object.entries(marks)) {
    let current: DoneAction[] = [];
    for (const line of onHost(h, `tail -n +${from + 1} ${LOG}`).split("\n")) {
      if (!line.includes("pacemaker-schedulerd")) continue;
      const a = /Actions: (\w+)\s+(\S+)\s+\(\s*(.*?)\s*\)/.exec(line);
      if (a) {
        const inside = a[3]!;
        const move = /^(\S+) -> (\S+)$/.exec(inside);
        current.push({ action: a[1]!.toLowerCase(), resource: a[2]!.replace(/:\d+$/, ""), ...(move ? { node: move[1]!, to: move[2]! } : { node: inside.split(/\s+/).at(-1)! }) });
      } else if (/Calculated transition \d+/.test(line)) {
        out.push(current);
        current = [];
      }
    }
  }
  return out;
}

/** Actions as sorted strings, to compare a prediction with the log. */
export const actionKeys = (acts: { action: string; resource?: string; node?: string; to?: string }[]) => acts.map((a) => `${a.action} ${a.resource ?? ""} ${a.node ?? ""}${a.to ? ` -> ${a.to}` : ""}`).sort();

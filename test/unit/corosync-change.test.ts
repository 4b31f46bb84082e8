// Which corosync.conf changes a reload (corosync-cfgtool -R) applies, and which need a coordinated restart.
import { describe, expect, it } from "vitest";
import { classifyCorosyncChange, flattenCorosync } from "../../src/corosync-change.js";
import { renderExample } from "./helpers.js";

const { rendered } = renderExample("sr-pgsql-2node");
const conf = rendered.files.find((f) => f.node === "pg1" && f.path === "/etc/corosync/corosync.conf")!.content;

describe("flattenCorosync", () => {
  it("names repeated sections by linknumber and nodeid", () => {
    const flat = flattenCorosync(conf);
    expect(flat.get("totem.cluster_name")).toBe("pgcluster");
    expect(flat.get("totem.interface[1].linknumber")).toBe("1");
    expect(flat.get("nodelist.node[2].ring1_addr")).toBe("10.117.2.12");
    expect(flat.get("quorum.two_node")).toBe("1");
  });

  it("ignores comments and blank lines", () => {
    expect(flattenCorosync(`# x\ntotem {\n  token: 3000 # ms\n\n}\n`)).toEqual(new Map([["totem.token", "3000"]]));
  });
});

describe("classifyCorosyncChange", () => {
  it("finds nothing to do when only comments differ", () => {
    expect(classifyCorosyncChange(conf, `# hand-edited\n${conf}`)).toEqual({ apply: "none", changed: [], needRestart: [] });
  });

  it("reloads a totem timing change", () => {
    const r = classifyCorosyncChange(conf, conf.replace("token: 3000", "token: 5000"));
    expect(r).toEqual({ apply: "reload", changed: ["totem.token"], needRestart: [] });
  });

  it("reloads a logging change and a new key", () => {
    const r = classifyCorosyncChange(conf, conf.replace("debug: off", "debug: on").replace("token: 3000", "token: 3000\n    consensus: 3600"));
    expect(r.apply).toBe("reload");
    expect(r.changed).toEqual(["logging.debug", "totem.consensus"]);
  });

  it("restarts for the cluster name, the transport and crypto", () => {
    expect(classifyCorosyncChange(conf, conf.replace("cluster_name: pgcluster", "cluster_name: other")).needRestart).toEqual(["totem.cluster_name"]);
    expect(classifyCorosyncChange(conf, conf.replace("crypto_cipher: aes256", "crypto_cipher: aes128")).apply).toBe("restart");
    expect(classifyCorosyncChange(conf, conf.replace("transport: knet", "transport: udpu")).apply).toBe("restart");
  });

  it("restarts when an existing node's link address changes", () => {
    const r = classifyCorosyncChange(conf, conf.replace("ring1_addr: 10.117.2.12", "ring1_addr: 10.117.2.22"));
    expect(r).toEqual({ apply: "restart", changed: ["nodelist.node[2].ring1_addr"], needRestart: ["nodelist.node[2].ring1_addr"] });
  });

  it("reloads when a whole node is added or removed (corosync.conf(5)'s procedure)", () => {
    const added = conf.replace(/nodelist \{\n/, "nodelist {\n    node {\n        name: pg3\n        nodeid: 3\n        ring0_addr: 10.117.1.13\n    }\n");
    const r = classifyCorosyncChange(conf, added);
    expect(r.apply).toBe("reload");
    expect(r.changed).toEqual(["nodelist.node[3].name", "nodelist.node[3].nodeid", "nodelist.node[3].ring0_addr"]);
    expect(classifyCorosyncChange(added, conf).apply).toBe("reload");
  });
});

// The part of ssh2's Client that transport.ts uses (ssh2 ships no types; @types/ssh2 is not a dependency).
declare module "ssh2" {
  import type { EventEmitter } from "node:events";
  import type { Duplex, Readable } from "node:stream";

  export interface ClientChannel extends Duplex {
    stderr: Readable;
  }

  export interface ConnectConfig {
    host: string;
    port: number;
    username: string;
    privateKey?: Buffer;
    readyTimeout?: number;
    keepaliveInterval?: number;
    keepaliveCountMax?: number;
    hostVerifier?: (key: Buffer) => boolean;
  }

  export class Client extends EventEmitter {
    connect(config: ConnectConfig): this;
    exec(command: string, callback: (err: Error | undefined, channel: ClientChannel) => void): boolean;
    end(): this;
  }
}

/** POSIX single-quoting for commands run by a remote shell. */
export const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

// What the core has to tell a person (a record it could not write, a leftover it killed), as
// events: the edge decides how they are worded on the terminal. The core never prints.

export type NoticeLevel = "debug" | "info" | "warn" | "error";

export type NoticeSink = (level: NoticeLevel, message: string) => void;

let _sink: NoticeSink = () => {};

/** The edge (the CLI's logger) installs where notices go; until then they are dropped. */
export function setNoticeSink(sink: NoticeSink): void {
  _sink = sink;
}

export const notice = {
  debug: (message: string) => _sink("debug", message),
  info: (message: string) => _sink("info", message),
  warn: (message: string) => _sink("warn", message),
  error: (message: string) => _sink("error", message),
};

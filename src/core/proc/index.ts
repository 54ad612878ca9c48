// proc/'s public face: what the rest of sep may use of the process tree, its memory and killing.
export { killTree, reapOrphans, terminateTree, type Signal, type TerminateOptions, type TerminateResult } from "./kill.ts";
export { pageSize } from "./linux.ts";
export { parsePss, parseStat, parseStatm, type ProcStat } from "./parse.ts";
export { commandOf, processStartTime, readStat } from "./reader.ts";
export {
  descendants,
  findByMarker,
  isAlive,
  isSameProcess,
  ownStartTime,
  processesInGroup,
  treeMemory,
  treePss,
  type ProcessMemory,
  type TreeMemory,
} from "./tree.ts";

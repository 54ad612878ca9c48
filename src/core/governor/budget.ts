// The machine's memory and the governor's budget: /proc/meminfo, the memory limit of the cgroup sep
// runs in (v1 or v2, tightest ancestor), and the arithmetic of DESIGN §9 as pure functions.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ResolvedConfig } from "../../config.ts";

export const MB = 1024 * 1024;
/** reserve `auto`: this share of the memory… */
const AUTO_RESERVE_SHARE = 0.1;
/** …but at least this much */
const AUTO_RESERVE_MIN_BYTES = 512 * MB;
/** the smallest budget `auto` gives (0 must only ever mean "governor off") */
export const MIN_BUDGET_BYTES = 64 * MB;
/**
 * cgroup v1 writes "no limit" as PAGE_COUNTER_MAX pages, 2^63 − 1 rounded down to a page
 * (9223372036854771712 with 4 KiB pages); anything this large is no limit.
 */
const V1_NO_LIMIT_BYTES = 2 ** 62;

/** What the machine has, as sep sees it. All in bytes. */
export interface MachineMemory {
  /** MemTotal */
  totalBytes: number;
  /** MemAvailable: what can be allocated without swapping (free + reclaimable cache) */
  memAvailableBytes: number;
  /** the tightest memory limit of sep's cgroup and its ancestors; null = none */
  cgroupLimitBytes: number | null;
  /** the least room left under any limited level (limit − usage, page cache not counted); null = no limit */
  cgroupFreeBytes: number | null;
}

export interface Budget {
  /** what all admitted jobs may reserve together; 0 = no governor (callers skip the gate) */
  budgetBytes: number;
  /** kept free for everything that is not a sep job */
  reserveBytes: number;
  totalBytes: number;
  cgroupLimitBytes: number | null;
  /** the memory the budget is cut from: MemTotal, or the cgroup limit when that is lower */
  memoryBytes: number;
  /** memory free right now (see availableBytes) */
  availableBytes: number;
  /** a short sentence saying where the budget came from: `auto: cgroup limit 4.0 GB − reserve 512 MB` */
  why: string;
}

// ---------------------------------------------------------------------------------------------
// Pure parsers

/** MemTotal and MemAvailable from /proc/meminfo text (kB lines). Missing MemAvailable (kernel < 3.14): MemFree. */
export function parseMeminfo(text: string): { totalBytes: number; memAvailableBytes: number } {
  const field = (name: string) => {
    const match = new RegExp(`^${name}:\\s+(\\d+)\\s*kB`, "m").exec(text);
    return match ? Number(match[1]) * 1024 : undefined;
  };
  const totalBytes = field("MemTotal") ?? 0;
  return { totalBytes, memAvailableBytes: field("MemAvailable") ?? field("MemFree") ?? 0 };
}

/** A memory limit file's text: bytes, or null for "max" (v2), a v1 "unlimited" value, or junk. */
export function parseLimit(text: string): number | null {
  const value = text.trim();
  if (value === "max" || !/^\d+$/.test(value)) return null;
  const bytes = Number(value);
  return bytes >= V1_NO_LIMIT_BYTES ? null : bytes;
}

/** `inactive_file` (v2) or `total_inactive_file` (v1) from memory.stat: page cache the kernel drops first. */
export function parseInactiveFile(statText: string): number {
  const match = /^(?:total_)?inactive_file (\d+)$/m.exec(statText);
  return match ? Number(match[1]) : 0;
}

export interface CgroupMemoryDir {
  version: 1 | 2;
  /** the directory holding memory.max / memory.limit_in_bytes */
  dir: string;
}

/**
 * The memory-controller directories of sep's cgroup and all its ancestors, leaf first, from
 * /proc/self/cgroup and /proc/self/mountinfo. A v1 hierarchy that lists `memory`, and the v2 one
 * (`0::/path`), each under its mount point; a mount whose root is not `/` (a container given its
 * own sub-tree) is allowed for. With no mountinfo, the usual mount points are assumed. Pure.
 */
export function cgroupMemoryDirs(procSelfCgroup: string, mountinfo?: string): CgroupMemoryDir[] {
  const mounts = _cgroupMounts(mountinfo);
  const found: CgroupMemoryDir[] = [];
  for (const line of procSelfCgroup.split("\n")) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!match) continue;
    const [, id, controllers, path] = match as unknown as [string, string, string, string];
    const version = id === "0" && controllers === "" ? 2 : controllers.split(",").includes("memory") ? 1 : undefined;
    if (!version) continue;
    const mount = (version === 2 ? mounts.v2 : mounts.v1Memory) ?? {
      point: version === 2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory",
      root: "/",
    };
    // A path outside the mount's root (another cgroup namespace) cannot be reached: the mount itself.
    let relative = path;
    if (mount.root !== "/") relative = path === mount.root || path.startsWith(`${mount.root}/`) ? path.slice(mount.root.length) : "/";
    const parts = relative.split("/").filter(Boolean);
    for (let depth = parts.length; depth >= 0; depth--) {
      found.push({ version, dir: join(mount.point, ...parts.slice(0, depth)) });
    }
  }
  return found;
}

function _cgroupMounts(mountinfo: string | undefined): { v2?: { point: string; root: string }; v1Memory?: { point: string; root: string } } {
  const mounts: { v2?: { point: string; root: string }; v1Memory?: { point: string; root: string } } = {};
  if (mountinfo === undefined) return mounts;
  for (const line of mountinfo.split("\n")) {
    // id parent major:minor root mount-point options [optional…] - fstype source super-options
    const [left, right] = line.split(" - ");
    if (!left || !right) continue;
    const fields = left.split(" ");
    const [fstype, , superOptions = ""] = right.split(" ");
    const root = _unescapeMount(fields[3] ?? "/");
    const point = _unescapeMount(fields[4] ?? "");
    if (fstype === "cgroup2") mounts.v2 ??= { point, root };
    else if (fstype === "cgroup" && superOptions.split(",").includes("memory")) mounts.v1Memory ??= { point, root };
  }
  return mounts;
}

/** mountinfo writes space, tab, newline and backslash in paths as \040-style octal escapes. */
function _unescapeMount(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/** One level's figures, in bytes; limitBytes null = no limit at that level. */
export interface CgroupLevel {
  limitBytes: number | null;
  usageBytes: number;
  inactiveFileBytes: number;
}

/**
 * The tightest limit over sep's cgroup and its ancestors (each level's limit applies to everything
 * below it), and the least room left under any of them: limit − (usage − inactive page cache),
 * since the kernel reclaims inactive cache before it counts a cgroup as full. Pure.
 */
export function cgroupLimit(levels: readonly CgroupLevel[]): { limitBytes: number | null; freeBytes: number | null } {
  let limitBytes: number | null = null;
  let freeBytes: number | null = null;
  for (const level of levels) {
    if (level.limitBytes === null) continue;
    limitBytes = limitBytes === null ? level.limitBytes : Math.min(limitBytes, level.limitBytes);
    const free = Math.max(0, level.limitBytes - Math.max(0, level.usageBytes - level.inactiveFileBytes));
    freeBytes = freeBytes === null ? free : Math.min(freeBytes, free);
  }
  return { limitBytes, freeBytes };
}

// ---------------------------------------------------------------------------------------------
// The arithmetic

/** Memory free right now: MemAvailable, or under a cgroup limit the room left there when that is less. */
export function availableBytes(memory: MachineMemory): number {
  return memory.cgroupFreeBytes === null ? memory.memAvailableBytes : Math.min(memory.memAvailableBytes, memory.cgroupFreeBytes);
}

/**
 * The budget and reserve of DESIGN §9, from the settings (MB, or "auto") and the machine. Pure.
 *   memory  = min(MemTotal, cgroup limit)
 *   reserve = auto: 10 % of memory, at least 512 MB, but never more than half of memory (a 768 MB
 *             container would otherwise keep 512 MB for itself and give jobs 256); or the MB given
 *   budget  = auto: memory − reserve, at least MIN_BUDGET_BYTES (auto never means "off"); a number:
 *             that many MB; 0: off
 */
export function computeBudget(settings: { budgetMb: "auto" | number; reserveMb: "auto" | number }, memory: MachineMemory): Budget {
  const limited = memory.cgroupLimitBytes !== null && memory.cgroupLimitBytes < memory.totalBytes;
  const memoryBytes = limited ? (memory.cgroupLimitBytes as number) : memory.totalBytes;
  const memoryWords = limited ? `cgroup limit ${_size(memoryBytes)}` : `MemTotal ${_size(memoryBytes)}`;
  const reserveBytes =
    settings.reserveMb === "auto"
      ? Math.min(Math.max(AUTO_RESERVE_MIN_BYTES, Math.round(memoryBytes * AUTO_RESERVE_SHARE)), Math.floor(memoryBytes / 2))
      : settings.reserveMb * MB;
  let budgetBytes: number;
  let why: string;
  if (settings.budgetMb === 0) {
    budgetBytes = 0;
    why = "off (memoryBudgetMb 0)";
  } else if (settings.budgetMb === "auto") {
    budgetBytes = Math.max(MIN_BUDGET_BYTES, memoryBytes - reserveBytes);
    why = `auto: ${memoryWords} − reserve ${_size(reserveBytes)}`;
    if (memoryBytes - reserveBytes < MIN_BUDGET_BYTES) why += ` (raised to the minimum ${_size(MIN_BUDGET_BYTES)})`;
  } else {
    // Taken as given, even when tiny: a budget smaller than every job makes each one run alone.
    budgetBytes = settings.budgetMb * MB;
    why = `memoryBudgetMb ${settings.budgetMb}`;
  }
  return {
    budgetBytes,
    reserveBytes,
    totalBytes: memory.totalBytes,
    cgroupLimitBytes: memory.cgroupLimitBytes,
    memoryBytes,
    availableBytes: availableBytes(memory),
    why,
  };
}

/** Sizes in the words sep uses elsewhere (MiB written "MB"); core keeps its own copy of the one rule it needs. */
function _size(bytes: number): string {
  if (bytes >= 1024 * MB) return `${(bytes / (1024 * MB)).toFixed(1)} GB`;
  return `${Math.round(bytes / MB)} MB`;
}

// ---------------------------------------------------------------------------------------------
// Reading the machine (thin)

function _readText(path: string): string | undefined {
  try {
    return readFileSync(path, "latin1");
  } catch {
    return undefined;
  }
}

let _dirs: CgroupMemoryDir[] | undefined;

/** sep's cgroup does not change while it runs: its directories are found once. */
function _cgroupDirs(): CgroupMemoryDir[] {
  if (_dirs) return _dirs;
  const cgroup = _readText("/proc/self/cgroup");
  _dirs = cgroup === undefined ? [] : cgroupMemoryDirs(cgroup, _readText("/proc/self/mountinfo"));
  return _dirs;
}

/** When sep's cgroup was last found to have no memory limit at any level. */
let _unlimitedAt = Number.NEGATIVE_INFINITY;
/** A cgroup found unlimited is believed so this long: limits are set once, and a drain asks at every job. */
const UNLIMITED_TTL_MS = 1000;

/** The figures of each limited level of sep's cgroup (read-only; nothing there is ever written). */
export function readCgroupLevels(): CgroupLevel[] {
  if (performance.now() - _unlimitedAt < UNLIMITED_TTL_MS) return [];
  const levels: CgroupLevel[] = [];
  for (const { version, dir } of _cgroupDirs()) {
    const limitText = _readText(join(dir, version === 2 ? "memory.max" : "memory.limit_in_bytes"));
    if (limitText === undefined) continue;
    const limitBytes = parseLimit(limitText);
    if (limitBytes === null) continue;
    const usage = Number((_readText(join(dir, version === 2 ? "memory.current" : "memory.usage_in_bytes")) ?? "0").trim()) || 0;
    levels.push({ limitBytes, usageBytes: usage, inactiveFileBytes: parseInactiveFile(_readText(join(dir, "memory.stat")) ?? "") });
  }
  // A limited cgroup is read afresh every time: its usage is what admission decides on.
  if (levels.length === 0) _unlimitedAt = performance.now();
  return levels;
}

/** MemTotal, MemAvailable and the cgroup limit, now. Off Linux (no /proc): zeros and no limit. */
export function readMachineMemory(): MachineMemory {
  const { totalBytes, memAvailableBytes } = parseMeminfo(_readText("/proc/meminfo") ?? "");
  const { limitBytes, freeBytes } = cgroupLimit(readCgroupLevels());
  return { totalBytes, memAvailableBytes, cgroupLimitBytes: limitBytes, cgroupFreeBytes: freeBytes };
}

/**
 * The governor's budget for this configuration, on this machine now. budgetBytes === 0 means the
 * governor is off: callers then skip the gate and the pressure loop entirely (wave-1 behaviour).
 */
export function resolveBudget(config: Pick<ResolvedConfig, "memoryBudgetMb" | "memoryReserveMb">, memory: MachineMemory = readMachineMemory()): Budget {
  return computeBudget({ budgetMb: config.memoryBudgetMb, reserveMb: config.memoryReserveMb }, memory);
}

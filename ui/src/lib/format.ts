// Pure display formatting. No decisions about data: these only turn the
// numbers and strings the Rust side sends into text.

import type { AgentUsage, SessionView, Signal, State, WaitingFor } from './types';

export const DASH = '—';

const usd2 = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});
const usd4 = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  minimumFractionDigits: 4,
  maximumFractionDigits: 4,
});
const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

function isNum(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** "$1,234.56"; "—" when the cost is unknown (null): never "$0". */
export function formatCost(v: number | null | undefined): string {
  if (!isNum(v)) return DASH;
  if (v > 0 && v < 0.01) return '<$0.01';
  return usd2.format(v);
}

/** Four decimals, for tooltips and per-model detail. */
export function formatCostPrecise(v: number | null | undefined): string {
  if (!isNum(v)) return DASH;
  return usd4.format(v);
}

/**
 * A session's cost cell: "not recorded" where the agent keeps no usage
 * (never "$0"), "≈" before a cost the agent rounded, and in the title the
 * precise figure, where it comes from, and what the core says of it.
 */
export function sessionCost(
  s: Pick<SessionView, 'costUsd' | 'priceSource' | 'unpricedModels' | 'usageKind' | 'usageNote'>,
): { text: string; title: string } {
  const note = s.usageNote ? ` · ${s.usageNote}` : '';
  if (s.usageKind === 'not-recorded') return { text: 'not recorded', title: s.usageNote ?? 'usage not recorded' };
  const unpriced = s.unpricedModels.length ? s.unpricedModels.join(', ') : '';
  if (s.costUsd === null) return { text: DASH, title: 'Unknown price' + (unpriced ? `: ${unpriced}` : '') + note };
  const approx = s.usageKind === 'approximate' ? '≈' : '';
  return {
    text: approx + formatCost(s.costUsd),
    title: `${formatCostPrecise(s.costUsd)}${s.priceSource ? ` · ${s.priceSource}` : ''}${unpriced ? ` · unpriced: ${unpriced}` : ''}${note}`,
  };
}

/**
 * An agent's cost over a period: the figure ("≈" before one the agent
 * rounded), else what the core says of it ("not recorded", "no usage"),
 * never "$0"; in the title where it comes from.
 */
export function agentCost(u: AgentUsage): { text: string; title: string } {
  const unpriced = u.unpricedModels.length ? ` · unpriced: ${u.unpricedModels.join(', ')}` : '';
  if (!isNum(u.costUsd)) return { text: u.provenanceText, title: u.provenanceText + unpriced };
  const approx = u.provenance === 'approximate' ? '≈' : '';
  return {
    text: approx + formatCost(u.costUsd),
    title: `${formatCostPrecise(u.costUsd)} · ${u.provenanceText}${u.priceSource ? ` (${u.priceSource})` : ''}${unpriced}`,
  };
}

/** Like formatCost but spelled out for tables where null means "unknown price". */
export function formatCostOrUnknown(v: number | null | undefined): string {
  return isNum(v) ? formatCost(v) : 'unknown price';
}

export function formatInt(v: number | null | undefined): string {
  return isNum(v) ? int.format(v) : DASH;
}

function compact(v: number, div: number, suffix: string): string {
  const x = v / div;
  const s = x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
  // strip trailing zeros after the decimal point: 1.50 → 1.5, 2.00 → 2
  return s.replace(/\.0+$|(\.\d*?)0+$/, '$1') + suffix;
}

/** 999 · 12.3k · 1.25M · 3.1B */
export function formatTokens(v: number | null | undefined): string {
  if (!isNum(v)) return DASH;
  const a = Math.abs(v);
  if (a < 1000) return int.format(v);
  if (a < 1e6) return compact(v, 1e3, 'k');
  if (a < 1e9) return compact(v, 1e6, 'M');
  return compact(v, 1e9, 'B');
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** 45s · 3m 05s · 2h 05m · 3d 04h */
export function formatDuration(secs: number | null | undefined): string {
  if (!isNum(secs)) return DASH;
  const s = Math.max(0, Math.floor(secs));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${pad2(s % 60)}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${pad2(m % 60)}m`;
  const d = Math.floor(h / 24);
  return `${d}d ${pad2(h % 24)}h`;
}

export function formatMinutes(mins: number | null | undefined): string {
  return isNum(mins) ? formatDuration(mins * 60) : DASH;
}

export function formatBytes(v: number | null | undefined): string {
  if (!isNum(v)) return DASH;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let x = v;
  let i = 0;
  while (Math.abs(x) >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return i === 0 ? `${x} B` : `${x.toFixed(1)} ${units[i]}`;
}

export function formatPercent(v: number | null | undefined, digits = 0): string {
  return isNum(v) ? `${v.toFixed(digits)}%` : DASH;
}

/** Last path component of a project path, for display (POSIX or Windows separators). */
export function projectName(path: string | null | undefined): string {
  if (!path) return DASH;
  const trimmed = path.replace(/[\\/]+$/, '');
  if (trimmed === '') return path;
  const parts = trimmed.split(/[\\/]/);
  return parts[parts.length - 1] || trimmed;
}

export function truncate(s: string | null | undefined, max: number): string {
  if (!s) return DASH;
  const chars = Array.from(s);
  if (chars.length <= max) return s;
  return chars.slice(0, Math.max(1, max - 1)).join('') + '…';
}

export function parseTime(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
}

/** Local "HH:MM:SS". */
export function formatTime(iso: string | null | undefined): string {
  const t = parseTime(iso);
  if (t === null) return DASH;
  const d = new Date(t);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** Local "YYYY-MM-DD HH:MM". */
export function formatDateTime(iso: string | null | undefined): string {
  const t = parseTime(iso);
  if (t === null) return DASH;
  const d = new Date(t);
  return (
    `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ` +
    `${pad2(d.getHours())}:${pad2(d.getMinutes())}`
  );
}

/** A session's display name: its name, else the agent's label. */
export function sessionTitle(s: Pick<SessionView, 'name' | 'agentLabel' | 'agent'>): string {
  return s.name?.trim() || s.agentLabel || s.agent;
}

/**
 * Runtime to show, ticking: the Rust side's durationSeconds, advanced by the
 * wall clock while the session has not ended.
 */
export function runtimeSeconds(
  s: Pick<SessionView, 'startedAt' | 'endedAt' | 'durationSeconds' | 'live'>,
  nowMs: number,
): number {
  if (s.endedAt || !s.live) return s.durationSeconds;
  const start = parseTime(s.startedAt);
  if (start === null) return s.durationSeconds;
  return Math.max(s.durationSeconds, (nowMs - start) / 1000);
}

/** Age of a value the Rust side reported `ageAtFetch` seconds old at `fetchedAtMs`. */
export function tickingAge(ageAtFetch: number | null, fetchedAtMs: number, nowMs: number): number | null {
  if (!isNum(ageAtFetch)) return null;
  return ageAtFetch + Math.max(0, (nowMs - fetchedAtMs) / 1000);
}

export const STATE_LABEL: Record<State, string> = {
  working: 'Working',
  waiting: 'Waiting',
  idle: 'Idle',
  stale: 'Stale',
  dead: 'Dead',
  completed: 'Completed',
  pinned: 'Pinned',
};

/** What a waiting session's badge says when it needs its person. */
export const WAITING_LABEL: Record<WaitingFor, string> = {
  permission: 'Asks permission',
  question: 'Asks a question',
  input: 'Waiting',
};

/** Where a state came from, for people. */
export const SIGNAL_LABEL: Record<Signal, string> = {
  registry: 'the agent’s own status',
  hook: 'a hook',
  transcript: 'the transcript',
  process: 'the process (inferred)',
  mcp: 'MCP',
  otel: 'OpenTelemetry',
};

/** A small glyph per state, so the badge differs by shape as well as colour. */
export const STATE_GLYPH: Record<State, string> = {
  working: '●',
  waiting: '◆',
  idle: '○',
  stale: '◌',
  dead: '✕',
  completed: '✓',
  pinned: '▲',
};

/** Share of a budget spent, clamped to 0..100 for a progress bar. */
export function budgetPercent(spent: number, limit: number | null): number | null {
  if (!isNum(limit) || limit <= 0) return null;
  return Math.min(100, Math.max(0, (spent / limit) * 100));
}

/** Time left until `iso`: "2h 05m", "3d 04h", "<1m"; "—" when unknown or past. */
export function formatCountdown(iso: string | null | undefined, nowMs: number): string {
  const t = parseTime(iso);
  if (t === null || t <= nowMs) return DASH;
  const secs = (t - nowMs) / 1000;
  if (secs < 60) return '<1m';
  const m = Math.floor(secs / 60);
  if (m < 60) return `${m}m`;
  return formatDuration(secs);
}

/** A plan's window for people: "5-hour", "weekly", else its name. */
export function windowLabel(minutes: number, name: string): string {
  if (minutes === 300) return '5-hour';
  if (minutes === 10080) return 'weekly';
  return name;
}

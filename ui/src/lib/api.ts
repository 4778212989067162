// The only module that talks to the Rust side. Every command of
// docs/desktop-ipc.md has one typed function here; components never call
// `invoke`/`listen` directly.

import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import {
  EVENT_NAME,
  type AgentView,
  type Block,
  type CostRange,
  type CostSummary,
  type HistoryArgs,
  type InstallAgent,
  type InstallOption,
  type InstallPreview,
  type InstallTarget,
  type LimitsReport,
  type LiveEvent,
  type SessionDetail,
  type SessionFilter,
  type SessionView,
  type Settings,
  type TranscriptTail,
} from './types';

export * from './types';

/** Drop keys whose value is undefined, so optional arguments are omitted. */
function defined<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}

/** Errors reject with a one-line string; normalise anything else to one. */
export function errorMessage(e: unknown): string {
  if (typeof e === 'string') return e;
  if (e instanceof Error) return e.message;
  try {
    return JSON.stringify(e);
  } catch {
    return String(e);
  }
}

export const api = {
  listSessions: (filter: SessionFilter) =>
    invoke<{ sessions: SessionView[] }>('list_sessions', { filter: defined(filter) }),

  history: (args: HistoryArgs) =>
    invoke<{ sessions: SessionView[]; total: number }>('history', defined({ ...args })),

  getSession: (id: string) => invoke<SessionDetail>('get_session', { id }),

  transcriptTail: (id: string, lines?: number) =>
    invoke<TranscriptTail>('transcript_tail', defined({ id, lines })),

  killSession: (id: string) => invoke<{ ok: boolean; message: string }>('kill_session', { id }),

  clearCompleted: () => invoke<{ archived: number }>('clear_completed'),

  costSummary: (range: CostRange) => invoke<CostSummary>('cost_summary', { range }),

  costBlocks: () => invoke<{ blocks: Block[] }>('cost_blocks'),

  limits: () => invoke<LimitsReport>('limits'),

  agents: () => invoke<{ agents: AgentView[] }>('agents'),

  getSettings: () => invoke<Settings>('get_settings'),

  saveSettings: (settings: Settings) => invoke<Settings>('save_settings', { settings }),

  installOptions: () => invoke<{ options: InstallOption[] }>('install_options'),

  installPreview: (target: InstallTarget, agent: InstallAgent, uninstall: boolean) =>
    invoke<InstallPreview>('install_preview', { target, agent, uninstall }),

  installApply: (target: InstallTarget, agent: InstallAgent, uninstall: boolean) =>
    invoke<{ message: string }>('install_apply', { target, agent, uninstall }),

  openSessionWindow: (id: string) => invoke<null>('open_session_window', { id }),
};

/** Subscribe to the single live event stream. Resolves to an unsubscribe function. */
export function onLiveEvent(handler: (ev: LiveEvent) => void): Promise<() => void> {
  return listen<LiveEvent>(EVENT_NAME, (e) => handler(e.payload));
}

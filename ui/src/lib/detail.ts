// Pure helpers of the session detail view.

import { parseTime } from './format';
import type { ToolCall } from './types';

/**
 * Merge a fresh `get_session` tool-call list (authoritative, newest last)
 * with calls appended locally from tool.call events: local calls newer than
 * the newest fetched one are kept after it, so a call whose event arrived
 * while the fetch was in flight is not dropped. At most `max` are kept.
 */
export function mergeToolCalls(fetched: ToolCall[], local: ToolCall[], max: number): ToolCall[] {
  const lastFetched = fetched.length ? parseTime(fetched[fetched.length - 1].at) : null;
  const newer =
    lastFetched === null
      ? local
      : local.filter((c) => {
          const t = parseTime(c.at);
          return t !== null && t > lastFetched;
        });
  const out = [...fetched, ...newer];
  return out.length > max ? out.slice(out.length - max) : out;
}

// agentwatch: tells agentwatch where this OpenCode session stands.
// Installed by `agentwatch hooks install --agent opencode`, removed by
// `agentwatch hooks uninstall --agent opencode`. It never holds OpenCode up:
// each event starts `agentwatch hook` without waiting for it, one at a time
// and in order, and any failure is ignored.
const COMMAND = __AGENTWATCH_COMMAND__;
const EVENTS = new Set([
  "session.created", "session.status", "session.idle", "session.error", "session.deleted",
  "permission.asked", "permission.replied", "question.asked", "question.replied", "question.rejected",
]);
let queue = Promise.resolve();

export const Agentwatch = async ({ directory }) => ({
  event: async ({ event }) => {
    if (!event || !EVENTS.has(event.type)) return;
    const payload = JSON.stringify({ event: event.type, properties: event.properties, pid: process.pid, directory });
    queue = queue
      .then(() => Bun.spawn([...COMMAND, payload], { stdin: "ignore", stdout: "ignore", stderr: "ignore" }).exited)
      .catch(() => {});
  },
});

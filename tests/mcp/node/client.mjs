// A real MCP client on the official TypeScript SDK (npm
// @modelcontextprotocol/sdk, pinned in package.json), named "cursor".
//
//   node client.mjs stdio <server command> [args...]   through a stdio server
//       (tests/cli/proxy.rs: the test server, directly or through
//       `agentwatch mcp-proxy`); calls echo, add and fail.
//   node client.mjs http <url> <token>                 against agentwatch's /mcp
//       (tests/cli/mcp.rs); registers a session and lists sessions.
//
// Prints what it got back as JSON (over HTTP, with the protocol version it
// spoke).
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const [mode, ...rest] = process.argv.slice(2);
const client = new Client({ name: 'cursor', version: '1.7.0' });
const text = (r) => r.content.filter((c) => c.type === 'text').map((c) => c.text);
const out = {};

if (mode === 'stdio') {
  const [command, ...args] = rest;
  await client.connect(new StdioClientTransport({ command, args, env: process.env }));
  out.tools = (await client.listTools()).tools.map((t) => t.name).sort();
  out.calls = [];
  for (const [name, args] of [
    ['echo', { text: 'héllo ✓' }],
    ['add', { a: 2, b: 40 }],
    ['fail', { reason: 'test' }],
  ]) {
    const r = await client.callTool({ name, arguments: args });
    out.calls.push({ tool: name, isError: r.isError ?? false, content: text(r) });
  }
} else if (mode === 'http') {
  const [url, token] = rest;
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  await client.connect(transport);
  out.protocol = transport.protocolVersion ?? null;
  out.tools = (await client.listTools()).tools.map((t) => t.name).sort();
  const created = await client.callTool({
    name: 'create_session',
    arguments: { name: 'npm sdk', projectName: '/home/u/npm-app' },
  });
  out.created = JSON.parse(text(created)[0]);
  const listed = await client.callTool({ name: 'list_sessions', arguments: {} });
  out.listed = JSON.parse(text(listed)[0]);
} else {
  console.error('usage: client.mjs stdio <command...> | http <url> <token>');
  process.exit(2);
}
await client.close();
console.log(JSON.stringify(out));

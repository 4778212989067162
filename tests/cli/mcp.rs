//! The MCP server at /mcp, driven by a real MCP client (the PyPI `mcp` SDK).

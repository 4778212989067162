"""A small real MCP server (stdio), for the mcp-proxy tests: with PyPI `mcp`
1.x (FastMCP) or 2.x (MCPServer, which also speaks protocol 2026-07-28)."""
try:
    from mcp.server.fastmcp import FastMCP
except ModuleNotFoundError:  # mcp 2.x
    from mcp.server.mcpserver import MCPServer as FastMCP

mcp = FastMCP("agentwatch-test-server")


@mcp.tool()
def echo(text: str) -> str:
    """Returns the text as given."""
    return text


@mcp.tool()
def add(a: int, b: int) -> int:
    """Adds two numbers."""
    return a + b


@mcp.tool()
def fail(reason: str) -> str:
    """Always fails."""
    raise ValueError(f"failed on purpose: {reason}")


if __name__ == "__main__":
    mcp.run("stdio")

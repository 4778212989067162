"""A small real MCP server (stdio), for the mcp-proxy tests."""
from mcp.server.fastmcp import FastMCP

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

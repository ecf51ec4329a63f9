"""The Retouch MCP server (issue 22): tools over the Retouch HTTP API, image calls as tasks of the MCP tasks extension,
and a per-call spend guard. Deployed as the mcp function (Streamable HTTP) and as `retouch-mcp` (stdio);
docs/mcp.md."""

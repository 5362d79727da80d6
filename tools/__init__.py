"""The agent's tools: each a pure core function plus a thin LangChain tool around it."""

"""The tutor's LangGraph agent: context, state, prompts, tools and the graph that wires them."""

"""llm-tutor: a conversational tutor for the LLMs and Transformers roadmap."""

__version__ = "0.1.0"

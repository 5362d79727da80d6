"""Offline hybrid search over the curriculum: heading-aware chunks, MiniLM (ONNX) + BM25, fused by RRF."""

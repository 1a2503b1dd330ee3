"""Documents: the per-account vault, text extraction and chunking, the RAG store, retrieval."""

from assets.documents.assets import rag_store_chunks, store_vectors_match_chunks

__all__ = ["rag_store_chunks", "store_vectors_match_chunks"]

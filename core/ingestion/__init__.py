"""File and record ingestion: formats, encodings, typed values, and the one write path."""

from core.ingestion.formats import FORMATS, detect_format, parse_file
from core.ingestion.pipeline import IngestionResult, ingest_file, ingest_records

__all__ = ["FORMATS", "IngestionResult", "detect_format", "ingest_file", "ingest_records", "parse_file"]
